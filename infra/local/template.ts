/**
 * The template's queues and queue triggers, read from infra/queues.yml and infra/functions.yml, so that the local
 * SQS of `npm start` and the tests names and wires its queues exactly as a deployment would: nothing to keep in sync.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, type Tags } from 'yaml';
import { ROOT } from './command';

/** One queue of the template, for a given service and stage. */
export interface TemplateQueue {
  /** CloudFormation logical ID, e.g. CreateGroupQueue. */
  logicalId: string;
  /** QueueName with `${self:service}` and `${sls:stage}` filled in. */
  name: string;
  /** The logical ID of its dead-letter queue and the receives before a message moves there (RedrivePolicy). */
  redrive?: { deadLetterLogicalId: string; maxReceiveCount: number };
}

/** A function fed by a queue through an event source mapping. */
export interface QueueTrigger {
  /** serverless function key, e.g. createGroupQueue. */
  functionKey: string;
  /** The logical ID of the queue it consumes. */
  queueLogicalId: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
}

/** CloudFormation short forms as plain objects (`!GetAtt A.Arn` becomes `{ 'Fn::GetAtt': ['A', 'Arn'] }`). */
const cloudFormationTags: Tags = [
  { tag: '!GetAtt', resolve: (value: string) => ({ 'Fn::GetAtt': value.split('.') }) },
  { tag: '!Ref', resolve: (value: string) => ({ Ref: value }) },
  { tag: '!Sub', resolve: (value: string) => ({ 'Fn::Sub': value }) },
];

const readYaml = (file: string): Record<string, unknown> =>
  parse(readFileSync(join(ROOT, file), 'utf8'), { customTags: cloudFormationTags }) as Record<string, unknown>;

/** The logical ID behind `!GetAtt X.Arn`, or undefined for anything else. */
const arnOf = (value: unknown): string | undefined => {
  const getAtt = (value as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt'];
  return getAtt?.[1] === 'Arn' ? getAtt[0] : undefined;
};

/** The SQS queues of infra/queues.yml, named as the stage would name them. */
export const templateQueues = (service: string, stage: string): TemplateQueue[] => {
  const resources = readYaml('infra/queues.yml').Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  return Object.entries(resources)
    .filter(([, resource]) => resource.Type === 'AWS::SQS::Queue')
    .map(([logicalId, { Properties: props }]) => {
      const name = String(props.QueueName).replaceAll('${self:service}', service).replaceAll('${sls:stage}', stage);
      if (name.includes('${')) throw new Error(`infra/queues.yml: ${logicalId}.QueueName has an unknown variable: ${name}`);
      const policy = props.RedrivePolicy as { deadLetterTargetArn?: unknown; maxReceiveCount?: number } | undefined;
      if (!policy) return { logicalId, name };
      const deadLetterLogicalId = arnOf(policy.deadLetterTargetArn);
      if (!deadLetterLogicalId || !policy.maxReceiveCount) throw new Error(`infra/queues.yml: ${logicalId}.RedrivePolicy must name a !GetAtt <Queue>.Arn and a maxReceiveCount`);
      return { logicalId, name, redrive: { deadLetterLogicalId, maxReceiveCount: policy.maxReceiveCount } };
    });
};

/** The functions of infra/functions.yml with an `sqs` event on one of the template's queues. */
export const queueTriggers = (): QueueTrigger[] => {
  const functions = readYaml('infra/functions.yml') as Record<string, { events?: { sqs?: Record<string, unknown> }[] }>;
  return Object.entries(functions).flatMap(([functionKey, fn]) =>
    (fn.events ?? []).flatMap(({ sqs }) => {
      const queueLogicalId = arnOf(sqs?.arn);
      if (!sqs || !queueLogicalId) return [];
      return [{ functionKey, queueLogicalId, batchSize: Number(sqs.batchSize ?? 10), reportBatchItemFailures: sqs.functionResponseType === 'ReportBatchItemFailures' }];
    }),
  );
};

/**
 * The functions' environment variables that a deploy parameter sets (`VAR: ${param:name}` in serverless.yml's
 * provider.environment or a function's environment in infra/functions.yml), as variable -> parameter.
 */
export const parameterOfVariable = (): Record<string, string> => {
  const provider = (readYaml('serverless.yml').provider as { environment?: Record<string, unknown> }).environment ?? {};
  const functions = Object.values(readYaml('infra/functions.yml') as Record<string, { environment?: Record<string, unknown> }>).map((fn) => fn.environment ?? {});
  const out: Record<string, string> = {};
  for (const [variable, value] of [provider, ...functions].flatMap((env) => Object.entries(env))) {
    const param = /^\$\{param:(\w+)\}$/.exec(String(value))?.[1];
    if (param) out[variable] = param;
  }
  return out;
};
