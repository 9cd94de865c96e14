/**
 * The CloudWatch dashboard (infra/dashboard.cjs) shows only what exists: every metric of ours on it is one the real
 * handlers emit, in their namespace and service, with exactly the dimension set the dashboard reads it with; every
 * AWS metric is one AWS publishes for a queue or function of the template.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { lambdaLogicalId } from '../infra/alarms.cjs';
import { dashboardResources, EMF_METRICS, QUEUES } from '../infra/dashboard.cjs';
import { LocalSqs } from '../infra/local/sqs';
import { templateQueues } from '../infra/local/template';
import {
  captureConsole,
  type Harness,
  httpEvent,
  lambdaContext,
  type LambdaHandler,
  sqsEvent,
  startHarness,
} from './support/harness';

const NAMESPACE = 'MixinConversations';
const SERVICE = 'mixin-conversations';

let h: Harness;
let sqs: LocalSqs;
let lines: string[];
/** Every metric the handlers emitted: `namespace|name` -> the dimension sets it came with (sorted names). */
const emitted = new Map<string, Set<string>>();

beforeAll(async () => {
  lines = captureConsole();
  sqs = await LocalSqs.start({ visibilityTimeoutSeconds: 30 });
  h = await startHarness({
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_METRICS_NAMESPACE: NAMESPACE,
    POWERTOOLS_SERVICE_NAME: SERVICE,
    MIXIN_MAX_ATTEMPTS: '1',
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    DEAD_LETTER_QUEUE_URL: sqs.deadLetterQueueOf('CreateContactQueue').url,
    // Where a rate-limit-aware queue function re-sends the records it defers (its own queue).
    SOURCE_QUEUE_URL: sqs.queue('CreateContactQueue').url,
  });
  // What a drain goes through: created, failed and retried (a 5xx, a 429), dead-lettered, over a queue and HTTP...
  const queue = h.load<{ handler: LambdaHandler<unknown, SQSBatchResponse> }>(
    '../../functions/create-contact/queue',
  ).handler;
  const [ok, flaky, limited] = [randomUUID(), randomUUID(), randomUUID()];
  h.sandbox.inject({ kind: 'error', code: 7000, userId: flaky });
  h.sandbox.inject({ kind: 'error', code: 429, userId: limited });
  const contact = (user_id: string) => JSON.stringify({ participants: [{ user_id }] });
  await queue(sqsEvent([contact(ok), contact(flaky), contact(limited), '{"participants": "nobody"}']), lambdaContext());
  // A batch against Mixin's rate limit (1 call a second): 429 answers, and records held back or deferred.
  h.sandbox.setRateLimit(1);
  await queue(sqsEvent(Array.from({ length: 10 }, () => contact(randomUUID()))), lambdaContext());
  h.sandbox.setRateLimit(0);
  const http = h.load<{ handler: LambdaHandler<unknown, APIGatewayProxyStructuredResultV2> }>(
    '../../functions/create-group/http',
  ).handler;
  await http(
    httpEvent(JSON.stringify({ name: 'Room', participants: [{ user_id: randomUUID() }] }), {
      headers: { 'idempotency-key': randomUUID() },
    }),
    lambdaContext(),
  );
  // ...and a keystore secret that cannot be read (a cold start of its own).
  process.env.MIXIN_KEYSTORE_SECRET_ID = `mixin/missing-${randomUUID()}`;
  const cold = h.load<{ handler: LambdaHandler<unknown, APIGatewayProxyStructuredResultV2> }>(
    '../../functions/create-contact/http',
  ).handler;
  await cold(httpEvent(contact(randomUUID()), { path: '/contacts' }), lambdaContext());
  for (const line of lines) {
    let emf: {
      _aws?: { CloudWatchMetrics?: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    };
    try {
      emf = JSON.parse(line);
    } catch {
      continue;
    }
    for (const directive of emf._aws?.CloudWatchMetrics ?? []) {
      for (const { Name } of directive.Metrics) {
        const key = `${directive.Namespace}|${Name}`;
        if (!emitted.has(key)) emitted.set(key, new Set());
        for (const dimensions of directive.Dimensions) emitted.get(key)!.add([...dimensions].sort().join(','));
      }
    }
  }
}, 30_000);
afterAll(async () => {
  await h.stop();
  await sqs.stop();
  jest.restoreAllMocks();
});

const fragment = dashboardResources({ namespace: NAMESPACE, service: SERVICE, lambdaLogicalId });
const [bodyTemplate, variables] = fragment.Resources.Dashboard!.Properties.DashboardBody['Fn::Sub'];
const body = JSON.parse(bodyTemplate) as { widgets: { properties: { title: string; metrics: unknown[][] } }[] };
/** The SEARCH expressions of the body: namespace, dimension set, metric name, service and statistic. */
const searches = body.widgets.flatMap((w) =>
  w.properties.metrics.flatMap((m) => {
    const expression = (m[0] as { expression?: string }).expression;
    if (!expression) return [];
    const parsed = /^SEARCH\('\{([^,}]+),([^}]+)\} MetricName="(\w+)" service="([\w-]+)"', '(\w+)', 60\)$/.exec(
      expression,
    );
    expect({ expression, parsed: Boolean(parsed) }).toEqual({ expression, parsed: true });
    return [
      {
        namespace: parsed![1]!,
        dimensions: parsed![2]!.split(','),
        metric: parsed![3]!,
        service: parsed![4]!,
        stat: parsed![5]!,
        title: w.properties.title,
      },
    ];
  }),
);

it('reads every metric of ours with the namespace, service and exact dimension set the handlers emit it with', () => {
  expect(searches.length).toBe(EMF_METRICS.length);
  // The scenario emitted what the dashboard shows today (a failed run would leave this empty and prove nothing).
  for (const name of [
    'ConversationsCreated',
    'ConversationsFailed',
    'RecordsDeadLettered',
    'KeystoreReadFailed',
    'MixinRateLimited',
    'RecordsDeferred',
    'MixinLatency',
    'MixinCallRate',
  ])
    expect([...emitted.keys()]).toContain(`${NAMESPACE}|${name}`);
  for (const s of searches) {
    expect({ metric: s.metric, namespace: s.namespace, service: s.service }).toEqual({
      metric: s.metric,
      namespace: NAMESPACE,
      service: SERVICE,
    });
    const sets = emitted.get(`${NAMESPACE}|${s.metric}`);
    expect({ metric: s.metric, emitted: sets !== undefined }).toEqual({ metric: s.metric, emitted: true });
    if (sets === undefined) continue;
    // A SEARCH schema matches only metrics with exactly these dimensions: the set must be one the code emits.
    const dimensions = [...s.dimensions].sort().join(',');
    expect({ metric: s.metric, dimensions, emitted: sets.has(dimensions) }).toEqual({
      metric: s.metric,
      dimensions,
      emitted: true,
    });
  }
});

it('shows creations, failures, 429 answers, deferrals, the call rate, dead letters by error name, latency p50/p99 and keystore failures', () => {
  const shown = (metric: string) => searches.filter((s) => s.metric === metric).map((s) => s.stat);
  expect(shown('ConversationsCreated')).toEqual(['Sum']);
  expect(shown('ConversationsFailed')).toEqual(['Sum']);
  expect(shown('MixinRateLimited')).toEqual(['Sum']);
  expect(shown('RecordsDeferred')).toEqual(['Sum']);
  expect(shown('MixinCallRate')).toEqual(['Average']);
  expect(shown('MixinLatency')).toEqual(['p50', 'p99']);
  expect(shown('KeystoreReadFailed')).toEqual(['Sum']);
  expect(searches.find((s) => s.metric === 'RecordsDeadLettered')?.dimensions).toContain('error_name');
});

it("shows per queue visible, delayed, in flight, the oldest message's age and the DLQ, from AWS/SQS on the template's queues", () => {
  const logicalIds = new Set(templateQueues('mixin-conversations', 'dev').map((q) => q.logicalId));
  const aws = body.widgets.flatMap((w) => w.properties.metrics.filter((m) => typeof m[0] === 'string')) as string[][];
  const sqsMetrics = aws.filter((m) => m[0] === 'AWS/SQS');
  for (const m of sqsMetrics) {
    expect(m[2]).toBe('QueueName');
    const variable = /^\$\{(\w+)Name\}$/.exec(m[3]!)?.[1];
    expect(logicalIds.has(variable!)).toBe(true);
    expect(variables[`${variable}Name`]).toEqual({ 'Fn::GetAtt': [variable, 'QueueName'] });
  }
  for (const { queue, dlq } of QUEUES) {
    const of = (id: string) => sqsMetrics.filter((m) => m[3] === `\${${id}Name}`).map((m) => m[1]);
    expect(of(queue).sort()).toEqual([
      'ApproximateAgeOfOldestMessage',
      'ApproximateNumberOfMessagesDelayed',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesVisible',
    ]);
    expect(of(dlq)).toEqual(['ApproximateNumberOfMessagesVisible']);
  }
  for (const m of aws.filter((x) => x[0] === 'AWS/Lambda')) {
    expect(['Errors', 'Throttles']).toContain(m[1]);
    expect(m[3]).toMatch(/^\$\{Create(Group|Contact)QueueLambdaFunction\}$/);
  }
  // Nothing but Fn::Sub's own variables and the queue names in the body.
  const placeholders = new Set([...bodyTemplate.matchAll(/\$\{([^}]+)\}/g)].map((x) => x[1]));
  expect(
    [...placeholders].filter(
      (p) => !(p! in variables) && p !== 'AWS::Region' && !/^Create(Group|Contact)QueueLambdaFunction$/.test(p!),
    ),
  ).toEqual([]);
});

it('is named after the stack, and its URL is a stack output', () => {
  expect(fragment.Resources.Dashboard!.Properties.DashboardName).toEqual({ 'Fn::Sub': '${AWS::StackName}' });
  expect(fragment.Outputs.DashboardUrl!.Value).toEqual({
    'Fn::Sub':
      'https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#dashboards:name=${Dashboard}',
  });
});
