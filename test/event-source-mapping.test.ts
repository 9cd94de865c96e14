/**
 * The local event source mapping against a real local SQS (fauxqs), with a stand-in function: the event it builds,
 * and Lambda's ReportBatchItemFailures rules for what it deletes and what comes back.
 */
import { createHash } from 'node:crypto';
import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { EventSourceMapping, type Invoke, recordsToDelete } from '../infra/local/event-source-mapping';
import { LocalSqs, type LocalQueue } from '../infra/local/sqs';
import { localQueueSettings } from '../infra/local/queue-settings';
import { queueTriggers, resolveParamValue } from '../infra/local/template';
import { queueDepth, waitFor } from './support/queues';

let sqs: LocalSqs;
let client: SQSClient;
let mapping: EventSourceMapping | undefined;
/** Each test gets a queue of its own: the template's two source queues, used in turn, are drained between tests. */
let queue: LocalQueue;

beforeAll(async () => {
  sqs = await LocalSqs.start({ visibilityTimeoutSeconds: 1 });
  client = sqs.client();
  queue = sqs.queue('CreateGroupQueue');
});
afterEach(async () => {
  await mapping?.stop();
  mapping = undefined;
});
afterAll(async () => {
  client?.destroy();
  await sqs?.stop();
});

/** Messages visible plus in flight. */
const depth = (url: string) => queueDepth(client, url);

const send = async (bodies: string[], url = queue.url): Promise<string[]> => {
  const ids: string[] = [];
  for (let i = 0; i < bodies.length; i += 10) {
    const out = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: String(j), MessageBody })),
      }),
    );
    ids.push(...out.Successful!.map((s) => s.MessageId!));
  }
  return ids;
};

/** A mapping on the queue whose stand-in function records every event and answers with `respond`. */
const map = (
  respond: (event: SQSEvent, call: number) => unknown,
  options: { url?: string; arn?: string; pollers?: number } = {},
) => {
  const events: SQSEvent[] = [];
  const invoke: Invoke = async (event) => {
    events.push(structuredClone(event));
    return respond(event, events.length);
  };
  const errors: unknown[] = [];
  mapping = new EventSourceMapping({
    sqs: client,
    queueUrl: options.url ?? queue.url,
    queueArn: options.arn ?? queue.arn,
    region: sqs.region,
    invoke,
    pollers: options.pollers ?? 1,
    onError: (e) => errors.push(e),
  }).start();
  return { events, errors };
};

const ids = (event: SQSEvent | undefined) => event?.Records.map((r) => r.messageId) ?? [];

describe('recordsToDelete (Lambda ReportBatchItemFailures)', () => {
  const records = ['a', 'b', 'c'].map((messageId) => ({ messageId }) as SQSRecord);
  const deleted = (response: unknown) => recordsToDelete(records, { response }).map((r) => r.messageId);

  it.each([
    ['no response', undefined, ['a', 'b', 'c']],
    ['null', null, ['a', 'b', 'c']],
    ['an empty object', {}, ['a', 'b', 'c']],
    ['batchItemFailures null', { batchItemFailures: null }, ['a', 'b', 'c']],
    ['batchItemFailures empty', { batchItemFailures: [] }, ['a', 'b', 'c']],
    ['one failure', { batchItemFailures: [{ itemIdentifier: 'b' }] }, ['a', 'c']],
    ['a failure reported twice', { batchItemFailures: [{ itemIdentifier: 'c' }, { itemIdentifier: 'c' }] }, ['a', 'b']],
    ['an unknown itemIdentifier', { batchItemFailures: [{ itemIdentifier: 'b' }, { itemIdentifier: 'zzz' }] }, []],
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }, []],
    ['a null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }, []],
    ['a bad key name', { batchItemFailures: [{ itemId: 'b' }] }, []],
    ['a null entry', { batchItemFailures: [null] }, []],
    ['batchItemFailures not a list', { batchItemFailures: 'b' }, []],
    ['a string response', 'ok', []],
    ['a list response', [], []],
  ])('%s', (_, response, expected) => {
    expect(deleted(response)).toEqual(expected);
  });

  it('deletes nothing after a function error, and everything without ReportBatchItemFailures', () => {
    expect(recordsToDelete(records, { error: new Error('boom') })).toEqual([]);
    expect(recordsToDelete(records, { response: { batchItemFailures: [{ itemIdentifier: 'zzz' }] } }, false)).toEqual(
      records,
    );
  });
});

describe('EventSourceMapping against a local SQS', () => {
  it('delivers the SQS event Lambda builds, and deletes a batch that succeeds', async () => {
    const body = JSON.stringify({ name: 'Team room' });
    const { MessageId } = await client.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: body,
        MessageAttributes: {
          IdempotencyKey: { DataType: 'String', StringValue: 'order-7' },
          Priority: { DataType: 'Number', StringValue: '3' },
          Blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 254, 255]) },
        },
      }),
    );
    const sentAt = Date.now();
    const { events } = map(() => ({ batchItemFailures: [] }));
    await waitFor('the event', () => events.length === 1);
    const record = events[0]!.Records[0]!;
    expect(events[0]!.Records).toHaveLength(1);
    expect(Object.keys(record).sort()).toEqual([
      'attributes',
      'awsRegion',
      'body',
      'eventSource',
      'eventSourceARN',
      'md5OfBody',
      'md5OfMessageAttributes',
      'messageAttributes',
      'messageId',
      'receiptHandle',
    ]);
    expect(record).toMatchObject({
      messageId: MessageId,
      body,
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: 'us-east-1',
    });
    expect(record.receiptHandle).toEqual(expect.any(String));
    expect(record.md5OfBody).toBe(createHash('md5').update(body).digest('hex'));
    expect(record.attributes).toEqual({
      ApproximateReceiveCount: '1',
      SentTimestamp: expect.stringMatching(/^\d{13}$/),
      SenderId: expect.any(String),
      ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
    });
    expect(Math.abs(Number(record.attributes.SentTimestamp) - sentAt)).toBeLessThan(5_000);
    expect(record.messageAttributes).toEqual({
      IdempotencyKey: { stringValue: 'order-7', stringListValues: [], binaryListValues: [], dataType: 'String' },
      Priority: { stringValue: '3', stringListValues: [], binaryListValues: [], dataType: 'Number' },
      Blob: {
        binaryValue: Buffer.from([0, 1, 254, 255]).toString('base64'),
        stringListValues: [],
        binaryListValues: [],
        dataType: 'Binary',
      },
    });
    await waitFor('the queue to empty', async () => (await depth(queue.url)) === 0);
    expect(mapping!.stats.deleted).toBe(1);
  });

  it('deletes the records that succeeded and gets the reported ones back after the visibility timeout', async () => {
    const sent = await send(['ok-1', 'fail', 'ok-2']);
    const { events } = map((event, call) => ({
      batchItemFailures:
        call === 1 ? event.Records.filter((r) => r.body === 'fail').map((r) => ({ itemIdentifier: r.messageId })) : [],
    }));
    await waitFor('the redelivery', () => events.length === 2);
    expect(ids(events[0]).sort()).toEqual([...sent].sort());
    expect(ids(events[1])).toEqual([sent[1]]);
    expect(events[1]!.Records[0]!.attributes.ApproximateReceiveCount).toBe('2');
    expect(events[1]!.Records[0]!.receiptHandle).not.toBe(
      events[0]!.Records.find((r) => r.body === 'fail')!.receiptHandle,
    );
    await waitFor('the queue to empty', async () => (await depth(queue.url)) === 0);
  });

  it.each([
    ['a function error', () => Promise.reject(new Error('boom'))],
    ['an unknown itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] })],
    ['an empty itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: '' }] })],
  ])('gets the whole batch back after %s', async (_, failFirst) => {
    const sent = await send(['a', 'b', 'c']);
    const { events } = map((_event, call) => (call === 1 ? failFirst() : { batchItemFailures: [] }));
    await waitFor('the redelivery', () => events.length >= 2 && ids(events[1]).length + ids(events[2]).length === 3);
    expect(ids(events[0]).sort()).toEqual([...sent].sort());
    expect([...ids(events[1]), ...ids(events[2])].sort()).toEqual([...sent].sort());
    expect(events.slice(1).flatMap((e) => e.Records.map((r) => r.attributes.ApproximateReceiveCount))).toEqual([
      '2',
      '2',
      '2',
    ]);
    await waitFor('the queue to empty', async () => (await depth(queue.url)) === 0);
  });

  it('hands out at most 10 records per event, each message once when all succeed, over several pollers', async () => {
    const sent = await send(Array.from({ length: 45 }, (_, i) => `m${i}`));
    const { events } = map(() => null, { pollers: 3 });
    await waitFor('every message', () => events.flatMap(ids).length >= 45);
    await waitFor('the queue to empty', async () => (await depth(queue.url)) === 0);
    expect(Math.max(...events.map((e) => e.Records.length))).toBeLessThanOrEqual(10);
    expect(events.flatMap(ids).sort()).toEqual([...sent].sort());
  });

  it('runs `pollers` batches at once, never more: one invocation per batch, as many as maximumConcurrency', async () => {
    await send(Array.from({ length: 60 }, (_, i) => `c${i}`));
    let running = 0;
    let most = 0;
    const invocations: number[] = [];
    mapping = new EventSourceMapping({
      sqs: client,
      queueUrl: queue.url,
      queueArn: queue.arn,
      region: sqs.region,
      pollers: 4,
      waitTimeSeconds: 0,
      invoke: async (event) => {
        most = Math.max(most, ++running);
        invocations.push(event.Records.length);
        await new Promise((r) => setTimeout(r, 150));
        running--;
        return null;
      },
    }).start();
    await waitFor('the queue to empty', async () => (await depth(queue.url)) === 0);
    expect(most).toBe(4);
    expect(invocations.reduce((a, b) => a + b, 0)).toBe(60);
  });

  it('leaves a record that keeps failing to the redrive policy: in the DLQ after maxReceiveCount receives', async () => {
    // A queue of its own with no visibility timeout, so the five receives take no time.
    const fast = await LocalSqs.start({ visibilityTimeoutSeconds: 0 });
    const fastClient = fast.client();
    try {
      const source = fast.queue('CreateContactQueue');
      const dlq = fast.deadLetterQueueOf('CreateContactQueue');
      const { MessageId: sentId } = await fastClient.send(
        new SendMessageCommand({ QueueUrl: source.url, MessageBody: 'always fails' }),
      );
      const events: SQSEvent[] = [];
      const failAll: Invoke = async (event) => (
        events.push(event), { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) }
      );
      mapping = new EventSourceMapping({
        sqs: fastClient,
        queueUrl: source.url,
        queueArn: source.arn,
        region: fast.region,
        waitTimeSeconds: 0,
        invoke: failAll,
      }).start();
      let Messages: Message[] | undefined;
      await waitFor('the dead letter', async () => {
        ({ Messages } = await fastClient.send(new ReceiveMessageCommand({ QueueUrl: dlq.url, WaitTimeSeconds: 1 })));
        return Boolean(Messages?.length);
      });
      await mapping.stop();
      expect(Messages?.map((m) => [m.MessageId, m.Body])).toEqual([[sentId, 'always fails']]);
      expect(events.map((e) => e.Records[0]!.attributes.ApproximateReceiveCount)).toEqual(['1', '2', '3', '4', '5']);
      expect(source.redrive?.maxReceiveCount).toBe(5);
    } finally {
      fastClient.destroy();
      await fast.stop();
    }
  });

  it('stops within one long poll, hands back what that poll got, and invokes nothing afterwards', async () => {
    const events: SQSEvent[] = [];
    const idle = new EventSourceMapping({
      sqs: client,
      queueUrl: queue.url,
      queueArn: queue.arn,
      region: sqs.region,
      waitTimeSeconds: 1,
      invoke: async (e) => events.push(e),
    }).start();
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const stopped = idle.stop();
    await send(['during stop']); // the long poll under way takes it
    await stopped;
    expect(Date.now() - started).toBeLessThan(2_000);
    await send(['after stop']);
    await new Promise((r) => setTimeout(r, 300));
    expect(events).toEqual([]);
    // Both visible now: the one the last poll got was handed back, not left hidden for the visibility timeout.
    const { Attributes: a } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(a!.ApproximateNumberOfMessages).toBe('2');
  });
});

describe('the template as npm start resolves it', () => {
  it("takes each queue trigger's maximumConcurrency and timeout as osls resolves them: serverless.yml params, --param first", () => {
    const triggers = queueTriggers('local');
    expect(triggers.map((t) => [t.functionKey, t.queueLogicalId, t.maximumConcurrency, t.timeoutSeconds])).toEqual([
      ['createGroupQueue', 'CreateGroupQueue', 5, 30],
      ['createContactQueue', 'CreateContactQueue', 5, 30],
    ]);
    const overridden = queueTriggers('local', { queueMaximumConcurrency: '7', queueFunctionTimeout: '4' });
    expect(overridden.map((t) => [t.maximumConcurrency, t.timeoutSeconds])).toEqual([
      [7, 4],
      [7, 4],
    ]);
    expect(() => queueTriggers('local', { queueMaximumConcurrency: 'many' })).toThrow(
      'createGroupQueue.events.sqs.maximumConcurrency must be a positive whole number, got "many"',
    );
    expect(() => resolveParamValue('${param:noSuchParam}', 'local', 'x')).toThrow(
      'x: serverless.yml sets no parameter noSuchParam for the stage local',
    );
    expect(() => resolveParamValue('${self:service}', 'local', 'x')).toThrow('cannot resolve');
  });

  it("keeps the deployed ratio locally: visibility timeout at least 6x the queue functions' timeout, refused below", () => {
    expect(localQueueSettings({})).toEqual({
      visibilityTimeoutSeconds: 30,
      functionTimeoutSeconds: 5,
      maximumConcurrency: undefined,
    });
    expect(
      localQueueSettings({
        LOCAL_QUEUE_VISIBILITY_TIMEOUT: '60',
        LOCAL_QUEUE_FUNCTION_TIMEOUT: '10',
        LOCAL_QUEUE_MAXIMUM_CONCURRENCY: '2',
      }),
    ).toEqual({ visibilityTimeoutSeconds: 60, functionTimeoutSeconds: 10, maximumConcurrency: 2 });
    expect(() => localQueueSettings({ LOCAL_QUEUE_VISIBILITY_TIMEOUT: '5' })).toThrow(
      /LOCAL_QUEUE_VISIBILITY_TIMEOUT \(5 s\) must be at least 6 times the queue functions' timeout \(LOCAL_QUEUE_FUNCTION_TIMEOUT, 5 s\).*Raise it to 30/,
    );
    expect(() => localQueueSettings({ LOCAL_QUEUE_FUNCTION_TIMEOUT: '6' })).toThrow('at least 6 times');
    expect(() => localQueueSettings({ LOCAL_QUEUE_MAXIMUM_CONCURRENCY: '0' })).toThrow(
      'LOCAL_QUEUE_MAXIMUM_CONCURRENCY must be a whole number from 1 to 1000, got "0"',
    );
  });
});
