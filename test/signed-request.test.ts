/**
 * signedRequest (lib/mixin/request.ts), the one signed call every endpoint goes through, against the Mixin sandbox on
 * 127.0.0.1: what each attempt reports, the answer check, reads and writes, the one keystore reload after a 401, and
 * which error a call ends with when its deadline comes between two attempts.
 */
import { randomUUID } from 'node:crypto';
import { makeBot } from '../infra/local/keys';
import { MixinSandbox } from '../infra/local/mixin-sandbox';
import { uniqueConversationId } from '../lib/conversation-id';
import { MixinRateLimitError, MixinRequestError, MixinUnavailableError } from '../lib/errors';
import { type Keystore, parseKeystore } from '../lib/mixin/keystore-parser';
import { type AttemptReport, type MixinCallOptions, type SignedCall, signedRequest } from '../lib/mixin/request';
import { RateLimiter } from '../lib/mixin/rate-limiter';
import { fastCalls } from './support/fast-calls';

const bot = makeBot();
let sandbox: MixinSandbox;

beforeAll(async () => {
  sandbox = await new MixinSandbox({ apps: [bot.app] }).start();
});
afterAll(() => sandbox.stop());
beforeEach(() => {
  sandbox.reset();
  sandbox.setLatency(0);
  sandbox.registerApp(bot.app);
});

const fast = fastCalls(() => sandbox);

const createContact = (extra: Partial<SignedCall> = {}): SignedCall => {
  const user = randomUUID();
  return {
    method: 'POST',
    path: '/conversations',
    body: JSON.stringify({
      category: 'CONTACT',
      conversation_id: uniqueConversationId(bot.keystore.appId, user),
      participants: [{ user_id: user }],
    }),
    ...extra,
  };
};

const failure = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
};

/** Busy-waits until `until` (epoch ms): a late timer on a busy event loop, made on purpose. */
const blockUntil = (until: number) => {
  while (Date.now() < until) {
    // spin
  }
};

describe('what each attempt reports', () => {
  it('an unanswered attempt, then an answer: numbers, request IDs, outcome, answered, the wait before the next', async () => {
    sandbox.inject({ kind: 'reset', count: 1 });
    const reports: AttemptReport[] = [];
    const result = await signedRequest(
      { keystore: bot.keystore },
      createContact(),
      fast({ random: () => 0.5, onAttempt: (r) => reports.push(r) }),
    );
    expect(result.attempts).toBe(2);
    expect(reports).toHaveLength(2);
    expect(reports[0]).toEqual({
      attempt: 1,
      requestId: sandbox.requests[0]!.requestId,
      outcome: 'unavailable',
      reason: 'network',
      answered: false,
      durationMs: expect.any(Number),
      nextDelayMs: 2,
    });
    expect(reports[1]).toEqual({
      attempt: 2,
      requestId: sandbox.requests[1]!.requestId,
      outcome: 'success',
      answered: true,
      durationMs: expect.any(Number),
    });
  });

  it('an answered failure: a server error is answered, a rejection carries its code and no next wait', async () => {
    sandbox.inject({ kind: 'html-500', count: 1 });
    sandbox.inject({ kind: 'error', code: 10002, count: 1 });
    const reports: AttemptReport[] = [];
    await failure(
      signedRequest({ keystore: bot.keystore }, createContact(), fast({ onAttempt: (r) => reports.push(r) })),
    );
    expect(reports).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'unavailable', reason: 'server-error', answered: true }),
      expect.objectContaining({ attempt: 2, outcome: 'rejected', code: 10002, answered: true }),
    ]);
    expect(reports[0]).not.toHaveProperty('code');
    expect(reports[1]).not.toHaveProperty('reason');
    expect(reports[1]).not.toHaveProperty('nextDelayMs');
  });

  it("an answer's duration is Mixin's latency", async () => {
    sandbox.setLatency(80);
    const reports: AttemptReport[] = [];
    await signedRequest({ keystore: bot.keystore }, createContact(), fast({ onAttempt: (r) => reports.push(r) }));
    expect(reports[0]!.durationMs).toBeGreaterThanOrEqual(75);
    expect(reports[0]!.durationMs).toBeLessThan(450);
  });
});

describe('the answer check', () => {
  it('sees the data of a successful answer and, when it names a problem, makes the attempt a bad response', async () => {
    const seen: Record<string, unknown>[] = [];
    const call = createContact({ check: (data) => (seen.push(data), 'another conversation') });
    const error = await failure(signedRequest({ keystore: bot.keystore }, call, fast({ maxAttempts: 2 })));
    expect(error).toBeInstanceOf(MixinUnavailableError);
    expect(error).toMatchObject({ reason: 'bad-response', attempts: 2 });
    expect(error.message).toBe('Mixin answered another conversation (after 2 attempt(s))');
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatchObject({ category: 'CONTACT', creator_id: bot.keystore.appId });
  });

  it('a check with no problem lets the answer through', async () => {
    const result = await signedRequest({ keystore: bot.keystore }, createContact({ check: () => undefined }), fast());
    expect(result).toMatchObject({ attempts: 1, data: { category: 'CONTACT' } });
  });

  it('a check that throws is a bug of ours: it ends the call at once, as thrown, and is never retried', async () => {
    const bug = new TypeError('check broke');
    const error = await failure(
      signedRequest(
        { keystore: bot.keystore },
        createContact({
          check: () => {
            throw bug;
          },
        }),
        fast(),
      ),
    );
    expect(error).toBe(bug);
    expect(sandbox.postCount).toBe(1);
  });
});

describe('reads and writes', () => {
  it('a write is sent as JSON; a read with a query carries no body, no Content-Type, and signs its query', async () => {
    const call = createContact();
    const created = await signedRequest<{ conversation_id: string }>({ keystore: bot.keystore }, call, fast());
    expect(sandbox.requests[0]).toMatchObject({ method: 'POST', contentType: 'application/json', body: call.body });
    const path = `/conversations/${created.data.conversation_id}?with=participants`;
    const read = await failure(signedRequest({ keystore: bot.keystore }, { method: 'GET', path }, fast()));
    // The sandbox knows no query on this path (404), but it checked the signature first: the query was signed.
    expect(read).toMatchObject({ name: 'MixinRequestError', code: 404 });
    expect(sandbox.requests[1]).toMatchObject({ method: 'GET', path, body: '', contentType: undefined });
    expect(sandbox.requests[1]!.uid).toBe(bot.keystore.appId);
  });
});

describe('after a 401: the keystore is read once more', () => {
  /** The same bot with another session, another key, or both, registered with the sandbox as the only valid one. */
  const rotate = (change: { session?: boolean; key?: boolean }): Keystore => {
    const other = makeBot(bot.keystore.appId);
    const json = {
      ...bot.json,
      ...(change.session ? { session_id: other.json.session_id } : {}),
      ...(change.key ? { session_private_key: other.json.session_private_key } : {}),
    };
    sandbox.registerApp({
      appId: bot.keystore.appId,
      sessionId: json.session_id,
      publicKeyHex: change.key ? other.app.publicKeyHex : bot.app.publicKeyHex,
    });
    return parseKeystore(json);
  };

  it.each<[string, { session?: boolean; key?: boolean }]>([
    ['a new session and key', { session: true, key: true }],
    ['a new session only', { session: true }],
    ['a new key only', { key: true }],
  ])('a rotation (%s) heals: the same call with the new key, attempts counted over both', async (_label, change) => {
    const fresh = rotate(change);
    const stale: Keystore[] = [];
    const call = createContact();
    const result = await signedRequest(
      { keystore: bot.keystore, reload: async (k) => (stale.push(k), fresh) },
      call,
      fast(),
    );
    expect(result.attempts).toBe(2);
    expect(stale).toEqual([bot.keystore]);
    expect(sandbox.requests.map((r) => r.outcome)).toEqual([
      'error:401:' + (change.session ? 'unknown sid' : 'bad signature'),
      'created',
    ]);
    expect(new Set(sandbox.requests.map((r) => r.body))).toEqual(new Set([call.body]));
  });

  it('the same keystore again: the 401 stands, after one call', async () => {
    rotate({ session: true });
    const reload = jest.fn(async (k: Keystore) => k);
    const error = await failure(signedRequest({ keystore: bot.keystore, reload }, createContact(), fast()));
    expect(error).toBeInstanceOf(MixinRequestError);
    expect(error).toMatchObject({ code: 401, attempts: 1 });
    expect(reload).toHaveBeenCalledTimes(1);
    expect(sandbox.postCount).toBe(1);
  });

  it('a keystore of another bot is not a rotation: the 401 stands, Mixin is not called with it', async () => {
    rotate({ session: true });
    const error = await failure(
      signedRequest({ keystore: bot.keystore, reload: async () => makeBot().keystore }, createContact(), fast()),
    );
    expect(error).toMatchObject({ name: 'MixinRequestError', code: 401, attempts: 1 });
    expect(sandbox.postCount).toBe(1);
  });

  it('without a way to reload, the 401 stands', async () => {
    rotate({ session: true });
    const error = await failure(signedRequest({ keystore: bot.keystore }, createContact(), fast()));
    expect(error).toMatchObject({ name: 'MixinRequestError', code: 401, attempts: 1 });
  });

  it.each([403, 10002])('a %i reads no keystore and repeats no call', async (code) => {
    sandbox.inject({ kind: 'error', code });
    const reload = jest.fn(async (k: Keystore) => k);
    const error = await failure(signedRequest({ keystore: bot.keystore, reload }, createContact(), fast()));
    expect(error).toMatchObject({ name: 'MixinRequestError', code, attempts: 1 });
    expect(reload).not.toHaveBeenCalled();
    expect(sandbox.postCount).toBe(1);
  });
});

describe('a deadline that comes between two attempts (a late timer)', () => {
  /** The first attempt fails; the event loop is then busy until just before the deadline, so no second one fits. */
  const lateAfterFirst = (deadline: number, extra: MixinCallOptions = {}) =>
    fast({ deadline, random: () => 0, onAttempt: () => blockUntil(deadline - 20), ...extra });

  it('after a server error, the call ends unanswered, with reason deadline and 1 attempt', async () => {
    sandbox.inject({ kind: 'error', code: 7000 });
    const error = await failure(
      signedRequest({ keystore: bot.keystore }, createContact(), lateAfterFirst(Date.now() + 300)),
    );
    expect(error).toBeInstanceOf(MixinUnavailableError);
    expect(error).toMatchObject({ reason: 'deadline', attempts: 1 });
    expect(error.message).toBe('the deadline was reached before Mixin answered (after 1 attempt(s))');
    expect(sandbox.postCount).toBe(1);
  });

  it("in a queue batch, the same is the batch's end reserve", async () => {
    sandbox.inject({ kind: 'error', code: 7000 });
    const error = await failure(
      signedRequest(
        { keystore: bot.keystore },
        createContact(),
        lateAfterFirst(Date.now() + 300, { deadlineReason: 'batch-reserve' }),
      ),
    );
    expect(error).toMatchObject({ name: 'MixinUnavailableError', reason: 'batch-reserve', attempts: 1 });
    expect(error.message).toMatch(/before Mixin answered/);
  });

  it('after a 429, the call ends rate-limited, with a Retry-After of at least the backoff cap', async () => {
    sandbox.inject({ kind: 'error', code: 429 });
    const error = await failure(
      signedRequest(
        { keystore: bot.keystore },
        createContact(),
        lateAfterFirst(Date.now() + 300, { backoffCapMs: 2_500 }),
      ),
    );
    expect(error).toBeInstanceOf(MixinRateLimitError);
    expect(error).toMatchObject({ reason: 'rate-limited', attempts: 1, retryAfterSeconds: 3 });
  });

  it('a batch record whose reserve has already begun calls nothing', async () => {
    const error = await failure(
      signedRequest(
        { keystore: bot.keystore },
        createContact(),
        fast({ deadline: Date.now() + 10, deadlineReason: 'batch-reserve' }),
      ),
    );
    expect(error).toMatchObject({ name: 'MixinUnavailableError', reason: 'batch-reserve', attempts: 0 });
    expect(error.message).toMatch(/before Mixin could be asked/);
    expect(sandbox.postCount).toBe(0);
  });
});

describe('with the instance rate limiter', () => {
  /** A limiter whose 429 pause is known: `perSecond` cut to a quarter, paused for one gap (4 s from 1/s). */
  const limiter = (perSecond = 1) => new RateLimiter({ initialPerSecond: perSecond, random: () => 0.5 });
  /** The call's Retry-After is the limiter's wait (3 s at least), rounded up to whole seconds. */
  const expectLimiterWait = (error: Error, paced: RateLimiter) => {
    const waitSeconds = Math.ceil(paced.expectedWaitMs() / 1000);
    expect(waitSeconds).toBeGreaterThanOrEqual(3);
    expect((error as MixinRateLimitError).retryAfterSeconds).toBeGreaterThanOrEqual(waitSeconds);
    expect((error as MixinRateLimitError).retryAfterSeconds).toBeLessThanOrEqual(waitSeconds + 1);
  };

  it('after a 429 the limiter paces the next attempt (no backoff of its own); after a server error the backoff does', async () => {
    sandbox.inject({ kind: 'error', code: 429, count: 1 });
    const afterRateLimit: AttemptReport[] = [];
    await signedRequest(
      { keystore: bot.keystore },
      createContact(),
      fast({
        limiter: limiter(10),
        random: () => 0.99,
        onAttempt: (r) => afterRateLimit.push(r),
      }),
    );
    expect(afterRateLimit[0]).toMatchObject({ outcome: 'rate-limited', nextDelayMs: 0 });

    sandbox.inject({ kind: 'html-500', count: 1 });
    const afterServerError: AttemptReport[] = [];
    const result = await signedRequest(
      { keystore: bot.keystore },
      createContact(),
      fast({ limiter: limiter(), random: () => 0.99, onAttempt: (r) => afterServerError.push(r) }),
    );
    expect(result.attempts).toBe(2);
    expect(afterServerError[0]).toMatchObject({ outcome: 'unavailable', reason: 'server-error', nextDelayMs: 4 });
  });

  it('without a deadline, a retry after a 429 waits for its slot as long as it takes', async () => {
    sandbox.inject({ kind: 'error', code: 429, count: 1 });
    const paced = limiter(10);
    const started = Date.now();
    const result = await signedRequest({ keystore: bot.keystore }, createContact(), fast({ limiter: paced }));
    expect(result.attempts).toBe(2);
    expect(sandbox.postCount).toBe(2);
    // The pause after the 429 (a quarter of 10 calls a second: 400 ms) was waited out, not refused.
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
  });

  it("after a 429, a slot that would come past the deadline ends the call rate-limited, with the limiter's wait", async () => {
    sandbox.inject({ kind: 'error', code: 429, count: 1 });
    const paced = limiter();
    const error = await failure(
      signedRequest(
        { keystore: bot.keystore },
        createContact(),
        fast({ limiter: paced, deadline: Date.now() + 1_000, maxAttempts: 3 }),
      ),
    );
    expect(error).toBeInstanceOf(MixinRateLimitError);
    expect(error).toMatchObject({ reason: 'rate-limited', attempts: 1 });
    expectLimiterWait(error, paced);
    expect(sandbox.postCount).toBe(1);
  });

  it("out of attempts after a 429: Retry-After is the limiter's wait, not the backoff cap", async () => {
    sandbox.inject({ kind: 'error', code: 429, count: 1 });
    const paced = limiter();
    const error = await failure(
      signedRequest({ keystore: bot.keystore }, createContact(), fast({ limiter: paced, maxAttempts: 1 })),
    );
    expect(error).toMatchObject({ name: 'MixinRateLimitError', attempts: 1 });
    expectLimiterWait(error, paced);
  });
});

describe('an attempt our deadline cut while Mixin was still answering', () => {
  it.each([
    ['deadline', {}],
    ['batch-reserve', { deadlineReason: 'batch-reserve' as const }],
  ])('is reported unanswered, with reason %s', async (reason, extra) => {
    sandbox.setLatency(1_000);
    const reports: AttemptReport[] = [];
    const error = await failure(
      signedRequest(
        { keystore: bot.keystore },
        createContact(),
        fast({ deadline: Date.now() + 300, onAttempt: (r) => reports.push(r), ...extra }),
      ),
    );
    expect(error).toMatchObject({ name: 'MixinUnavailableError', reason, attempts: 1 });
    expect(reports).toEqual([expect.objectContaining({ attempt: 1, outcome: 'unavailable', reason, answered: false })]);
  });
});
