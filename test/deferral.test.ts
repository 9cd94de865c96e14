/**
 * Deferral (lib/lambda/deferral.ts, README "Queues"): a record held back by Mixin's rate limit goes back on the
 * function's own queue as a delayed copy, through the real AWS SDK against a local SQS (fauxqs on 127.0.0.1), with
 * the real queue handlers and the Mixin sandbox.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { buildApp } from 'fauxqs';
import { EventSourceMapping } from '../infra/local/event-source-mapping';
import { groupIdForKey } from '../lib/conversation-id';
import {
  captureConsole,
  type Harness,
  lambdaContext,
  type LambdaHandler,
  sqsEvent,
  startHarness,
} from './support/harness';
import { type RecordAttributes as Attributes, takeAll, waitFor } from './support/queues';

type Queue = LambdaHandler<SQSEvent, SQSBatchResponse>;

let app: ReturnType<typeof buildApp>;
let endpoint: string;
let sqs: SQSClient;
let h: Harness;
let sourceUrl: string;
let dlqUrl: string;
let saved: NodeJS.ProcessEnv | undefined;

const createQueue = async (name: string, attributes: Record<string, string> = {}): Promise<string> =>
  (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
const arnOf = async (url: string) =>
  (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!
    .QueueArn!;

beforeAll(async () => {
  app = buildApp({ logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  endpoint = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  sqs = new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  h = await startHarness({ AWS_ENDPOINT_URL_SQS: endpoint, MIXIN_MAX_ATTEMPTS: '1' });
});
afterAll(async () => {
  await h.stop();
  sqs.destroy();
  await app.close();
});
beforeEach(async () => {
  h.sandbox.reset();
  dlqUrl = await createQueue(`dlq-${randomUUID()}`);
  sourceUrl = await createQueue(`source-${randomUUID()}`);
});
afterEach(() => {
  jest.restoreAllMocks();
  if (saved) process.env = saved;
  saved = undefined;
});

/** A fresh instance of the group queue function (its own rate limiter), with these settings. */
const loadGroups = (env: Record<string, string> = {}): Queue => {
  saved ??= { ...process.env };
  Object.assign(process.env, {
    DEAD_LETTER_QUEUE_URL: dlqUrl,
    SOURCE_QUEUE_URL: sourceUrl,
    MAX_RECEIVE_COUNT: '5',
    ...env,
  });
  return h.load<{ handler: Queue }>('../../functions/create-group/queue').handler;
};

const group = (user: string) => JSON.stringify({ name: 'Deferred room', participants: [{ user_id: user }] });
const string = (value: string) => ({
  dataType: 'String',
  stringValue: value,
  stringListValues: [],
  binaryListValues: [],
});
const withAttributes = (event: SQSEvent, index: number, attributes: Attributes): SQSEvent => {
  (event.Records[index] as unknown as { messageAttributes: Attributes }).messageAttributes = attributes;
  return event;
};
/** Waits for `count` messages (delayed copies included) and takes them. */
const takeCopies = async (url: string, count: number): Promise<Message[]> => {
  const taken: Message[] = [];
  await waitFor(
    `${count} copies`,
    async () => (taken.push(...(await takeAll(sqs, url))), taken.length >= count),
    15_000,
  );
  return taken;
};
const attributesOf = (m: Message) =>
  Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? v.BinaryValue]));

describe('a record held back by the rate limit', () => {
  it('goes back on its own queue as a delayed copy: body, attributes (Binary bytes too), key, failure count and first-sent time; the original is done', async () => {
    const user = randomUUID();
    h.sandbox.inject({ kind: 'error', code: 429, userId: user, count: 1 });
    const bytes = Buffer.from([0, 255, 1, 128]);
    const event = withAttributes(sqsEvent([group(user)], undefined, 3), 0, {
      Team: string('blue'),
      Blob: { dataType: 'Binary', binaryValue: bytes.toString('base64'), stringListValues: [], binaryListValues: [] },
    });
    const [id] = event.Records.map((r) => r.messageId);
    const sentAt = Number(event.Records[0]!.attributes.SentTimestamp);
    const handler = loadGroups({ POWERTOOLS_LOG_LEVEL: 'INFO' });
    const lines = captureConsole();
    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    const deferred = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.message === 'record deferred');
    expect(deferred).toMatchObject({ message_id: id, failure_count: 2 });
    const [copy] = await takeCopies(sourceUrl, 1);
    expect(copy!.Body).toBe(group(user));
    expect(attributesOf(copy!)).toEqual({
      Team: 'blue',
      Blob: expect.anything(),
      IdempotencyKey: id, // a group copy addresses the original's group
      FailureCount: '2', // the two receives before this one failed for real; the deferral itself is not a failure
      FirstSentAt: new Date(sentAt).toISOString(),
    });
    expect(Buffer.from(copy!.MessageAttributes!.Blob!.BinaryValue!)).toEqual(bytes);
    expect(copy!.MessageAttributes!.FailureCount!.DataType).toBe('Number');
    expect(await takeAll(sqs, dlqUrl)).toEqual([]);
  }, 20_000);

  it("fits in SQS's 10 attributes with 7 of the producer's; with 8 it cannot, and is reported for redelivery instead", async () => {
    const [fits, full] = [randomUUID(), randomUUID()];
    h.sandbox.inject({ kind: 'error', code: 429, userId: fits, count: 1 });
    h.sandbox.inject({ kind: 'error', code: 429, userId: full, count: 1 });
    const attributes = (n: number): Attributes =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`A${i}`, string(String(i))]));
    const event = withAttributes(
      withAttributes(sqsEvent([group(fits), group(full)]), 0, attributes(7)),
      1,
      attributes(8),
    );
    const ids = event.Records.map((r) => r.messageId);
    expect(await loadGroups({ QUEUE_CONCURRENCY: '1' })(event, lambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: ids[1] }],
    });
    const [copy] = await takeCopies(sourceUrl, 1);
    expect(Object.keys(copy!.MessageAttributes!).sort()).toEqual([
      'A0',
      'A1',
      'A2',
      'A3',
      'A4',
      'A5',
      'A6',
      'FailureCount',
      'FirstSentAt',
      'IdempotencyKey',
    ]);
    expect(attributesOf(copy!).IdempotencyKey).toBe(ids[0]);
  }, 20_000);

  it('with no room for a copy, at its maxReceiveCount-th receive it is dead-lettered with its reason, not moved there by SQS without one', async () => {
    const [last, earlier] = [randomUUID(), randomUUID()];
    h.sandbox.inject({ kind: 'error', code: 429, userId: last, count: 1 });
    h.sandbox.inject({ kind: 'error', code: 429, userId: earlier, count: 1 });
    const full: Attributes = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`A${i}`, string(String(i))]));
    const atLast = withAttributes(sqsEvent([group(last)], undefined, 5), 0, full);
    expect(await loadGroups({ QUEUE_CONCURRENCY: '1' })(atLast, lambdaContext())).toEqual({ batchItemFailures: [] });
    const [letter] = await takeCopies(dlqUrl, 1);
    expect(attributesOf(letter!)).toMatchObject({ A7: '7', ErrorName: 'MixinRateLimitError' });
    const before = withAttributes(sqsEvent([group(earlier)], undefined, 4), 0, full);
    const id = before.Records[0]!.messageId;
    expect(await loadGroups({ QUEUE_CONCURRENCY: '1' })(before, lambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: id }],
    });
  }, 20_000);

  it('is reported in batchItemFailures when its copy cannot be sent: one receive spent, nothing lost', async () => {
    const user = randomUUID();
    h.sandbox.inject({ kind: 'error', code: 429, userId: user, count: 1 });
    const handler = loadGroups({
      SOURCE_QUEUE_URL: `${endpoint}/000000000000/no-such-queue-${randomUUID()}`,
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    const lines = captureConsole();
    const event = sqsEvent([group(user)]);
    expect(await handler(event, lambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }],
    });
    const failed = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.message === 'record failed');
    expect(failed).toMatchObject({ error_name: 'MixinRateLimitError', deferral_send_failed: true });
    expect(await takeAll(sqs, dlqUrl)).toEqual([]);
  });

  it('goes to the DLQ as MixinRateLimitError once it has been deferred longer than MAX_DEFERRED_AGE_SECONDS', async () => {
    const user = randomUUID();
    h.sandbox.inject({ kind: 'error', code: 429, userId: user, count: 1 });
    const event = withAttributes(sqsEvent([group(user)]), 0, {
      FirstSentAt: string(new Date(Date.now() - 61_000).toISOString()),
      FailureCount: { ...string('1'), dataType: 'Number' },
    });
    expect(await loadGroups({ MAX_DEFERRED_AGE_SECONDS: '60' })(event, lambdaContext())).toEqual({
      batchItemFailures: [],
    });
    const [letter] = await takeAll(sqs, dlqUrl);
    expect(attributesOf(letter!)).toMatchObject({
      ErrorName: 'MixinRateLimitError',
      SourceMessageId: event.Records[0]!.messageId,
    });
    // The copy's bookkeeping stays behind: a redrive starts afresh.
    expect(letter!.MessageAttributes!.FirstSentAt).toBeUndefined();
    expect(letter!.MessageAttributes!.FailureCount).toBeUndefined();
    expect(await takeAll(sqs, sourceUrl)).toEqual([]);
  });

  it('is aged from when this message was sent at the latest: a FirstSentAt in the future (forged or skewed) cannot defer it forever', async () => {
    const user = randomUUID();
    h.sandbox.inject({ kind: 'error', code: 429, userId: user, count: 1 });
    const event = withAttributes(sqsEvent([group(user)]), 0, {
      FirstSentAt: string('2099-01-01T00:00:00.000Z'),
    });
    event.Records[0]!.attributes.SentTimestamp = String(Date.now() - 61_000);
    expect(await loadGroups({ MAX_DEFERRED_AGE_SECONDS: '60' })(event, lambdaContext())).toEqual({
      batchItemFailures: [],
    });
    const [letter] = await takeAll(sqs, dlqUrl);
    expect(attributesOf(letter!)).toMatchObject({ ErrorName: 'MixinRateLimitError' });
    expect(await takeAll(sqs, sourceUrl)).toEqual([]);
  });

  it('ignores a FirstSentAt that is not the ISO 8601 time a copy carries ("1" is not the year 2001): it is deferred, not dead-lettered', async () => {
    const user = randomUUID();
    h.sandbox.inject({ kind: 'error', code: 429, userId: user, count: 1 });
    const event = withAttributes(sqsEvent([group(user)]), 0, { FirstSentAt: string('1') });
    const sentAt = Number(event.Records[0]!.attributes.SentTimestamp);
    expect(await loadGroups({ MAX_DEFERRED_AGE_SECONDS: '60' })(event, lambdaContext())).toEqual({
      batchItemFailures: [],
    });
    const [copy] = await takeCopies(sourceUrl, 1);
    expect(attributesOf(copy!).FirstSentAt).toBe(new Date(sentAt).toISOString());
    expect(await takeAll(sqs, dlqUrl)).toEqual([]);
  }, 20_000);
});

describe('real failures, counted across copies', () => {
  it('dead-letter a record at the maxReceiveCount-th, with its reason, although this message was received once', async () => {
    const user = randomUUID();
    h.sandbox.inject({ kind: 'html-500', userId: user });
    const event = withAttributes(sqsEvent([group(user)]), 0, {
      FailureCount: { ...string('4'), dataType: 'Number' },
      IdempotencyKey: string('order-7'),
    });
    expect(await loadGroups()(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    const [letter] = await takeAll(sqs, dlqUrl);
    expect(attributesOf(letter!)).toMatchObject({
      ErrorName: 'MixinUnavailableError',
      IdempotencyKey: 'order-7',
      ReceiveCount: '1',
    });
  });

  it('below maxReceiveCount, stay for redelivery', async () => {
    const user = randomUUID();
    h.sandbox.inject({ kind: 'html-500', userId: user });
    const event = withAttributes(sqsEvent([group(user)]), 0, { FailureCount: { ...string('3'), dataType: 'Number' } });
    expect(await loadGroups()(event, lambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }],
    });
    expect(await takeAll(sqs, dlqUrl)).toEqual([]);
  });
});

describe('through the queue', () => {
  it('a record deferred more often than maxReceiveCount is still created, once, and never dead-lettered', async () => {
    // A queue that SQS itself would dead-letter after 2 receives of one message.
    const url = await createQueue(`redriven-${randomUUID()}`, {
      VisibilityTimeout: '60',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await arnOf(dlqUrl), maxReceiveCount: '2' }),
    });
    const user = randomUUID();
    h.sandbox.inject({ kind: 'error', code: 429, userId: user, count: 3 });
    const receives: number[] = [];
    // Each invocation a fresh instance (as Lambda may give), so that each starts its probe at once.
    const mapping = new EventSourceMapping({
      sqs,
      queueUrl: url,
      queueArn: await arnOf(url),
      region: 'us-east-1',
      waitTimeSeconds: 0,
      invoke: (event) => {
        receives.push(...event.Records.map((r) => Number(r.attributes.ApproximateReceiveCount)));
        return loadGroups({ SOURCE_QUEUE_URL: url, MAX_RECEIVE_COUNT: '2' })(event, lambdaContext(30_000));
      },
    }).start();
    try {
      const { MessageId: id } = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: group(user) }));
      await waitFor('the group', () => h.sandbox.created === 1, 40_000);
      expect(h.sandbox.conversations.has(groupIdForKey(h.bot.keystore.appId, id!))).toBe(true);
      // Three deferrals (three 429s), then the creation: four messages, each received once.
      expect(receives).toEqual([1, 1, 1, 1]);
      expect(h.sandbox.rateLimited + h.sandbox.requests.filter((r) => r.outcome === 'fault:error:429').length).toBe(3);
      expect(await takeAll(sqs, dlqUrl)).toEqual([]);
    } finally {
      await mapping.stop();
    }
  }, 45_000);
});

describe('metrics of the rate limit', () => {
  it('a batch that deferred nothing counts no deferral (not a zero: a sum of zeros is still a data point)', async () => {
    const handler = loadGroups({ POWERTOOLS_METRICS_DISABLED: 'false' });
    const lines = captureConsole();
    expect(await handler(sqsEvent([group(randomUUID())]), lambdaContext())).toEqual({ batchItemFailures: [] });
    const emf = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l._aws !== undefined);
    expect(emf.filter((l) => l.ConversationsCreated !== undefined)).toHaveLength(1);
    expect(emf.filter((l) => l.RecordsDeferred !== undefined)).toEqual([]);
  });

  it("count each 429, each deferred record, each answered attempt's latency and the instance's rate, with the standard dimensions", async () => {
    const [limited, fine] = [randomUUID(), randomUUID()];
    h.sandbox.inject({ kind: 'error', code: 429, userId: limited, count: 1 });
    const handler = loadGroups({ POWERTOOLS_METRICS_DISABLED: 'false', QUEUE_CONCURRENCY: '1' });
    const lines = captureConsole();
    expect(await handler(sqsEvent([group(limited), group(fine)]), lambdaContext())).toEqual({ batchItemFailures: [] });
    const emf = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l._aws !== undefined);
    const metric = (name: string) => emf.filter((l) => l[name] !== undefined);
    const units = new Map(
      emf.flatMap((l) =>
        (
          l._aws as { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] }
        ).CloudWatchMetrics[0]!.Metrics.map((m) => [m.Name, m.Unit] as const),
      ),
    );
    expect(metric('MixinRateLimited').map((l) => l.MixinRateLimited)).toEqual([1]);
    expect(metric('RecordsDeferred').map((l) => l.RecordsDeferred)).toEqual([1]);
    // Two answers (the 429 and the creation): the first latency is written at once, the second waits for its group
    // (every 10 s or 100 values); the rate once for the batch.
    const latencies = () => metric('MixinLatency').flatMap((l) => [l.MixinLatency].flat());
    expect([latencies().length, metric('MixinCallRate').length]).toEqual([1, 1]);
    expect(
      Object.fromEntries(
        ['MixinRateLimited', 'RecordsDeferred', 'MixinLatency', 'MixinCallRate'].map((n) => [n, units.get(n)]),
      ),
    ).toEqual({
      MixinRateLimited: 'Count',
      RecordsDeferred: 'Count',
      MixinLatency: 'Milliseconds',
      MixinCallRate: 'Count/Second',
    });
    // Ten seconds on, the next answer writes the held latency with its own: no value is dropped.
    const realNow = Date.now;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 10_001);
    try {
      expect(await handler(sqsEvent([group(randomUUID())]), lambdaContext())).toEqual({ batchItemFailures: [] });
    } finally {
      clock.mockRestore();
    }
    const emfNow = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l._aws !== undefined);
    const all = emfNow.filter((l) => l.MixinLatency !== undefined).flatMap((l) => [l.MixinLatency].flat());
    expect(all).toHaveLength(3);
    for (const ms of all) expect(typeof ms === 'number' && ms >= 0).toBe(true);
    for (const name of ['MixinRateLimited', 'RecordsDeferred', 'MixinLatency', 'MixinCallRate']) {
      for (const l of metric(name)) {
        const { Dimensions } = (l._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]!;
        expect({ name, dimensions: [...Dimensions[0]!].sort() }).toEqual({
          name,
          dimensions: ['category', 'service', 'trigger'],
        });
      }
    }
    await takeCopies(sourceUrl, 1);
  }, 20_000);
});
