import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse } from 'aws-lambda';
import { uniqueConversationId, groupIdForKey } from '../lib/conversation-id';
import { type Harness, lambdaContext, type LambdaHandler, sqsEvent, startHarness } from './support/harness';

type Queue = LambdaHandler<unknown, SQSBatchResponse>;
let h: Harness;
let groups: Queue;
let contacts: Queue;

beforeAll(async () => {
  h = await startHarness({ QUEUE_CONCURRENCY: '3', MIXIN_MAX_ATTEMPTS: '2' });
  groups = h.load<{ handler: Queue }>('../../functions/create-group/queue').handler;
  contacts = h.load<{ handler: Queue }>('../../functions/create-contact/queue').handler;
});
afterAll(() => h.stop());
beforeEach(() => h.sandbox.reset());

const group = (...users: string[]) =>
  JSON.stringify({ name: 'Queue room', participants: users.map((user_id) => ({ user_id })) });

describe('create-group/queue', () => {
  it('reports exactly the records that did not succeed, temporary and permanent, and drops none', async () => {
    const rejected = randomUUID();
    const flaky = randomUUID();
    h.sandbox.inject({ kind: 'error', code: 10002, userId: rejected });
    h.sandbox.inject({ kind: 'error', code: 7000, userId: flaky });
    const bodies = [
      group(randomUUID()), // ok
      '{"name": "broken', // malformed JSON
      JSON.stringify({ name: 'x', participants: [{ user_id: 'not-a-uuid' }] }), // invalid field
      group(rejected), // Mixin rejects: permanent
      group(randomUUID(), randomUUID()), // ok
      group(flaky), // Mixin keeps failing: temporary
    ];
    const event = sqsEvent(bodies);
    const ids = event.Records.map((r) => r.messageId);
    const result = await groups(event, lambdaContext());
    expect(result).toEqual({
      batchItemFailures: [ids[1], ids[2], ids[3], ids[5]].map((itemIdentifier) => ({ itemIdentifier })),
    });
    expect(h.sandbox.created).toBe(2);
    // Only the valid records reached Mixin: 2 ok, 1 rejected once, 1 flaky tried MIXIN_MAX_ATTEMPTS=2 times.
    expect(h.sandbox.postCount).toBe(2 + 1 + 2);
  });

  it('keys the group by the messageId: redelivering the same batch creates no new group', async () => {
    const users = [randomUUID(), randomUUID()];
    const event = sqsEvent([group(users[0]!), group(users[1]!)]);
    expect(await groups(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    const again = sqsEvent(
      [group(users[0]!), group(users[1]!)],
      event.Records.map((r) => r.messageId),
      2,
    );
    expect(await groups(again, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(h.sandbox.created).toBe(2);
    const expected = groupIdForKey(h.bot.keystore.appId, event.Records[0]!.messageId);
    expect(h.sandbox.conversations.has(expected)).toBe(true);
  });

  it('an IdempotencyKey message attribute survives a dead-letter redrive (a new messageId): still one group', async () => {
    const u = randomUUID();
    const withKey = (messageId: string) => {
      const event = sqsEvent([group(u)], [messageId]);
      (event.Records[0] as { messageAttributes: unknown }).messageAttributes = {
        IdempotencyKey: { dataType: 'String', stringValue: 'order-7' },
      };
      return event;
    };
    expect(await groups(withKey(randomUUID()), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(await groups(withKey(randomUUID()), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(h.sandbox.created).toBe(1);
    expect(h.sandbox.conversations.has(groupIdForKey(h.bot.keystore.appId, 'order-7'))).toBe(true);
    // Without the attribute, a new messageId is a new group: the README says to set the attribute for that reason.
    expect(await groups(sqsEvent([group(u)]), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(h.sandbox.created).toBe(2);
  });

  it('reports a record whose IdempotencyKey attribute is unusable, without calling Mixin', async () => {
    const event = sqsEvent([group(randomUUID())]);
    (event.Records[0] as { messageAttributes: unknown }).messageAttributes = {
      IdempotencyKey: { dataType: 'Number', stringValue: '7' },
    };
    expect(await groups(event, lambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }],
    });
    expect(h.sandbox.postCount).toBe(0);
  });

  it('a temporary failure succeeds when redelivered after the fault clears', async () => {
    const flaky = randomUUID();
    h.sandbox.inject({ kind: 'html-500', userId: flaky, count: 2 });
    const event = sqsEvent([group(flaky)]);
    expect((await groups(event, lambdaContext())).batchItemFailures).toHaveLength(1);
    const redelivered = sqsEvent([group(flaky)], [event.Records[0]!.messageId], 2);
    expect(await groups(redelivered, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(h.sandbox.created).toBe(1);
  });

  it('processes records concurrently, never more than QUEUE_CONCURRENCY at once', async () => {
    // Long enough for calls to overlap although the instance's rate limiter paces their starts.
    h.sandbox.setLatency(250);
    const event = sqsEvent(Array.from({ length: 10 }, () => group(randomUUID())));
    expect(await groups(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(h.sandbox.created).toBe(10);
    expect(h.sandbox.maxInFlight).toBeGreaterThan(1);
    expect(h.sandbox.maxInFlight).toBeLessThanOrEqual(3);
  });

  it('fails the whole batch (so SQS retries it) when the keystore cannot be read', async () => {
    const isolated = h.load<{ handler: Queue }>('../../functions/create-group/queue').handler;
    h.secrets.inject({ type: 'InternalServiceError' });
    try {
      await expect(isolated(sqsEvent([group(randomUUID())]), lambdaContext())).rejects.toMatchObject({
        name: 'KeystoreUnavailableError',
      });
    } finally {
      h.secrets.clearFaults();
    }
    expect(h.sandbox.postCount).toBe(0);
  });
});

describe('create-contact/queue', () => {
  it('opens contacts and reports the invalid ones', async () => {
    const u = randomUUID();
    const event = sqsEvent([
      JSON.stringify({ participants: [{ user_id: u }] }),
      JSON.stringify({ participants: [] }),
      'null',
    ]);
    const result = await contacts(event, lambdaContext());
    expect(result).toEqual({
      batchItemFailures: [
        { itemIdentifier: event.Records[1]!.messageId },
        { itemIdentifier: event.Records[2]!.messageId },
      ],
    });
    expect(h.sandbox.conversations.has(uniqueConversationId(h.bot.keystore.appId, u))).toBe(true);
    // Contacts are idempotent by ID: redelivery creates nothing new.
    await contacts(sqsEvent([JSON.stringify({ participants: [{ user_id: u }] })]), lambdaContext());
    expect(h.sandbox.created).toBe(1);
  });
});
