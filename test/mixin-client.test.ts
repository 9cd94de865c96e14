import { randomUUID } from 'node:crypto';
import { type FaultSpec, MixinSandbox } from '../infra/local/mixin-sandbox';
import { groupConversationId, uniqueConversationId } from '../lib/conversation-id';
import { MixinRateLimitError, MixinRequestError, MixinUnavailableError } from '../lib/errors';
import { type AttemptReport, type MixinCallOptions } from '../lib/mixin/request';
import { type ConversationRequest, createConversation } from '../lib/mixin/conversation';
import { makeBot } from '../infra/local/keys';
import { fastCalls } from './support/fast-calls';

const bot = makeBot();
let sandbox: MixinSandbox;

beforeAll(async () => {
  sandbox = await new MixinSandbox({ apps: [bot.app] }).start();
});
afterAll(() => sandbox.stop());
beforeEach(() => sandbox.reset());

const fast = fastCalls(() => sandbox);

const contact = (): ConversationRequest => {
  const user = randomUUID();
  return {
    category: 'CONTACT',
    conversation_id: uniqueConversationId(bot.keystore.appId, user),
    participants: [{ user_id: user }],
  };
};

const group = (): ConversationRequest => {
  const users = [randomUUID(), randomUUID()];
  const random_id = randomUUID();
  return {
    category: 'GROUP',
    name: 'Team room',
    conversation_id: groupConversationId(bot.keystore.appId, 'Team room', users, random_id),
    random_id,
    participants: users.map((user_id) => ({ user_id })),
  };
};

const failWith = async (request: ConversationRequest, options: MixinCallOptions): Promise<Error> => {
  try {
    await createConversation({ keystore: bot.keystore }, request, options);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
};

describe('createConversation against the sandbox', () => {
  it('creates a CONTACT conversation on the first attempt', async () => {
    const req = contact();
    const result = await createConversation({ keystore: bot.keystore }, req, fast());
    expect(result.attempts).toBe(1);
    expect(result.data).toMatchObject({
      type: 'conversation',
      conversation_id: req.conversation_id,
      category: 'CONTACT',
      creator_id: bot.keystore.appId,
    });
    expect(sandbox.postCount).toBe(1);
    expect(sandbox.requests[0]!.requestId).toBe(sandbox.requests[0]!.jti);
  });

  it('checks no name unless asked to (keyed): a group answered without one is the group asked for', async () => {
    const req = group();
    const nameless = JSON.stringify({ data: { conversation_id: req.conversation_id, category: 'GROUP' } });
    sandbox.inject({ kind: 'http-status', status: 201, body: nameless, count: 1 });
    expect(await createConversation({ keystore: bot.keystore }, req, fast())).toMatchObject({ attempts: 1 });
    sandbox.inject({ kind: 'http-status', status: 201, body: nameless });
    await expect(
      createConversation({ keystore: bot.keystore }, req, fast({ maxAttempts: 2 }), { keyed: true }),
    ).rejects.toMatchObject({ name: 'MixinUnavailableError', reason: 'bad-response', attempts: 2 });
  });

  it('creates a derived GROUP and returns the same one when asked again', async () => {
    const req = group();
    const first = await createConversation({ keystore: bot.keystore }, req, fast());
    const again = await createConversation({ keystore: bot.keystore }, req, fast());
    expect(first.data.conversation_id).toBe(req.conversation_id);
    expect(again.data.conversation_id).toBe(req.conversation_id);
    expect(sandbox.created).toBe(1);
  });

  const retried: [string, FaultSpec][] = [
    ['an HTML 500', { kind: 'html-500' }],
    ['a connection reset', { kind: 'reset' }],
    ['a hang past the attempt timeout', { kind: 'hang' }],
    ['Mixin code 500', { kind: 'error', code: 500 }],
    ['Mixin code 7000', { kind: 'error', code: 7000 }],
    ['Mixin code 7001', { kind: 'error', code: 7001 }],
    ['Mixin code 429', { kind: 'error', code: 429 }],
    ['HTTP 200 with a non-JSON body', { kind: 'http-status', status: 200, body: 'not json' }],
    ['HTTP 502 from a proxy', { kind: 'http-status', status: 502, body: '<html>bad gateway</html>' }],
  ];

  it.each(retried)(
    'retries %s twice then succeeds on attempt 3, resending the same body with fresh tokens',
    async (_label, fault) => {
      sandbox.inject({ ...fault, count: 2 });
      const req = group();
      const attempts: AttemptReport[] = [];
      const result = await createConversation(
        { keystore: bot.keystore },
        req,
        fast({ attemptTimeoutMs: 200, onAttempt: (a) => attempts.push(a) }),
      );
      expect(result.attempts).toBe(3);
      expect(attempts.map((a) => a.outcome)).toEqual([
        expect.not.stringMatching('success'),
        expect.not.stringMatching('success'),
        'success',
      ]);
      const posts = sandbox.requests.filter((r) => r.method === 'POST');
      expect(posts).toHaveLength(3);
      expect(new Set(posts.map((p) => p.body)).size).toBe(1);
      expect(new Set(posts.map((p) => p.jti)).size).toBe(3);
      expect(new Set(posts.map((p) => p.requestId)).size).toBe(3);
      expect(sandbox.created).toBe(1);
    },
  );

  it('gives up after maxAttempts on a persistent 429 with MixinRateLimitError', async () => {
    sandbox.inject({ kind: 'error', code: 429 });
    const error = await failWith(contact(), fast({ maxAttempts: 4 }));
    expect(error).toBeInstanceOf(MixinRateLimitError);
    expect(error).toMatchObject({ name: 'MixinRateLimitError', retryable: true, attempts: 4 });
    expect((error as MixinRateLimitError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(sandbox.postCount).toBe(4);
  });

  it('honours a Retry-After header on HTTP 429', async () => {
    sandbox.inject({ kind: 'http-status', status: 429, retryAfter: '1', count: 1 });
    const started = Date.now();
    const result = await createConversation({ keystore: bot.keystore }, contact(), fast());
    expect(result.attempts).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
  });

  it.each([
    ['html-500', { kind: 'html-500' }, 'server-error'],
    ['reset', { kind: 'reset' }, 'network'],
    ['hang', { kind: 'hang' }, 'timeout'],
    ['7001', { kind: 'error', code: 7001 }, 'server-error'],
    ['garbage', { kind: 'http-status', status: 200, body: '<html>' }, 'bad-response'],
  ] as [string, FaultSpec, string][])(
    'gives up after exactly maxAttempts on a persistent %s with MixinUnavailableError',
    async (_l, fault, reason) => {
      sandbox.inject(fault);
      const error = await failWith(contact(), fast({ maxAttempts: 3, attemptTimeoutMs: 150 }));
      expect(error).toBeInstanceOf(MixinUnavailableError);
      expect(error).toMatchObject({ name: 'MixinUnavailableError', retryable: true, attempts: 3, reason });
      expect(sandbox.postCount).toBe(3);
    },
  );

  it.each([400, 401, 403, 404, 10002, 20116])('never retries Mixin code %i', async (code) => {
    sandbox.inject({ kind: 'error', code, extra: { field: 'x' } });
    const error = await failWith(contact(), fast());
    expect(error).toBeInstanceOf(MixinRequestError);
    expect(error).toMatchObject({
      name: 'MixinRequestError',
      retryable: false,
      code,
      attempts: 1,
      extra: { field: 'x' },
    });
    expect(sandbox.postCount).toBe(1);
  });

  it('surfaces the sandbox validation of a wrong derived group ID as 10002, once', async () => {
    const req = { ...group(), conversation_id: randomUUID() };
    const error = await failWith(req, fast());
    expect(error).toMatchObject({
      name: 'MixinRequestError',
      code: 10002,
      attempts: 1,
      extra: { field: 'conversation_id' },
    });
  });

  it('is refused with 401 when the keystore does not match the registered key', async () => {
    const stranger = makeBot(bot.keystore.appId);
    await expect(createConversation({ keystore: stranger.keystore }, contact(), fast())).rejects.toMatchObject({
      name: 'MixinRequestError',
      code: 401,
      attempts: 1,
    });
    expect(sandbox.requests[0]!.outcome).toBe('error:401:unknown sid');
  });

  it('returns before the deadline when Mixin hangs, with reason deadline', async () => {
    sandbox.inject({ kind: 'hang' });
    const started = Date.now();
    const error = await failWith(contact(), fast({ attemptTimeoutMs: 5_000, deadline: started + 300 }));
    const took = Date.now() - started;
    expect(error).toMatchObject({ name: 'MixinUnavailableError', reason: 'deadline', attempts: 1 });
    expect(took).toBeLessThan(400);
  });

  it('does not start an attempt when the deadline has already passed', async () => {
    const error = await failWith(contact(), fast({ deadline: Date.now() - 1 }));
    expect(error).toMatchObject({ name: 'MixinUnavailableError', reason: 'deadline', attempts: 0 });
    expect(sandbox.postCount).toBe(0);
  });

  it('stops retrying when the next backoff would cross the deadline', async () => {
    sandbox.inject({ kind: 'error', code: 7000 });
    const started = Date.now();
    const error = await failWith(
      contact(),
      fast({ maxAttempts: 10, backoffBaseMs: 400, backoffCapMs: 400, random: () => 1, deadline: started + 700 }),
    );
    expect(error).toMatchObject({ name: 'MixinUnavailableError', attempts: 2 });
    expect(Date.now() - started).toBeLessThan(700);
  });

  it('uses full jitter: delays stay within the exponential window', async () => {
    sandbox.inject({ kind: 'error', code: 7000 });
    const delays: number[] = [];
    await failWith(
      contact(),
      fast({
        maxAttempts: 4,
        backoffBaseMs: 10,
        backoffCapMs: 25,
        random: () => 0.999,
        onAttempt: (a) => a.nextDelayMs !== undefined && delays.push(a.nextDelayMs),
      }),
    );
    expect(delays).toEqual([9, 19, 24]);
  });
});
