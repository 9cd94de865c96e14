import { randomUUID } from 'node:crypto';
import { uniqueConversationId, groupIdForKey } from '../lib/conversation-id';
import type { Conversation } from '../lib/mixin/conversation';
import { type Harness, lambdaContext, type LambdaHandler, startHarness } from './support/harness';

type Task = LambdaHandler<unknown, Conversation>;
let h: Harness;
let groups: Task;
let contacts: Task;

beforeAll(async () => {
  h = await startHarness({ MIXIN_MAX_ATTEMPTS: '2' });
  groups = h.load<{ handler: Task }>('../../functions/create-group/workflow').handler;
  contacts = h.load<{ handler: Task }>('../../functions/create-contact/workflow').handler;
});
afterAll(() => h.stop());
beforeEach(() => {
  h.sandbox.reset();
  // A fresh instance per test: one paused by a test's 429s would refuse the next test's task at once.
  groups = h.load<{ handler: Task }>('../../functions/create-group/workflow').handler;
  contacts = h.load<{ handler: Task }>('../../functions/create-contact/workflow').handler;
});

const thrown = async (task: Task, input: unknown, remainingMs = 10_000): Promise<Error & Record<string, unknown>> => {
  try {
    await task(input, lambdaContext(remainingMs));
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('the task succeeded');
};

describe('create-group/workflow', () => {
  it('returns the conversation; idempotency_key addresses the group, so a retried state makes no second group', async () => {
    const users = [randomUUID()];
    const input = {
      name: 'Flow room',
      participants: users.map((user_id) => ({ user_id })),
      idempotency_key: 'exec-1/CreateGroup',
    };
    const first = await groups(input, lambdaContext());
    const again = await groups(input, lambdaContext());
    const expected = groupIdForKey(h.bot.keystore.appId, 'exec-1/CreateGroup');
    expect(first).toMatchObject({ conversation_id: expected, category: 'GROUP' });
    expect(again.conversation_id).toBe(expected);
    expect(h.sandbox.created).toBe(1);
    expect(JSON.parse(h.sandbox.requests[0]!.body)).not.toHaveProperty('idempotency_key');
  });

  it.each([
    ['InvalidRequestError', { name: '', participants: [] }, undefined, false],
    [
      'MixinRequestError',
      { name: 'x', participants: [{ user_id: randomUUID() }] },
      { kind: 'error', code: 10002 },
      false,
    ],
    [
      'MixinRateLimitError',
      { name: 'x', participants: [{ user_id: randomUUID() }] },
      { kind: 'error', code: 429 },
      true,
    ],
    ['MixinUnavailableError', { name: 'x', participants: [{ user_id: randomUUID() }] }, { kind: 'html-500' }, true],
  ] as const)('throws %s by name with its documented retryable flag', async (name, input, fault, retryable) => {
    if (fault) h.sandbox.inject(fault);
    const error = await thrown(groups, input);
    expect(error.name).toBe(name);
    expect(error.retryable).toBe(retryable === true);
  });

  it('names each bad field, including an unknown one and a bad idempotency_key', async () => {
    const error = await thrown(groups, {
      name: 'x',
      participants: [{ user_id: randomUUID() }],
      idempotency_key: '',
      extra: 1,
    });
    expect(error.details).toEqual([
      { field: 'extra', message: 'is not an allowed field' },
      { field: 'idempotency_key', message: 'must be 1 to 256 characters' },
    ]);
    expect(h.sandbox.postCount).toBe(0);
  });

  it('throws MixinUnavailableError before the Lambda deadline when Mixin hangs', async () => {
    h.sandbox.inject({ kind: 'hang' });
    const started = Date.now();
    const error = await thrown(groups, { name: 'x', participants: [{ user_id: randomUUID() }] }, 1_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toMatchObject({ name: 'MixinUnavailableError', retryable: true });
  });
});

describe('create-contact/workflow', () => {
  it('returns the contact conversation and accepts an idempotency_key', async () => {
    const u = randomUUID();
    const result = await contacts(
      { participants: [{ user_id: u }], idempotency_key: 'exec-1/Member-0' },
      lambdaContext(),
    );
    expect(result.conversation_id).toBe(uniqueConversationId(h.bot.keystore.appId, u));
  });

  it('throws KeystoreError by name when the secret is malformed', async () => {
    const id = `${h.secretId}-partial`;
    h.secrets.put(id, JSON.stringify({ app_id: h.bot.keystore.appId }));
    process.env.MIXIN_KEYSTORE_SECRET_ID = id;
    const broken = h.load<{ handler: Task }>('../../functions/create-contact/workflow').handler;
    process.env.MIXIN_KEYSTORE_SECRET_ID = h.secretId;
    const error = await thrown(broken, { participants: [{ user_id: randomUUID() }] });
    expect(error).toMatchObject({
      name: 'KeystoreError',
      retryable: false,
      message: 'keystore.session_id: is missing',
    });
  });
});
