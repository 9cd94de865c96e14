/**
 * Records that can never succeed go straight to the function's own dead-letter queue, with the reason, through the
 * real AWS SDK SQS client against a local SQS (fauxqs on 127.0.0.1): exact attributes, one Mixin call, and the
 * fallback to SQS's own redrive when the dead-letter queue refuses.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { buildApp } from 'fauxqs';
import { uniqueConversationId } from '../lib/conversation-id';
import { shortMessage } from '../lib/text';
import { type RecordAttributes as Attributes, takeAll } from './support/queues';
import {
  captureConsole,
  type Harness,
  lambdaContext,
  type LambdaHandler,
  sqsEvent,
  startHarness,
} from './support/harness';

type Queue = LambdaHandler<unknown, SQSBatchResponse>;

let app: ReturnType<typeof buildApp>;
let endpoint: string;
let sqs: SQSClient;
let h: Harness;
let dlqUrl: string;
let groups: Queue;
let contacts: Queue;

const createQueue = async (name: string): Promise<string> =>
  (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;

const drain = (url: string) => takeAll(sqs, url);

const group = (user: string, name = 'Dead room') => JSON.stringify({ name, participants: [{ user_id: user }] });
const withAttributes = <E extends ReturnType<typeof sqsEvent>>(event: E, index: number, attributes: Attributes): E => {
  (event.Records[index] as { messageAttributes: Attributes }).messageAttributes = attributes;
  return event;
};
const stringAttribute = (value: string, dataType = 'String') => ({
  dataType,
  stringValue: value,
  stringListValues: [],
  binaryListValues: [],
});

beforeAll(async () => {
  app = buildApp({ logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as { port: number };
  endpoint = `http://127.0.0.1:${address.port}`;
  sqs = new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  dlqUrl = await createQueue(`dlq-${randomUUID()}`);
  h = await startHarness({ DEAD_LETTER_QUEUE_URL: dlqUrl, AWS_ENDPOINT_URL_SQS: endpoint, MIXIN_MAX_ATTEMPTS: '2' });
  groups = h.load<{ handler: Queue }>('../../functions/create-group/queue').handler;
  contacts = h.load<{ handler: Queue }>('../../functions/create-contact/queue').handler;
});
afterAll(async () => {
  await h.stop();
  sqs.destroy();
  await app.close();
});
beforeEach(async () => {
  h.sandbox.reset();
  await drain(dlqUrl);
});

describe('straight to the dead-letter queue', () => {
  it('sends each record that can never succeed once, byte for byte, with its attributes and the reason; reports only the retryable one', async () => {
    const rejected = randomUUID();
    const flaky = randomUUID();
    h.sandbox.inject({ kind: 'error', code: 10002, userId: rejected });
    h.sandbox.inject({ kind: 'error', code: 7000, userId: flaky });
    const bodies = [
      group(randomUUID()),
      '{"name": "broken',
      JSON.stringify({ name: 'x', participants: [{ user_id: 'nope' }] }),
      group(rejected),
      group(flaky),
    ];
    const event = withAttributes(sqsEvent(bodies, undefined, 3), 3, {
      IdempotencyKey: stringAttribute('order-9'),
      Tenant: stringAttribute('acme', 'String.tenant'),
    });
    const ids = event.Records.map((r) => r.messageId);
    const before = Date.now();

    expect(await groups(event, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: ids[4] }] });
    expect(h.sandbox.requests.filter((r) => r.body.includes(rejected))).toHaveLength(1); // one Mixin call, not five

    const letters = new Map((await drain(dlqUrl)).map((m) => [m.MessageAttributes!.SourceMessageId!.StringValue!, m]));
    expect([...letters.keys()].sort()).toEqual([ids[1], ids[2], ids[3]].sort());
    for (const i of [1, 2, 3]) {
      const m = letters.get(ids[i]!)!;
      expect(m.Body).toBe(bodies[i]);
      const a = m.MessageAttributes!;
      expect(a.SourceQueue).toEqual({ DataType: 'String', StringValue: event.Records[i]!.eventSourceARN });
      expect(a.ReceiveCount).toEqual({ DataType: 'Number', StringValue: '3' });
      expect(Date.parse(a.FailedAt!.StringValue!)).toBeGreaterThanOrEqual(before - 1000);
    }
    expect(letters.get(ids[1]!)!.MessageAttributes!.ErrorName!.StringValue).toBe('InvalidRequestError');
    expect(letters.get(ids[1]!)!.MessageAttributes!.ErrorMessage!.StringValue).toBe('body: is not valid JSON');
    expect(letters.get(ids[2]!)!.MessageAttributes!.ErrorMessage!.StringValue).toMatch(
      /participants\[0\]\.user_id: must be a UUID/,
    );
    expect(letters.get(ids[1]!)!.MessageAttributes!.MixinCode).toBeUndefined();
    // A record without a key was keyed by its messageId: the dead letter carries it, so a redrive addresses the same group.
    expect(letters.get(ids[1]!)!.MessageAttributes!.IdempotencyKey).toEqual({
      DataType: 'String',
      StringValue: ids[1],
    });
    const mixin = letters.get(ids[3]!)!.MessageAttributes!;
    expect(mixin.ErrorName!.StringValue).toBe('MixinRequestError');
    expect(mixin.MixinCode).toEqual({ DataType: 'Number', StringValue: '10002' });
    // The producer's attributes survive, so a redrive keeps its idempotency key.
    expect(mixin.IdempotencyKey).toEqual({ DataType: 'String', StringValue: 'order-9' });
    expect(mixin.Tenant).toEqual({ DataType: 'String.tenant', StringValue: 'acme' });
  });

  it('keeps every original attribute when they leave little room, and fills what is left with the reason, most useful first', async () => {
    const attributes: Attributes = Object.fromEntries(
      Array.from({ length: 8 }, (_, i) => [`A${i}`, stringAttribute(String(i))]),
    );
    const event = withAttributes(sqsEvent(['not json']), 0, attributes);
    expect(await groups(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    const [letter] = await drain(dlqUrl);
    expect(Object.keys(letter!.MessageAttributes!).sort()).toEqual([
      'A0',
      'A1',
      'A2',
      'A3',
      'A4',
      'A5',
      'A6',
      'A7',
      'ErrorName',
      'IdempotencyKey',
    ]);
  });

  it('splits large records over several sends (1 MiB a batch), each with its reason', async () => {
    const big = (i: number) =>
      JSON.stringify({
        name: `Big ${i}`,
        participants: [{ user_id: randomUUID() }],
        announcement: 'x'.repeat(150_000),
      });
    const event = sqsEvent(Array.from({ length: 10 }, (_, i) => big(i)));
    expect(await groups(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    const letters = await drain(dlqUrl);
    expect(letters.map((m) => m.MessageAttributes!.SourceMessageId!.StringValue).sort()).toEqual(
      event.Records.map((r) => r.messageId).sort(),
    );
    for (const m of letters)
      expect(m.MessageAttributes!.ErrorMessage!.StringValue).toMatch(
        /announcement: must be at most 4096 characters long/,
      );
  });

  it('sends a record near the 1 MiB limit with the reasons that still fit, rather than not at all', async () => {
    const body = 'x'.repeat(1_048_576 - 40); // not JSON; room for ErrorName only
    const event = sqsEvent([body]);
    expect(await groups(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    const [letter] = await drain(dlqUrl);
    expect(letter!.Body).toBe(body);
    expect(Object.keys(letter!.MessageAttributes!)).toEqual(['ErrorName']);
  });

  it('a reason that brings the dead letter to exactly 1 MiB still goes; one byte more and it gives way', async () => {
    // ErrorName counts its name, data type and value, as SQS counts an attribute.
    const errorNameBytes = 'ErrorName'.length + 'String'.length + 'InvalidRequestError'.length;
    const exact = 'x'.repeat(1_048_576 - errorNameBytes);
    const over = `${exact}x`;
    expect(await groups(sqsEvent([exact, over]), lambdaContext())).toEqual({ batchItemFailures: [] });
    const letters = await drain(dlqUrl);
    const attributesOf = (body: string) => Object.keys(letters.find((m) => m.Body === body)?.MessageAttributes ?? {});
    expect(letters).toHaveLength(2);
    expect(attributesOf(exact)).toEqual(['ErrorName']);
    expect(attributesOf(over)).not.toContain('ErrorName'); // a smaller reason that still fits may go instead
  });

  it('a group whose conversation_id names an existing CONTACT is a conflict: dead-lettered, not a success', async () => {
    const user = randomUUID();
    expect(await contacts(sqsEvent([JSON.stringify({ participants: [{ user_id: user }] })]), lambdaContext())).toEqual({
      batchItemFailures: [],
    });
    const contactId = uniqueConversationId(h.bot.keystore.appId, user);
    expect(
      await groups(
        sqsEvent([JSON.stringify({ name: 'Clash', conversation_id: contactId, participants: [{ user_id: user }] })]),
        lambdaContext(),
      ),
    ).toEqual({ batchItemFailures: [] });
    const [letter] = await drain(dlqUrl);
    expect(letter!.MessageAttributes!.ErrorName!.StringValue).toBe('ConversationConflictError');
  });

  it('an IdempotencyKey reused with another name is refused and dead-lettered; the same body again succeeds', async () => {
    const user = randomUUID();
    const keyed = (name: string) =>
      withAttributes(sqsEvent([group(user, name)]), 0, { IdempotencyKey: stringAttribute('order-reuse') });
    expect(await groups(keyed('First'), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(await groups(keyed('Second'), lambdaContext())).toEqual({ batchItemFailures: [] });
    const [letter] = await drain(dlqUrl);
    expect(letter!.MessageAttributes!.ErrorName!.StringValue).toBe('IdempotencyKeyReusedError');
    expect(await groups(keyed('First'), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(await drain(dlqUrl)).toEqual([]);
    expect(h.sandbox.created).toBe(1);
  });

  it('credentials refused (401/403) and retryable failures stay for redelivery, never dead-lettered', async () => {
    const denied = randomUUID();
    h.sandbox.inject({ kind: 'error', code: 403, userId: denied });
    const event = sqsEvent([group(denied)]);
    expect(await groups(event, lambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }],
    });
    expect(await drain(dlqUrl)).toEqual([]);
  });
});

describe('when the dead-letter queue refuses', () => {
  it('reports the records in batchItemFailures, so SQS redrive still catches them: never lost', async () => {
    process.env.DEAD_LETTER_QUEUE_URL = `${endpoint}/000000000000/no-such-queue-${randomUUID()}`;
    const broken = h.load<{ handler: Queue }>('../../functions/create-group/queue').handler;
    const event = sqsEvent(['not json', group(randomUUID())]);
    expect(await broken(event, lambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }],
    });
    process.env.DEAD_LETTER_QUEUE_URL = dlqUrl;
  });
});

describe('the ErrorMessage attribute', () => {
  it('is at most 256 characters, never half a surrogate pair (SQS would refuse the whole send)', () => {
    const cut = shortMessage(`${'a'.repeat(255)}😀 and more`);
    expect(Array.from(cut)).toHaveLength(256);
    expect(cut.endsWith('😀')).toBe(true);
    expect(/[\uD800-\uDFFF]/u.test(cut)).toBe(false);
    expect(Array.from(shortMessage(`${'a'.repeat(254)}😀😀`))).toHaveLength(256);
  });
});

describe('the end of a batch keeps a reserve of time for its sends', () => {
  /** A handler loaded with these settings (a fresh cold start); the environment is restored after each test. */
  let saved: NodeJS.ProcessEnv | undefined;
  const loadWith = (env: Record<string, string>): Queue => {
    saved ??= { ...process.env };
    Object.assign(process.env, env);
    return h.load<{ handler: Queue }>('../../functions/create-group/queue').handler;
  };
  /** A TCP server that accepts connections and never answers: a hung SQS endpoint. */
  const hungEndpoint = async (): Promise<{ url: string; close: () => Promise<void> }> => {
    const sockets = new Set<import('node:net').Socket>();
    const server: Server = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
  };
  afterEach(() => {
    jest.restoreAllMocks();
    if (saved) process.env = saved;
    saved = undefined;
  });

  it('stops starting Mixin calls when only the reserve is left, cuts the one running there, and sends its dead letter within the reserve', async () => {
    const hung = randomUUID();
    h.sandbox.inject({ kind: 'hang', userId: hung });
    const handler = loadWith({
      QUEUE_CONCURRENCY: '1',
      MIXIN_ATTEMPT_TIMEOUT_MS: '10000',
      BATCH_END_RESERVE_MS: '1000',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
    const lines = captureConsole();
    const event = sqsEvent(['not json', group(hung), group(randomUUID())]);
    const ids = event.Records.map((r) => r.messageId);
    const started = Date.now();
    // 4,500 ms left, 500 ms margin, 1,000 ms reserve: Mixin calls may run for the first 3,000 ms only.
    expect(await handler(event, lambdaContext(4_500))).toEqual({
      batchItemFailures: [{ itemIdentifier: ids[1] }, { itemIdentifier: ids[2] }],
    });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(2_950);
    expect(elapsed).toBeLessThan(3_700);
    expect(h.sandbox.requests.map((r) => r.body.includes(hung))).toEqual([true]); // the third record never reached Mixin
    expect((await drain(dlqUrl)).map((m) => m.MessageAttributes!.SourceMessageId!.StringValue)).toEqual([ids[0]]);
    const failures = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.message === 'record failed');
    expect(failures.map((l) => [l.message_id, l.error_name, l.attempts])).toEqual([
      [ids[1], 'MixinUnavailableError', 1],
      [ids[2], 'MixinUnavailableError', 0],
    ]);
    for (const l of failures) expect(l.error_message).toMatch(/batch's end reserve/);
  }, 10_000);

  it('bounds a hung dead-letter send by the reserve and reports what it could not send', async () => {
    const endpoint = await hungEndpoint();
    try {
      const handler = loadWith({
        AWS_ENDPOINT_URL_SQS: endpoint.url,
        BATCH_END_RESERVE_MS: '500',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      const lines = captureConsole();
      const event = sqsEvent(['not json', group(randomUUID())]);
      const started = Date.now();
      expect(await handler(event, lambdaContext(2_000))).toEqual({
        batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }],
      });
      // Answered before the function's deadline (2,000 ms less the 500 ms margin), not cut off by Lambda.
      expect(Date.now() - started).toBeLessThan(1_900);
      const failed = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.message === 'record failed');
      expect(failed).toMatchObject({
        message_id: event.Records[0]!.messageId,
        error_name: 'InvalidRequestError',
        dead_letter_send_failed: true,
      });
      expect(h.sandbox.created).toBe(1);
    } finally {
      await endpoint.close();
    }
  }, 10_000);
});

describe('what operators and SQS see of a dead letter', () => {
  let saved: NodeJS.ProcessEnv | undefined;
  afterEach(() => {
    jest.restoreAllMocks();
    if (saved) process.env = saved;
    saved = undefined;
  });
  const loadLogging = (): Queue => {
    saved = { ...process.env };
    Object.assign(process.env, { POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false' });
    return h.load<{ handler: Queue }>('../../functions/create-group/queue').handler;
  };
  const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  it('reports exactly the entry SQS refuses (its Failed list), and dead-letters the others', async () => {
    // SQS refuses a body with a character outside its allowed set (U+0000) for that entry only, not the whole call.
    const event = sqsEvent(['not json', 'not json\u0000either', '{"also": "not a group"']);
    const ids = event.Records.map((r) => r.messageId);
    const handler = loadLogging();
    const lines = captureConsole();
    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: ids[1] }] });
    expect((await drain(dlqUrl)).map((m) => m.MessageAttributes!.SourceMessageId!.StringValue).sort()).toEqual(
      [ids[0], ids[2]].sort(),
    );
    const logs = parsed(lines);
    expect(logs.filter((l) => l.message === 'dead-letter send refused').map((l) => l.message_id)).toEqual([ids[1]]);
    expect(
      logs
        .filter((l) => l.message === 'record failed')
        .map((l) => [l.message_id, l.dead_letter_send_failed, l.error_name]),
    ).toEqual([[ids[1], true, 'InvalidRequestError']]);
  });

  it('logs each dead letter with its reason and counts it in RecordsDeadLettered by error_name', async () => {
    const rejected = randomUUID();
    h.sandbox.inject({ kind: 'error', code: 10002, userId: rejected });
    const event = sqsEvent(['not json', group(rejected)]);
    const ids = event.Records.map((r) => r.messageId);
    const handler = loadLogging();
    const lines = captureConsole();
    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    const logs = parsed(lines);
    const dead = logs.filter((l) => l.message === 'record dead-lettered');
    expect(dead.map((l) => [l.message_id, l.error_name, l.retryable, l.level])).toEqual([
      [ids[0], 'InvalidRequestError', false, 'WARN'],
      [ids[1], 'MixinRequestError', false, 'WARN'],
    ]);
    expect(dead[1]).toMatchObject({ mixin_code: 10002, attempts: 1, receive_count: '1' });
    expect(logs.filter((l) => l.dead_letter_send_failed !== undefined)).toEqual([]);
    // One EMF line per dead letter, dimensioned by its error name beside the standard service, category and trigger.
    const emf = logs.filter((l) => l.RecordsDeadLettered !== undefined);
    expect(emf.map((l) => [l.RecordsDeadLettered, l.error_name])).toEqual([
      [1, 'InvalidRequestError'],
      [1, 'MixinRequestError'],
    ]);
    for (const l of emf) {
      const { Dimensions } = (l._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]!;
      expect(Dimensions[0]!.sort()).toEqual(['category', 'error_name', 'service', 'trigger']);
    }
  });

  it('keeps the bytes of a Binary message attribute in the dead letter', async () => {
    const bytes = Buffer.from([0, 1, 2, 254, 255, 0x80, 0x7f]);
    const event = withAttributes(sqsEvent(['not json']), 0, {
      Blob: { dataType: 'Binary', binaryValue: bytes.toString('base64'), stringListValues: [], binaryListValues: [] },
    });
    expect(await groups(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    const [letter] = await drain(dlqUrl);
    expect(letter!.MessageAttributes!.Blob!.DataType).toBe('Binary');
    expect(Buffer.from(letter!.MessageAttributes!.Blob!.BinaryValue!)).toEqual(bytes);
  });
});
