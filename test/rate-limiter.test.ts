/**
 * The rate limiter of lib/mixin/rate-limiter.ts: its rules with an injected clock (deterministic), then real calls
 * through signedRequest against the Mixin sandbox's token bucket on 127.0.0.1 (a few seconds).
 */
import { randomUUID } from 'node:crypto';
import { makeBot } from '../infra/local/keys';
import { MixinSandbox } from '../infra/local/mixin-sandbox';
import { uniqueConversationId } from '../lib/conversation-id';
import { MixinRateLimitError } from '../lib/errors';
import { DEFAULTS, initialRate, RateLimiter, type Slot } from '../lib/mixin/rate-limiter';
import { signedRequest } from '../lib/mixin/request';
import { modelDrain } from '../scripts/drain-model';
import { SimulatedClock } from '../scripts/simulated-clock';

class FakeClock extends SimulatedClock {
  constructor() {
    super(1_000_000);
  }
}

/** Starts an acquire and records when (fake time) it settled. */
const track = (clock: FakeClock, promise: Promise<Slot>) => {
  const out: { slot?: Slot; at?: number } = {};
  void promise.then((slot) => Object.assign(out, { slot, at: clock.now() }));
  return out;
};

const limiterAt = (
  options: { ceilingPerSecond?: number; initialPerSecond?: number; paceBeforeFirst429?: boolean } = {},
) => {
  const clock = new FakeClock();
  // random() = 0.5: gaps exactly 1/rate (jitter factor 1.0), a pause exactly one gap.
  return { clock, limiter: new RateLimiter({ ...options, clock, random: () => 0.5 }) };
};
const FAR = Number.POSITIVE_INFINITY;

describe('the rate limiter, on an injected clock', () => {
  it('lets a fresh instance call at once, then paces calls 1/rate apart, in order', async () => {
    const { clock, limiter } = limiterAt({ initialPerSecond: 2 });
    const calls = [
      track(clock, limiter.acquire(FAR)),
      track(clock, limiter.acquire(FAR)),
      track(clock, limiter.acquire(FAR)),
    ];
    await clock.advance(0);
    expect(calls.map((c) => c.at)).toEqual([1_000_000, undefined, undefined]);
    expect(calls[0]!.slot).toMatchObject({ granted: true, held: false });
    await clock.advance(1_000);
    expect(calls.map((c) => c.at)).toEqual([1_000_000, 1_000_500, 1_001_000]);
    expect(calls[2]!.slot).toMatchObject({ granted: true, held: true });
  });

  it('an instance that serves one request at a time (HTTP, workflow) is not paced before its first 429, and is after it', async () => {
    const { clock, limiter } = limiterAt({ initialPerSecond: 10, paceBeforeFirst429: false });
    for (let i = 0; i < 50; i++) {
      const call = track(clock, limiter.acquire(FAR));
      await clock.advance(0);
      expect({ i, at: call.at, held: call.slot?.granted && call.slot.held }).toEqual({ i, at: 1_000_000, held: false });
      limiter.onSuccess(clock.now(), false);
    }
    limiter.onRateLimited();
    const paced = [track(clock, limiter.acquire(FAR)), track(clock, limiter.acquire(FAR))];
    await clock.advance(0);
    expect(paced.map((c) => c.at)).toEqual([undefined, undefined]); // the pause after the 429
    await clock.advance(1_000);
    expect(paced[0]!.at).toBeGreaterThan(1_000_000);
    expect(paced[1]!.at! - paced[0]!.at!).toBeGreaterThanOrEqual(Math.floor(1_000 / limiter.rate));
  });

  it('keeps only the last window of successes, however long an instance runs without a 429', async () => {
    const { clock, limiter } = limiterAt({ initialPerSecond: 10, paceBeforeFirst429: false });
    for (let i = 0; i < 2_000; i++) {
      limiter.onSuccess(clock.now(), false);
      await clock.advance(100);
    }
    // 10 successes a second for 200 s: the 10 s window holds about 100 of them, not 2,000.
    expect(limiter['recent'].length).toBeLessThanOrEqual(DEFAULTS.windowMs / 100 + 1);
  });

  it('a stated ceiling paces a request instance from its first call', async () => {
    const { clock, limiter } = limiterAt({ ceilingPerSecond: 4, initialPerSecond: 4, paceBeforeFirst429: false });
    const calls = [track(clock, limiter.acquire(FAR)), track(clock, limiter.acquire(FAR))];
    await clock.advance(1_000);
    expect(calls[1]!.at! - calls[0]!.at!).toBe(250);
  });

  it('probes: each success of a call it held back adds one call per second, until the first 429', async () => {
    const { clock, limiter } = limiterAt({ initialPerSecond: 2 });
    limiter.onSuccess(clock.now(), true);
    limiter.onSuccess(clock.now(), true);
    expect(limiter.rate).toBe(4);
    limiter.onSuccess(clock.now(), false); // not held back: says nothing about the rate
    expect(limiter.rate).toBe(4);
    expect(limiter.phase).toBe('probe');
  });

  it('after the first 429 drops to what actually got through (never below a quarter), then pauses and refuses requests meanwhile', async () => {
    const { clock, limiter } = limiterAt({ initialPerSecond: 10 });
    for (let i = 0; i < 4; i++) limiter.onSuccess(clock.now(), false); // 4 successes within the first second
    limiter.onRateLimited();
    // Measured 4/s over the (at least one second) window.
    expect(limiter.rate).toBe(4);
    expect(limiter.phase).toBe('steady');
    expect(limiter.pauseRemainingMs()).toBe(250); // one gap at 4/s
    // A request (HTTP, workflow) is refused at once, with the pause as its wait; a queue record waits it out.
    expect(await limiter.acquire(FAR, 'refuse')).toEqual({ granted: false, retryAfterMs: 250, paused: true });
    const queued = track(clock, limiter.acquire(FAR, 'wait'));
    await clock.advance(249);
    expect(queued.slot).toBeUndefined();
    await clock.advance(1);
    expect(queued.slot).toMatchObject({ granted: true, held: true });
  });

  it('in steady state takes 10% off per 429 (not half), and gives back 1% per success', async () => {
    const { clock, limiter } = limiterAt({ initialPerSecond: 10 });
    limiter.onRateLimited(); // end of the probe: nothing got through, a quarter: 2.5/s
    limiter.onRateLimited();
    expect(limiter.rate).toBeCloseTo(2.5 * DEFAULTS.decrease, 10);
    const before = limiter.rate;
    limiter.onSuccess(clock.now(), true);
    expect(limiter.rate).toBeGreaterThan(before * (1 + DEFAULTS.increase) - 1e-9);
    expect(limiter.rate).toBeLessThan(before * (1 + 1.1 * DEFAULTS.increase));
  });

  it('gives back twice as much per success for every 10 s without a 429: a slow instance grows into room others freed', async () => {
    const { clock, limiter } = limiterAt({ initialPerSecond: 2 });
    limiter.onRateLimited(); // steady at half a call a second (a quarter of 2/s)
    const growthAfter = async (quietMs: number) => {
      await clock.advance(quietMs);
      const before = limiter.rate;
      limiter.onSuccess(clock.now(), true);
      return limiter.rate / before - 1;
    };
    expect(await growthAfter(0)).toBeCloseTo(DEFAULTS.increase, 3); // (and a little more per success: 2^(1/64))
    expect(await growthAfter(10_000)).toBeCloseTo(2 * DEFAULTS.increase, 4); // 10 s since the 429
    expect(await growthAfter(10_000)).toBeCloseTo(4 * DEFAULTS.increase, 4); // 20 s
    expect(await growthAfter(10_000)).toBeCloseTo(8 * DEFAULTS.increase, 4); // 30 s (at most 10% a second: see below)
  });

  it('a fresh queue instance starts at half a call a second; a request instance at 10/s; a stated ceiling is the start', () => {
    expect(initialRate(0, 'queue')).toBe(0.5);
    expect(initialRate(0, 'request')).toBe(10);
    expect(initialRate(3, 'queue')).toBe(3);
  });

  it('grows at most 10% a second however many successes arrive', async () => {
    const { clock, limiter } = limiterAt({ initialPerSecond: 100 });
    limiter.onRateLimited(); // steady at 25/s
    await clock.advance(1_000);
    for (let i = 0; i < 50; i++) limiter.onSuccess(clock.now(), true);
    expect(limiter.rate).toBeCloseTo(25 * (1 + DEFAULTS.maxGrowthPerSecond), 10);
  });

  it('never exceeds its ceiling, nor goes below the minimum', async () => {
    const { clock, limiter } = limiterAt({ initialPerSecond: 2, ceilingPerSecond: 3 });
    for (let i = 0; i < 5; i++) limiter.onSuccess(clock.now(), true);
    expect(limiter.rate).toBe(3);
    for (let i = 0; i < 100; i++) limiter.onRateLimited();
    expect(limiter.rate).toBe(DEFAULTS.minPerSecond);
  });

  it('refuses at once a call whose slot would come after its latest start, saying when to come back', async () => {
    const { clock, limiter } = limiterAt({ initialPerSecond: 1 });
    track(clock, limiter.acquire(FAR));
    await clock.advance(0);
    expect(await limiter.acquire(clock.now() + 500)).toEqual({ granted: false, retryAfterMs: 1_000, paused: false });
  });

  it('refuses a waiting call at its latest start when a 429 meanwhile pushed its slot past it', async () => {
    const { clock, limiter } = limiterAt({ initialPerSecond: 4 });
    track(clock, limiter.acquire(FAR));
    await clock.advance(0);
    const waiting = track(clock, limiter.acquire(clock.now() + 400)); // its slot: 250 ms from now
    await clock.advance(100);
    limiter.onRateLimited(); // 2/s now, paused one gap (500 ms)
    await clock.advance(300);
    expect(waiting).toMatchObject({ at: 1_000_400, slot: { granted: false, paused: true } });
  });

  it('keeps every timer within the longest Node keeps (2^31 - 1 ms), and still refuses and grants on time past it', async () => {
    const DAY = 86_400_000;
    const { clock, limiter } = limiterAt({ initialPerSecond: 10 });
    const delays: number[] = [];
    const setTimer = clock.setTimeout;
    clock.setTimeout = (fn, ms) => (delays.push(ms), setTimer(fn, ms));
    // Node fires a longer timer after 1 ms: a late refusal, or a wake-up every millisecond for a month.
    limiter.onRateLimited(); // a short pause, so that the next call waits
    const start = clock.now();
    const bounded = track(clock, limiter.acquire(start + 30 * DAY));
    const unbounded = track(clock, limiter.acquire(FAR));
    limiter.onRateLimited(40 * DAY); // something in front of Mixin asked for 40 days
    await clock.advance(30 * DAY);
    expect(bounded).toMatchObject({ at: start + 30 * DAY, slot: { granted: false, paused: true } });
    expect(unbounded.slot).toBeUndefined();
    await clock.advance(10 * DAY + 1_000);
    expect(unbounded).toMatchObject({ slot: { granted: true } });
    expect(unbounded.at! - start).toBeGreaterThanOrEqual(40 * DAY);
    expect(Math.max(...delays)).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(delays.length).toBeLessThan(20);
  });

  it('a call with no latest start is granted through a clock that cannot clear a timer it never set', async () => {
    const { clock, limiter } = limiterAt({ initialPerSecond: 10 });
    const clearTimer = clock.clearTimeout;
    clock.clearTimeout = (handle) => {
      if (handle === undefined) throw new Error('no such timer');
      clearTimer(handle);
    };
    track(clock, limiter.acquire(FAR));
    await clock.advance(0);
    const waiting = track(clock, limiter.acquire(FAR)); // no deadline: no give-up timer to clear when granted
    await clock.advance(100);
    expect(waiting).toMatchObject({ at: 1_000_100, slot: { granted: true } });
  });

  it('a Retry-After that is not a number is ignored: the pause is one gap, as without one', async () => {
    const { clock, limiter } = limiterAt({ initialPerSecond: 10 });
    limiter.onRateLimited(Number.NaN); // 2.5/s now, paused one gap (400 ms)
    expect(limiter.pauseRemainingMs()).toBe(400);
    expect(await limiter.acquire(clock.now() + 1_000, 'refuse')).toMatchObject({ granted: false, paused: true });
  });

  it('lengthens its pause to a Retry-After, if something in front of Mixin sends one', () => {
    const { limiter } = limiterAt({ initialPerSecond: 10 });
    limiter.onRateLimited(30_000);
    expect(limiter.pauseRemainingMs()).toBe(30_000);
  });
});

describe('the rate limiter against the sandbox token bucket (real calls on 127.0.0.1)', () => {
  const bot = makeBot();
  let sandbox: MixinSandbox;
  beforeAll(async () => {
    sandbox = await new MixinSandbox({ apps: [bot.app], latencyMs: 5 }).start();
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.reset());

  const contact = () => {
    const user = randomUUID();
    return {
      method: 'POST' as const,
      path: '/conversations',
      body: JSON.stringify({
        category: 'CONTACT',
        conversation_id: uniqueConversationId(bot.keystore.appId, user),
        participants: [{ user_id: user }],
      }),
    };
  };
  const create = (limiter: RateLimiter, whenPaused: 'wait' | 'refuse', deadlineMs = 3_000) =>
    signedRequest({ keystore: bot.keystore }, contact(), {
      baseUrl: sandbox.url,
      limiter,
      whenPaused,
      deadline: Date.now() + deadlineMs,
      attemptTimeoutMs: 1_000,
    });

  it('three instances with a backlog share a bot limited to 10/s: near the limit, few 429s, no burst of retries', async () => {
    sandbox.setRateLimit(10);
    const instances = [0, 1, 2].map(() => new RateLimiter({ initialPerSecond: DEFAULTS.initialPerSecond }));
    const started = Date.now();
    const until = started + 8_000;
    const createdAt: number[] = [];
    const worker = async (limiter: RateLimiter) => {
      while (Date.now() < until) {
        try {
          // Each record may wait up to 3 s for its slot, as a record of a batch waits within its invocation.
          await create(limiter, 'wait', Math.max(100, Math.min(3_000, until - Date.now())));
          createdAt.push(Date.now());
        } catch (error) {
          if (!(error instanceof MixinRateLimitError)) throw error;
          // Refused: no slot within its time. A batch would defer the record; here the worker comes back a little later.
          await new Promise((resolve) => setTimeout(resolve, Math.min(error.retryAfterSeconds * 1000, 500)));
        }
      }
    };
    await Promise.all(instances.flatMap((limiter) => [worker(limiter), worker(limiter), worker(limiter)]));
    // Past the probes (each instance starts at half a call a second), the three together use most of the 10/s, and few calls are refused.
    const lastThreeSeconds = createdAt.filter((t) => t >= started + 5_000).length;
    expect(lastThreeSeconds).toBeGreaterThanOrEqual(0.75 * 30);
    expect(lastThreeSeconds).toBeLessThanOrEqual(30 + 10); // the bucket: 10/s, and at most 10 at once
    expect(sandbox.rateLimited / sandbox.calls).toBeLessThan(0.3);
    expect(instances.every((l) => l.phase === 'steady')).toBe(true);
  }, 20_000);

  it('a paused instance does not call Mixin: a request is refused at once, attempts 0, with Retry-After from the pause', async () => {
    sandbox.setRateLimit(1);
    const limiter = new RateLimiter({ initialPerSecond: 10 });
    await create(limiter, 'refuse'); // the bucket's one token
    const refused = await create(limiter, 'refuse', 200).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MixinRateLimitError); // Mixin said 429; no slot left within 200 ms
    const calls = sandbox.calls;
    const started = Date.now();
    const paused = await create(limiter, 'refuse').catch((error: unknown) => error as MixinRateLimitError);
    expect(Date.now() - started).toBeLessThan(50);
    expect(paused).toMatchObject({ name: 'MixinRateLimitError', reason: 'paused', attempts: 0 });
    expect((paused as MixinRateLimitError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(sandbox.calls).toBe(calls);
  });

  it('after a 429 within a call, the next attempt waits for the limiter instead of burning the attempts', async () => {
    sandbox.setRateLimit(1);
    // random() = 0.5: gaps of exactly 1/rate, a pause of exactly one gap.
    const limiter = new RateLimiter({ initialPerSecond: 2, random: () => 0.5 });
    await create(limiter, 'wait'); // the bucket's one token
    const result = await create(limiter, 'wait', 5_000);
    // 500 ms later: 429. The probe ends at the 1/s that got through, the instance pauses one gap (1 s), and the
    // retry finds a token: two attempts, not four 429s within a few hundred ms of backoff.
    expect(result.attempts).toBe(2);
    expect(sandbox.rateLimited).toBe(1);
    const [refused, retried] = sandbox.requests.slice(1).map((r) => r.at);
    expect(retried! - refused!).toBeGreaterThanOrEqual(950);
    expect(sandbox.created).toBe(2);
  });
});

describe('the rate limiter in a model of a bulk drain (scripts/drain-model.ts, a simulated clock: deterministic)', () => {
  // The model leaves out SQS's and Lambda's latencies, so its drains are a little shorter than the load tool's: these
  // bounds hold the tuning (a change that loses the tail or doubles the 429s fails here), not the targets themselves.
  it('five instances drain 300 records at 2/s near the limit, with few 429s and every record created', async () => {
    const result = await modelDrain(2, 300, 4);
    expect(result.drain).toBeLessThan(1.2);
    expect(result.callsPerRecord).toBeLessThan(1.25);
    expect(result.middle).toBeLessThan(1.12);
  });

  it('and 3,000 records at 20/s', async () => {
    const result = await modelDrain(20, 3_000, 2);
    expect(result.drain).toBeLessThan(1.1);
    expect(result.callsPerRecord).toBeLessThan(1.2);
  }, 20_000);
});
