/**
 * processBatch (lib/lambda/sqs-batch.ts) on its own, with record processors that end as the test says, and its
 * sends going through the real AWS SDK to a local SQS (fauxqs on 127.0.0.1): the batch's time (its end reserve, a
 * record not worth starting), how many records run at once, and where each ending sends a record. The queue
 * handlers' tests (queue, deferral, dead-letter) show the same rules with Mixin in the loop.
 */
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, type Message, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { buildApp } from 'fauxqs';
import { sqsEvent } from '../infra/local/lambda-events';
import type * as Errors from '../lib/errors';
import type * as SqsBatch from '../lib/lambda/sqs-batch';
import type { RecordBudget } from '../lib/lambda/use-case';
import { captureConsole } from './support/harness';
import { type RecordAttributes, takeAll, waitFor } from './support/queues';

let app: ReturnType<typeof buildApp>;
let sqs: SQSClient;
let saved: NodeJS.ProcessEnv;
let processBatch: typeof SqsBatch.processBatch;
let errors: typeof Errors;
let dlqUrl: string;
let sourceUrl: string;
/** What the batch logged in this test (the console is captured for every test: a failure logs loudly). */
let lines: string[];

beforeAll(async () => {
  app = buildApp({ logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const endpoint = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  // One registry for the batch and the errors it tells apart (instanceof), loaded after the environment is set.
  jest.isolateModules(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    processBatch = (require('../lib/lambda/sqs-batch') as typeof SqsBatch).processBatch;
    errors = require('../lib/errors') as typeof Errors;
    /* eslint-enable @typescript-eslint/no-require-imports */
  });
});
afterAll(async () => {
  process.env = saved;
  sqs.destroy();
  await app.close();
});
beforeEach(async () => {
  const create = async (name: string) =>
    (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${randomUUID()}` }))).QueueUrl!;
  [dlqUrl, sourceUrl] = await Promise.all([create('dlq'), create('source')]);
  lines = captureConsole();
});
afterEach(() => jest.restoreAllMocks());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const records = (count: number, receiveCount = 1): SQSEvent =>
  sqsEvent(
    Array.from({ length: count }, (_, i) => JSON.stringify({ n: i })),
    undefined,
    receiveCount,
  ) as SQSEvent;
const idsOf = (event: SQSEvent) => event.Records.map((r) => r.messageId);
const failedIds = (response: { batchItemFailures: { itemIdentifier: string }[] }) =>
  response.batchItemFailures.map((f) => f.itemIdentifier);
const logLines = (message: string) =>
  lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === message);
/** Everything that reached a queue (delayed copies included: the tests send copies with no delay or wait them out). */
const taken = async (url: string, count: number, timeoutMs = 15_000): Promise<Message[]> => {
  const got: Message[] = [];
  await waitFor(
    `${count} messages`,
    async () => (got.push(...(await takeAll(sqs, url))), got.length >= count),
    timeoutMs,
  );
  return got;
};
const string = (value: string) => ({
  dataType: 'String',
  stringValue: value,
  stringListValues: [],
  binaryListValues: [],
});
/** Ten producer attributes: a copy would need two more than SQS allows. */
const withTenAttributes = (record: SQSRecord) => {
  const attributes: RecordAttributes = Object.fromEntries(
    Array.from({ length: 10 }, (_, i) => [`A${i}`, string(String(i))]),
  );
  (record as unknown as { messageAttributes: RecordAttributes }).messageAttributes = attributes;
};
/** `[message_id, field]` of each log line with this message, in a stable order (records end in any order). */
const logged = (message: string, field: string) =>
  logLines(message)
    .map((l) => [l.message_id, l[field]])
    .sort();
/** A processor for a record Mixin's rate limit holds back, with no wait. */
const rateLimited = async (): Promise<never> => {
  throw new errors.MixinRateLimitError(1, 0);
};

describe("the batch's time", () => {
  const budgetSeen = async (options: Partial<SqsBatch.BatchOptions>): Promise<number> => {
    let seen: RecordBudget | undefined;
    await processBatch(records(1), async (_r, budget) => void (seen = budget), { concurrency: 1, ...options });
    return seen!.deadline;
  };

  it('keeps its end reserve out of every record budget', async () => {
    const deadline = Date.now() + 4_000;
    expect(await budgetSeen({ deadline, endReserveMs: 300 })).toBe(deadline - 300);
  });

  it('keeps at most a quarter of a short batch', async () => {
    const deadline = Date.now() + 400;
    const budget = await budgetSeen({ deadline, endReserveMs: 1_000 });
    expect(deadline - budget).toBeGreaterThan(90);
    expect(deadline - budget).toBeLessThanOrEqual(100);
  });

  it('keeps nothing without a reserve, and has no end without a deadline', async () => {
    const deadline = Date.now() + 4_000;
    expect(await budgetSeen({ deadline })).toBe(deadline);
    expect(await budgetSeen({ endReserveMs: 300 })).toBe(Number.POSITIVE_INFINITY);
  });

  it('starts no record whose budget is under 50 ms: it is reported (no own queue) with the reserve as reason', async () => {
    const event = records(3);
    const started: string[] = [];
    const response = await processBatch(
      event,
      async (record) => {
        started.push(record.messageId);
        await sleep(570);
      },
      { concurrency: 1, deadline: Date.now() + 800, endReserveMs: 200 },
    );
    // The budget is 600 ms: the first record runs 570 ms, the second would start with 30 ms left.
    expect(started).toEqual(idsOf(event).slice(0, 1));
    expect(failedIds(response)).toEqual(idsOf(event).slice(1));
    expect(logLines('record failed').map((l) => [l.message_id, l.error_name, l.attempts])).toEqual([
      [idsOf(event)[1], 'MixinUnavailableError', 0],
      [idsOf(event)[2], 'MixinUnavailableError', 0],
    ]);
  });

  it('a record not started for the reserve goes back on its own queue at once, not as a failure', async () => {
    const event = records(2);
    // The budget is 1,200 ms: the second record would start with 30 ms left; the reserve gives its copy 400 ms.
    const response = await processBatch(event, () => sleep(1_170), {
      concurrency: 1,
      deadline: Date.now() + 1_600,
      endReserveMs: 400,
      sourceQueueUrl: sourceUrl,
      deadLetterQueueUrl: dlqUrl,
      maxReceiveCount: 5,
    });
    expect(failedIds(response)).toEqual([]);
    expect(logLines('record deferred')).toEqual([
      expect.objectContaining({ message_id: idsOf(event)[1], delay_seconds: 0, failure_count: 0 }),
    ]);
    expect((await taken(sourceUrl, 1)).map((m) => m.Body)).toEqual([event.Records[1]!.body]);
  });
});

describe('records in flight', () => {
  it('runs at most `concurrency` at once, every record once, and reports failures in batch order', async () => {
    const event = records(7);
    let inFlight = 0;
    let most = 0;
    const seen: string[] = [];
    const response = await processBatch(
      event,
      async (record) => {
        seen.push(record.messageId);
        most = Math.max(most, ++inFlight);
        const n = (JSON.parse(record.body) as { n: number }).n;
        // Later records end sooner: the failures end in another order than the batch's.
        await sleep(60 - n * 8);
        inFlight--;
        if (n === 1 || n === 5) throw new Error(`record ${n} broke`);
      },
      { concurrency: 3 },
    );
    expect(most).toBe(3);
    expect(seen.sort()).toEqual(idsOf(event).sort());
    expect(failedIds(response)).toEqual([idsOf(event)[1], idsOf(event)[5]]);
  });

  it('a success is logged with its conversation ID', async () => {
    const event = records(1);
    await processBatch(event, async () => ({ conversation: { conversation_id: 'c-1' } }), { concurrency: 2 });
    expect(logLines('record succeeded')).toEqual([
      expect.objectContaining({ message_id: idsOf(event)[0], receive_count: '1', conversation_id: 'c-1' }),
    ]);
  });
});

describe('where each ending sends a record', () => {
  const withQueues = (extra: Partial<SqsBatch.BatchOptions> = {}): SqsBatch.BatchOptions => ({
    concurrency: 5,
    sourceQueueUrl: sourceUrl,
    deadLetterQueueUrl: dlqUrl,
    maxReceiveCount: 5,
    maxDeferredAgeMs: 60_000,
    ...extra,
  });

  it("a rate limit defers it for the limit's Retry-After, at most maxDeferSeconds", async () => {
    const event = records(2);
    const response = await processBatch(
      event,
      async (record) => {
        throw new errors.MixinRateLimitError(1, record.messageId === idsOf(event)[0] ? 2 : 40);
      },
      withQueues({ maxDeferSeconds: 3 }),
    );
    expect(failedIds(response)).toEqual([]);
    expect(logged('record deferred', 'delay_seconds')).toEqual(
      [
        [idsOf(event)[0], 2],
        [idsOf(event)[1], 3],
      ].sort(),
    );
  });

  it('a copy goes out as soon as it is decided, while the rest of the batch still runs', async () => {
    const event = records(2);
    let queuedDuringBatch: Message[] = [];
    const response = await processBatch(
      event,
      async (record) => {
        if (record.messageId === idsOf(event)[0]) throw new errors.MixinRateLimitError(1, 0);
        await sleep(100);
        // Soon after it was decided (DEFERRAL_FLUSH_MS is 100 ms), not at the batch's end.
        queuedDuringBatch = await taken(sourceUrl, 1, 400);
      },
      withQueues({ concurrency: 2 }),
    );
    expect(failedIds(response)).toEqual([]);
    expect(queuedDuringBatch.map((m) => m.Body)).toEqual([event.Records[0]!.body]);
  });

  it('a record deferred for longer than maxDeferredAgeMs is dead-lettered as rate-limited, with its real failures', async () => {
    const event = records(2, 3);
    for (const record of event.Records) record.attributes.SentTimestamp = String(Date.now() - 120_000);
    const response = await processBatch(
      event,
      async (record) => {
        throw record.messageId === idsOf(event)[0]
          ? new errors.MixinRateLimitError(1, 2)
          : errors.MixinUnavailableError.batchReserve(0);
      },
      withQueues(),
    );
    expect(failedIds(response)).toEqual([]);
    const letters = await taken(dlqUrl, 2);
    expect(letters.map((m) => m.MessageAttributes?.ErrorName?.StringValue)).toEqual([
      'MixinRateLimitError',
      'MixinRateLimitError',
    ]);
    expect(logged('record dead-lettered', 'real_failures')).toEqual(
      [
        [idsOf(event)[0], 2],
        [idsOf(event)[1], 2],
      ].sort(),
    );
  });

  it('without a dead-letter queue, an old deferred record is still deferred, never dropped', async () => {
    const event = records(1);
    event.Records[0]!.attributes.SentTimestamp = String(Date.now() - 120_000);
    const response = await processBatch(event, rateLimited, withQueues({ deadLetterQueueUrl: undefined }));
    expect(failedIds(response)).toEqual([]);
    expect(await taken(sourceUrl, 1)).toHaveLength(1);
  });

  it('at its last receive, a record whose copy cannot carry its attributes is dead-lettered now, with its reason', async () => {
    const event = records(2, 5);
    withTenAttributes(event.Records[0]!);
    const response = await processBatch(event, rateLimited, withQueues());
    expect(failedIds(response)).toEqual([]);
    const [letter] = await taken(dlqUrl, 1);
    expect(letter!.Body).toBe(event.Records[0]!.body);
    const [copy] = await taken(sourceUrl, 1);
    expect(copy!.Body).toBe(event.Records[1]!.body);
  });

  it('before its last receive, the same record is reported for redelivery (no copy fits)', async () => {
    const event = records(1, 4);
    withTenAttributes(event.Records[0]!);
    const response = await processBatch(event, rateLimited, withQueues());
    expect(failedIds(response)).toEqual(idsOf(event));
    expect(logLines('record failed')).toEqual([
      expect.objectContaining({ message_id: idsOf(event)[0], deferral_send_failed: true }),
    ]);
  });

  it('a real failure is reported until its maxReceiveCount-th, then dead-lettered; a bug of ours never is', async () => {
    const event = records(3, 5);
    event.Records[0]!.attributes.ApproximateReceiveCount = '4';
    const response = await processBatch(
      event,
      async (record) => {
        if (record.messageId === idsOf(event)[2]) throw new TypeError('a bug');
        throw new errors.MixinUnavailableError('server-error', 'Mixin answered HTTP 500', 1);
      },
      withQueues(),
    );
    expect(failedIds(response)).toEqual([idsOf(event)[0], idsOf(event)[2]]);
    expect(logLines('record dead-lettered')).toEqual([
      expect.objectContaining({ message_id: idsOf(event)[1], real_failures: 5 }),
    ]);
    expect((await taken(dlqUrl, 1)).map((m) => m.Body)).toEqual([event.Records[1]!.body]);
  });

  it('a hand-made record without attributes or message attributes is dead-lettered with what is known', async () => {
    const event = records(1);
    const record = event.Records[0] as Partial<SQSRecord>;
    delete record.attributes;
    delete record.messageAttributes;
    const response = await processBatch(
      event,
      async () => {
        throw new errors.MixinRequestError(10002, 'bad', undefined, 1);
      },
      withQueues(),
    );
    expect(failedIds(response)).toEqual([]);
    const [letter] = await taken(dlqUrl, 1);
    const attributes = Object.fromEntries(
      Object.entries(letter!.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]),
    );
    expect(attributes).toMatchObject({
      ErrorName: 'MixinRequestError',
      IdempotencyKey: idsOf(event)[0],
      MixinCode: '10002',
      SourceMessageId: idsOf(event)[0],
    });
    expect(attributes).not.toHaveProperty('ReceiveCount');
    expect(logLines('record dead-lettered')).toEqual([
      expect.objectContaining({ message_id: idsOf(event)[0], real_failures: 1 }),
    ]);
  });

  it("a producer's attribute named like a reason gives way to ours, and takes no room from the others", async () => {
    const event = records(1);
    const attributes: RecordAttributes = { ErrorName: string('mine') };
    for (let i = 0; i < 8; i++) attributes[`A${i}`] = string(String(i));
    (event.Records[0] as unknown as { messageAttributes: RecordAttributes }).messageAttributes = attributes;
    await processBatch(
      event,
      async () => {
        throw new errors.MixinRequestError(10002, 'bad', undefined, 1);
      },
      withQueues(),
    );
    const [letter] = await taken(dlqUrl, 1);
    const got = letter!.MessageAttributes ?? {};
    expect(Object.keys(got)).toHaveLength(10);
    expect(got.ErrorName?.StringValue).toBe('MixinRequestError');
    // Eight of the producer's, then our reasons most useful first: the name and the key.
    expect(got.IdempotencyKey?.StringValue).toBe(idsOf(event)[0]);
  });

  it('our own deadline before Mixin was asked is a real failure: only the reserve defers', async () => {
    const event = records(1);
    const response = await processBatch(
      event,
      async () => {
        throw errors.MixinUnavailableError.deadlineBeforeMixin();
      },
      withQueues(),
    );
    expect(failedIds(response)).toEqual(idsOf(event));
    expect(logLines('record deferred')).toEqual([]);
  });

  it('a reserve cut after Mixin was asked is a real failure, not a deferral', async () => {
    const event = records(1);
    const response = await processBatch(
      event,
      async () => {
        throw errors.MixinUnavailableError.batchReserve(1);
      },
      withQueues(),
    );
    expect(failedIds(response)).toEqual(idsOf(event));
  });
});
