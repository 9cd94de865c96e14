/**
 * The queue functions end to end, as deployed but on 127.0.0.1: messages go into the template's queues in a local
 * SQS (fauxqs, redrive after maxReceiveCount), the local event source mapping hands them in batches to the real
 * handlers (loaded in-process), which create conversations in the Mixin sandbox or dead-letter what can never
 * succeed. A 1 s visibility timeout keeps redeliveries quick.
 */
import { randomUUID } from 'node:crypto';
import { type Message, type MessageAttributeValue, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { EventSourceMapping } from '../infra/local/event-source-mapping';
import { LocalSqs } from '../infra/local/sqs';
import { groupIdForKey, uniqueConversationId } from '../lib/conversation-id';
import { type Harness, lambdaContext, type LambdaHandler, startHarness } from './support/harness';
import { queueDepth, takeAll as takeAllFrom, waitFor } from './support/queues';

type Queue = LambdaHandler<SQSEvent, SQSBatchResponse>;
type QueueId = 'CreateGroupQueue' | 'CreateContactQueue';
const FUNCTION_OF: Record<QueueId, string> = { CreateGroupQueue: 'create-group', CreateContactQueue: 'create-contact' };

let sqs: LocalSqs;
let client: SQSClient;
let h: Harness;
let mappings: EventSourceMapping[] = [];

beforeAll(async () => {
  sqs = await LocalSqs.start({ visibilityTimeoutSeconds: 1 });
  client = sqs.client();
  h = await startHarness({ AWS_ENDPOINT_URL_SQS: sqs.endpoint, QUEUE_CONCURRENCY: '5' });
});
afterEach(async () => {
  await Promise.all(mappings.map((m) => m.stop()));
  mappings = [];
  // Nothing of a test may reach the next one.
  for (const queue of sqs.queues)
    expect({ queue: queue.name, depth: await depth(queue.url) }).toEqual({ queue: queue.name, depth: 0 });
  h.sandbox.reset();
});
afterAll(async () => {
  await h?.stop();
  client?.destroy();
  await sqs?.stop();
});

const depth = (url: string) => queueDepth(client, url);

/** A real queue handler, loaded fresh with this configuration (the functions read it once, at cold start). */
const loadHandler = (queue: QueueId, env: { DEAD_LETTER_QUEUE_URL: string; MIXIN_MAX_ATTEMPTS: string }): Queue => {
  Object.assign(process.env, env);
  return h.load<{ handler: Queue }>(`../../functions/${FUNCTION_OF[queue]}/queue`).handler;
};

/** Feeds a queue to a handler as Lambda would; returns the ApproximateReceiveCount of every delivery, by messageId. */
const consume = (queue: QueueId, handler: Queue, pollers = 1): Map<string, number[]> => {
  const deliveries = new Map<string, number[]>();
  const { url, arn } = sqs.queue(queue);
  const invoke = (event: SQSEvent) => {
    for (const r of event.Records)
      deliveries.set(r.messageId, [
        ...(deliveries.get(r.messageId) ?? []),
        Number(r.attributes.ApproximateReceiveCount),
      ]);
    return handler(event, lambdaContext(30_000));
  };
  mappings.push(
    new EventSourceMapping({
      sqs: client,
      queueUrl: url,
      queueArn: arn,
      region: sqs.region,
      invoke,
      pollers,
      waitTimeSeconds: 0,
    }).start(),
  );
  return deliveries;
};

/** The handler of a queue, dead-lettering to its own DLQ, with Mixin retries inside one invocation as given. */
const consumeWithOwnDlq = (queue: QueueId, maxAttempts = 1, pollers = 1) =>
  consume(
    queue,
    loadHandler(queue, {
      DEAD_LETTER_QUEUE_URL: sqs.deadLetterQueueOf(queue).url,
      MIXIN_MAX_ATTEMPTS: String(maxAttempts),
    }),
    pollers,
  );

interface Outgoing {
  body: string;
  attributes?: Record<string, MessageAttributeValue>;
}

/** Sends messages (10 a call); resolves with their messageIds in order. */
const send = async (queue: QueueId, messages: Outgoing[]): Promise<string[]> => {
  const ids: string[] = [];
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    const out = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: sqs.queue(queue).url,
        Entries: chunk.map((m, j) => ({ Id: String(j), MessageBody: m.body, MessageAttributes: m.attributes })),
      }),
    );
    expect(out.Failed ?? []).toEqual([]);
    ids.push(...chunk.map((_, j) => out.Successful!.find((s) => s.Id === String(j))!.MessageId!));
  }
  return ids;
};

const takeAll = (url: string) => takeAllFrom(client, url);

const drained = (queue: QueueId) => waitFor(`${queue} to empty`, async () => (await depth(sqs.queue(queue).url)) === 0);

const stringAttribute = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
const attributesOf = (m: Message): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]));
const group = (user: string, name = 'Queue room') => JSON.stringify({ name, participants: [{ user_id: user }] });
const contact = (user: string) => JSON.stringify({ participants: [{ user_id: user }] });

it('creates one group for a group message and one contact for a contact message, and deletes both', async () => {
  const groups = consumeWithOwnDlq('CreateGroupQueue');
  const contacts = consumeWithOwnDlq('CreateContactQueue');
  const [member, user] = [randomUUID(), randomUUID()];
  const [groupMessage] = await send('CreateGroupQueue', [{ body: group(member) }]);
  await send('CreateContactQueue', [{ body: contact(user) }]);
  await Promise.all([drained('CreateGroupQueue'), drained('CreateContactQueue')]);
  const app = h.bot.keystore.appId;
  const created = h.sandbox.conversations.get(groupIdForKey(app, groupMessage!))?.data as
    | { category: string; participants: { user_id: string }[] }
    | undefined;
  expect(created?.category).toBe('GROUP');
  expect(created?.participants.map((p) => p.user_id)).toEqual([app, member]);
  expect(h.sandbox.conversations.has(uniqueConversationId(app, user))).toBe(true);
  expect(h.sandbox.created).toBe(2);
  expect([...groups.values(), ...contacts.values()]).toEqual([[1], [1]]);
});

it('redelivers a record that failed twice with a retryable error, and it succeeds: one group', async () => {
  const deliveries = consumeWithOwnDlq('CreateGroupQueue');
  const flaky = randomUUID();
  h.sandbox.inject({ kind: 'html-500', count: 2, userId: flaky });
  const [id] = await send('CreateGroupQueue', [{ body: group(flaky) }]);
  await drained('CreateGroupQueue');
  expect(deliveries.get(id!)).toEqual([1, 2, 3]);
  expect(h.sandbox.postCount).toBe(3);
  expect(h.sandbox.created).toBe(1);
  expect(await takeAll(sqs.deadLetterQueueOf('CreateGroupQueue').url)).toEqual([]);
});

it('dead-letters bad JSON, an invalid field and a Mixin 10002 after one receive each, with the reason (10002 after one Mixin call)', async () => {
  // Mixin retries allowed: the 10002 must still be asked once only.
  const deliveries = consumeWithOwnDlq('CreateGroupQueue', 3);
  const rejected = randomUUID();
  h.sandbox.inject({ kind: 'error', code: 10002, userId: rejected });
  const bodies = [
    '{"name": "broken',
    JSON.stringify({ name: 'x', participants: [{ user_id: 'not-a-uuid' }] }),
    group(rejected),
  ];
  const ids = await send(
    'CreateGroupQueue',
    bodies.map((body) => ({ body, attributes: { Team: stringAttribute('blue') } })),
  );
  await drained('CreateGroupQueue');
  const dead = await takeAll(sqs.deadLetterQueueOf('CreateGroupQueue').url);
  const bySource = new Map(dead.map((m) => [attributesOf(m).SourceMessageId, m]));
  expect(dead).toHaveLength(3);
  for (const [i, id] of ids.entries()) {
    const letter = bySource.get(id)!;
    expect(deliveries.get(id)).toEqual([1]);
    expect(letter.Body).toBe(bodies[i]);
    expect(attributesOf(letter)).toEqual({
      Team: 'blue',
      ErrorName: i === 2 ? 'MixinRequestError' : 'InvalidRequestError',
      IdempotencyKey: id, // sent without one: keyed by its messageId, which a redrive would replace
      ErrorMessage: expect.any(String),
      ...(i === 2 && { MixinCode: '10002' }),
      SourceMessageId: id,
      SourceQueue: sqs.queue('CreateGroupQueue').arn,
      ReceiveCount: '1',
      FailedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
    });
  }
  expect(attributesOf(bySource.get(ids[0])!).ErrorMessage).toMatch(/JSON/);
  expect(attributesOf(bySource.get(ids[1])!).ErrorMessage).toMatch(/user_id/);
  expect(h.sandbox.postCount).toBe(1);
  expect(h.sandbox.created).toBe(0);
});

it('leaves a record to SQS redrive when the dead-letter queue refuses it: redelivered up to maxReceiveCount, then moved', async () => {
  const missing = `${sqs.endpoint}/000000000000/mixin-conversations-local-no-such-dlq`;
  const deliveries = consume(
    'CreateContactQueue',
    loadHandler('CreateContactQueue', { DEAD_LETTER_QUEUE_URL: missing, MIXIN_MAX_ATTEMPTS: '1' }),
  );
  const [id] = await send('CreateContactQueue', [{ body: 'not json' }]);
  const dlq = sqs.deadLetterQueueOf('CreateContactQueue');
  let dead: Message[] = [];
  await waitFor('the redrive', async () => (dead = [...dead, ...(await takeAll(dlq.url))]).length > 0, 20_000);
  expect(deliveries.get(id!)).toEqual([1, 2, 3, 4, 5]);
  expect(sqs.queue('CreateContactQueue').redrive?.maxReceiveCount).toBe(5);
  // SQS's own move: the message as it was, same ID, without our reason attributes.
  expect(dead.map((m) => [m.MessageId, m.Body, m.MessageAttributes])).toEqual([[id, 'not json', undefined]]);
}, 25_000);

it('creates no second group when a dead letter carrying an IdempotencyKey is redriven to the source queue, twice', async () => {
  consumeWithOwnDlq('CreateGroupQueue');
  const member = randomUUID();
  h.sandbox.inject({ kind: 'error', code: 10002, userId: member, count: 1 }); // rejected once, then Mixin takes it
  await send('CreateGroupQueue', [
    { body: group(member), attributes: { IdempotencyKey: stringAttribute('order-42') } },
  ]);
  await drained('CreateGroupQueue');
  const dlq = sqs.deadLetterQueueOf('CreateGroupQueue');
  const [letter] = await takeAll(dlq.url);
  expect(attributesOf(letter!)).toMatchObject({ IdempotencyKey: 'order-42', MixinCode: '10002' });
  // A redrive (fauxqs has no StartMessageMoveTask): the same body and every attribute, as a new message.
  const redrive = { body: letter!.Body!, attributes: letter!.MessageAttributes };
  for (const round of [1, 2]) {
    await send('CreateGroupQueue', [redrive]);
    await drained('CreateGroupQueue');
    expect({ round, created: h.sandbox.created }).toEqual({ round, created: 1 });
  }
  expect(h.sandbox.conversations.has(groupIdForKey(h.bot.keystore.appId, 'order-42'))).toBe(true);
  expect(h.sandbox.postCount).toBe(3);
  expect(await takeAll(dlq.url)).toEqual([]);
});

it('loses nothing and duplicates nothing over 300 mixed messages', async () => {
  const groups = consumeWithOwnDlq('CreateGroupQueue', 1, 3);
  const contacts = consumeWithOwnDlq('CreateContactQueue', 1, 2);
  const app = h.bot.keystore.appId;
  type Kind = 'group' | 'keyed-group' | 'flaky-group' | 'contact' | 'bad-json' | 'invalid' | 'rejected';
  const kinds: Kind[] = [
    'group',
    'keyed-group',
    'group',
    'flaky-group',
    'contact',
    'contact',
    'bad-json',
    'invalid',
    'rejected',
    'keyed-group',
  ];
  const planned = Array.from({ length: 300 }, (_, i) => {
    const kind = kinds[i % kinds.length]!;
    const user = randomUUID();
    if (kind === 'flaky-group') h.sandbox.inject({ kind: 'html-500', count: 1 + (i % 2), userId: user });
    if (kind === 'rejected') h.sandbox.inject({ kind: 'error', code: 10002, userId: user });
    const key = kind === 'keyed-group' ? `order-${i}` : undefined;
    const queue: QueueId = kind === 'contact' ? 'CreateContactQueue' : 'CreateGroupQueue';
    const body =
      kind === 'contact'
        ? contact(user)
        : kind === 'bad-json'
          ? `{"name": "m-${i}"`
          : kind === 'invalid'
            ? JSON.stringify({ name: `m-${i}`, participants: [] })
            : group(user, `m-${i}`);
    return { kind, user, key, queue, body, id: '' };
  });
  for (const queue of ['CreateGroupQueue', 'CreateContactQueue'] as const) {
    const mine = planned.filter((p) => p.queue === queue);
    const ids = await send(
      queue,
      mine.map((p) => ({ body: p.body, ...(p.key && { attributes: { IdempotencyKey: stringAttribute(p.key) } }) })),
    );
    mine.forEach((p, i) => (p.id = ids[i]!));
  }
  await Promise.all([drained('CreateGroupQueue'), drained('CreateContactQueue')]);
  const dead = [
    ...(await takeAll(sqs.deadLetterQueueOf('CreateGroupQueue').url)),
    ...(await takeAll(sqs.deadLetterQueueOf('CreateContactQueue').url)),
  ];

  const shouldDie = planned.filter((p) => ['bad-json', 'invalid', 'rejected'].includes(p.kind));
  const shouldLive = planned.filter((p) => !shouldDie.includes(p));
  // Every dead letter once, with its reason; nothing else dead.
  expect(dead.map((m) => attributesOf(m).SourceMessageId).sort()).toEqual(shouldDie.map((p) => p.id).sort());
  for (const m of dead) expect(attributesOf(m).ErrorName).toMatch(/^(InvalidRequestError|MixinRequestError)$/);
  // Every live message made exactly its conversation, and nothing more was made.
  const conversationOf = (p: (typeof planned)[number]) =>
    p.kind === 'contact' ? uniqueConversationId(app, p.user) : groupIdForKey(app, p.key ?? p.id);
  expect(shouldLive.filter((p) => !h.sandbox.conversations.has(conversationOf(p))).map((p) => p.kind)).toEqual([]);
  expect(h.sandbox.created).toBe(shouldLive.length);
  const names = [...h.sandbox.conversations.values()].map((c) => (c.data as { name: string }).name).filter(Boolean);
  expect(new Set(names).size).toBe(names.length);
  // The flaky ones came back once or twice; everything else was delivered once.
  const deliveries = new Map([...groups, ...contacts]);
  for (const p of planned)
    expect({ kind: p.kind, receives: deliveries.get(p.id)?.length }).toEqual({
      kind: p.kind,
      receives: p.kind === 'flaky-group' ? 2 + (planned.indexOf(p) % 2) : 1,
    });
}, 30_000);
