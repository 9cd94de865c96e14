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
  /** Its VisibilityTimeout as deployed, in seconds (SQS's default, 30, when the template sets none). */
  visibilityTimeoutSeconds: number;
}

/** A function fed by a queue through an event source mapping. */
export interface QueueTrigger {
  /** serverless function key, e.g. createGroupQueue. */
  functionKey: string;
  /** The logical ID of the queue it consumes. */
  queueLogicalId: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
  /** The mapping's `maximumConcurrency`: at most this many batches (invocations) at once for this queue. */
  maximumConcurrency: number;
  /** The function's timeout in seconds (its own `timeout`, else the provider's). */
  timeoutSeconds: number;
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
  const resources = readYaml('infra/queues.yml').Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  return Object.entries(resources)
    .filter(([, resource]) => resource.Type === 'AWS::SQS::Queue')
    .map(([logicalId, { Properties: props }]) => {
      const name = String(props.QueueName).replaceAll('${self:service}', service).replaceAll('${sls:stage}', stage);
      if (name.includes('${'))
        throw new Error(`infra/queues.yml: ${logicalId}.QueueName has an unknown variable: ${name}`);
      const visibilityTimeoutSeconds = Number(props.VisibilityTimeout ?? 30);
      const policy = props.RedrivePolicy as { deadLetterTargetArn?: unknown; maxReceiveCount?: number } | undefined;
      if (!policy) return { logicalId, name, visibilityTimeoutSeconds };
      const deadLetterLogicalId = arnOf(policy.deadLetterTargetArn);
      if (!deadLetterLogicalId || !policy.maxReceiveCount)
        throw new Error(
          `infra/queues.yml: ${logicalId}.RedrivePolicy must name a !GetAtt <Queue>.Arn and a maxReceiveCount`,
        );
      return {
        logicalId,
        name,
        visibilityTimeoutSeconds,
        redrive: { deadLetterLogicalId, maxReceiveCount: policy.maxReceiveCount },
      };
    });
};

/**
 * A value of serverless.yml or infra/functions.yml as osls resolves it for `stage`: a literal as is, a whole
 * `${param:name}` from `params.<stage>` else `params.default` (a `--param` given on the command line wins over both:
 * pass it as `overrides`). Anything else (another variable, a missing parameter) is an error naming `what`.
 */
export const resolveParamValue = (
  value: unknown,
  stage: string,
  what: string,
  overrides: Record<string, string> = {},
): string => {
  const text = String(value);
  const name = /^\$\{param:(\w+)\}$/.exec(text)?.[1];
  if (name === undefined) {
    if (text.includes('${'))
      throw new Error(`${what}: cannot resolve ${text} locally (only a whole \${param:name} is)`);
    return text;
  }
  if (overrides[name] !== undefined) return overrides[name]!;
  const params = (readYaml('serverless.yml').params ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const resolved = params[stage]?.[name] ?? params.default?.[name];
  if (resolved === undefined || resolved === null)
    throw new Error(
      `${what}: serverless.yml sets no parameter ${name} for the stage ${stage} (params.${stage} or params.default)`,
    );
  return resolveParamValue(resolved, stage, `${what} (param ${name})`, overrides);
};

const positiveInteger = (value: string, what: string): number => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new Error(`${what} must be a positive whole number, got "${value}"`);
  return number;
};

/**
 * The functions of infra/functions.yml with an `sqs` event on one of the template's queues, with their
 * `maximumConcurrency` and timeout resolved for `stage` as osls resolves them (`overrides`: `--param` values).
 */
export const queueTriggers = (stage = 'local', overrides: Record<string, string> = {}): QueueTrigger[] => {
  const functions = readYaml('infra/functions.yml') as Record<
    string,
    { timeout?: unknown; events?: { sqs?: Record<string, unknown> }[] }
  >;
  const providerTimeout = (readYaml('serverless.yml').provider as { timeout?: unknown }).timeout ?? 6;
  return Object.entries(functions).flatMap(([functionKey, fn]) =>
    (fn.events ?? []).flatMap(({ sqs }) => {
      const queueLogicalId = arnOf(sqs?.arn);
      if (!sqs || !queueLogicalId) return [];
      const resolve = (value: unknown, what: string) =>
        positiveInteger(resolveParamValue(value, stage, `${functionKey}.${what}`, overrides), `${functionKey}.${what}`);
      return [
        {
          functionKey,
          queueLogicalId,
          batchSize: Number(sqs.batchSize ?? 10),
          reportBatchItemFailures: sqs.functionResponseType === 'ReportBatchItemFailures',
          // Lambda's default without ScalingConfig is "as many as it scales to"; the template always sets one.
          maximumConcurrency:
            sqs.maximumConcurrency === undefined
              ? 1000
              : resolve(sqs.maximumConcurrency, 'events.sqs.maximumConcurrency'),
          timeoutSeconds: resolve(fn.timeout ?? providerTimeout, 'timeout'),
        },
      ];
    }),
  );
};

/**
 * The functions' environment variables that a deploy parameter sets (`VAR: ${param:name}` in serverless.yml's
 * provider.environment or a function's environment in infra/functions.yml), as variable -> parameter.
 */
export const parameterOfVariable = (): Record<string, string> => {
  const provider = (readYaml('serverless.yml').provider as { environment?: Record<string, unknown> }).environment ?? {};
  const functions = Object.values(
    readYaml('infra/functions.yml') as Record<string, { environment?: Record<string, unknown> }>,
  ).map((fn) => fn.environment ?? {});
  const out: Record<string, string> = {};
  for (const [variable, value] of [provider, ...functions].flatMap((env) => Object.entries(env))) {
    const param = /^\$\{param:(\w+)\}$/.exec(String(value))?.[1];
    if (param) out[variable] = param;
  }
  return out;
};
