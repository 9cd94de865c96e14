/**
 * How fast this instance calls Mixin, learnt from Mixin's answers. Mixin limits each bot to a rate it does not
 * publish and answers the excess with code 429 (no Retry-After); every instance of every function calls as the same
 * bot and adapts on its own, with no shared state. One limiter per process, shared by every Mixin call of it.
 *
 * - Pacing: calls start one at a time, `1 / rate` apart (each gap jittered, so that instances do not fire together).
 * - Probing: a fresh instance knows nothing; it starts at {@link DEFAULTS.initialPerSecond} and adds one call per
 *   second per success until the first 429 (doubling about every second).
 * - After a 429: the rate drops to what the instance actually got through just before (its measured success rate),
 *   but never by more than half and never less than by {@link DEFAULTS.decrease}: gentler than halving, which would
 *   keep only about 75% of the limit in use. The instance then pauses for one to two of its new gaps (jittered), and
 *   429s to calls started before the drop change nothing more (one drop per congestion event).
 * - Back up: each success adds {@link DEFAULTS.increase} of the rate, so a cycle costs about the same few 429s
 *   whatever the limit; a success only counts when the call had waited for its turn (an idle instance does not
 *   raise a rate it never used).
 * - An optional ceiling (MIXIN_MAX_CALLS_PER_SECOND) caps the rate of the instance, and is where it starts.
 */

/** Time and timers, injectable so that tests drive the limiter deterministically. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface RateLimiterOptions {
  /** Calls per second this instance never exceeds (0 or unset: no ceiling). */
  ceilingPerSecond?: number;
  /** The first rate of the probe (default {@link DEFAULTS.initialPerSecond}). */
  initialPerSecond?: number;
  /**
   * Whether calls are paced before the first 429 (default true). An instance that serves one request at a time
   * (HTTP, workflow) is already paced by Mixin's answers: pacing it at a probe rate it never needed would only add
   * latency to a warm instance. A queue instance runs several records at once and is paced from its first call.
   * A stated ceiling paces every instance from its first call.
   */
  paceBeforeFirst429?: boolean;
  clock?: Clock;
  /** Source of jitter in [0, 1). */
  random?: () => number;
}

/** The limiter's constants: why each value is what it is. */
export const DEFAULTS = {
  /**
   * A fresh queue instance's first rate: low, since five instances may start at once against a limit of a few per
   * second. Half a call a second rather than one: five instances starting at 1/s offer 2.5 times a limit of 2/s, and
   * the 429s of that start left them unevenly paced for the rest of a drain (scripts/drain-model.ts: the middle of a
   * drain at 2/s took 1.16 of its ideal time from 1/s, 1.07 from 0.5/s); a limit of 20/s is found about 2 s later.
   */
  initialPerSecond: 0.5,
  /**
   * A fresh HTTP or workflow instance's: one request at a time, so its own pace is already bounded by Mixin's latency;
   * a low start would only hold back a caller's retries and the next request.
   */
  initialPerSecondForRequests: 10,
  /** The lowest rate: one call every ten seconds still probes. */
  minPerSecond: 0.1,
  /** The highest rate without a ceiling: far above any Mixin limit, a guard against a runaway. */
  maxPerSecond: 1_000,
  /** Each 429 takes this share of the rate off... */
  decrease: 0.9,
  /** ...except the first, which ends the probe: down to the rate measured until then, but not below this share. */
  probeFloor: 0.25,
  /** Each success (after a wait) adds this share of the rate: 0.1625/0.01 = about 16 successes from 85% back to 100%. */
  increase: 0.01,
  /**
   * The share added per success doubles after this many successes without a 429 ... (64, not 32: at 20/s an instance
   * that calls more also doubled sooner, and one instance ended a drain far ahead of the others, one far behind)
   */
  doubleEverySuccesses: 64,
  /**
   * ... or after this many milliseconds without one: an instance calling a few times a second or less gets few
   * successes, so the time without a 429 is what lets it grow into capacity that others freed (the end of a drain).
   */
  doubleEveryMs: 10_000,
  /** ... up to this share per success. */
  maxGrowth: 0.25,
  /** However many successes, the rate grows by at most this share a second: a fast instance does not outgrow the others. */
  maxGrowthPerSecond: 0.1,
  /** Successes counted for the measured rate: the last this many milliseconds. */
  windowMs: 10_000,
} as const;

/** A slot to call Mixin, or why not: the call should not start before `retryAfterMs` from now. */
export type Slot =
  | { granted: true; held: boolean; startedAt: number }
  | { granted: false; retryAfterMs: number; paused: boolean };

/**
 * A wait as a timer delay: never negative, and at most the longest delay a Node timer keeps (2^31 - 1 ms, about
 * 24.8 days; a longer one fires after 1 ms). A longer wait is reached in steps: each timer checks the time again.
 */
const timerDelay = (ms: number): number => Math.min(2 ** 31 - 1, Math.max(0, ms));

/** What to do when the instance is paused: wait for the pause to end (within the deadline), or refuse at once. */
export type WhenPaused = 'wait' | 'refuse';

interface Waiter {
  latestStart: number;
  /** Whether the limiter held this caller back (pacing, pause, others ahead): only then does a success say the rate was too low. */
  held: boolean;
  resolve: (slot: Slot) => void;
  timer: unknown;
}

export class RateLimiter {
  /** Calls per second this instance allows itself now. */
  rate: number;
  /** `probe` until the first 429, then `steady`. */
  phase: 'probe' | 'steady' = 'probe';
  /** Answers seen: successes and 429s (for metrics and tests). */
  successes = 0;
  rateLimited = 0;
  private pausedUntil = Number.NEGATIVE_INFINITY;
  private quietSuccesses = 0;
  private growthWindowStart = Number.NEGATIVE_INFINITY;
  private rateAtWindowStart = 0;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  private lastStartAt = Number.NEGATIVE_INFINITY;
  /** The jitter of the current gap, a factor in [0.5, 1.5) of `1 / rate`. */
  private jitter = 1;
  private readonly startedAt: number;
  private readonly recent: number[] = [];
  private readonly waiters: Waiter[] = [];
  private timer: unknown;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly ceiling: number;
  /** No pacing until the first 429 (a request instance without a ceiling). */
  private readonly unpacedProbe: boolean;

  constructor(options: RateLimiterOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.ceiling =
      options.ceilingPerSecond && options.ceilingPerSecond > 0 ? options.ceilingPerSecond : DEFAULTS.maxPerSecond;
    this.rate = Math.min(options.initialPerSecond ?? DEFAULTS.initialPerSecond, this.ceiling);
    this.unpacedProbe = options.paceBeforeFirst429 === false && this.ceiling === DEFAULTS.maxPerSecond;
    this.startedAt = this.clock.now();
  }

  /** Milliseconds until the pause after a 429 ends (0: not paused). */
  pauseRemainingMs(): number {
    return Math.max(0, this.pausedUntil - this.clock.now());
  }

  /** How long a call asking now would wait for its slot: the pause, the gap, and one gap per caller already waiting. */
  expectedWaitMs(): number {
    const now = this.clock.now();
    return Math.max(0, this.nextStartAt() - now) + this.waiters.length * this.gapMs(1);
  }

  /**
   * Waits for this instance's next slot to call Mixin. Refuses at once when the slot would come after `latestStart`
   * (epoch ms), or when the instance is paused and `whenPaused` is `refuse`; refuses at `latestStart` when a drop of
   * the rate meanwhile pushed the slot past it. A refusal says when to try again.
   */
  acquire(latestStart: number, whenPaused: WhenPaused = 'wait'): Promise<Slot> {
    const now = this.clock.now();
    const pause = this.pauseRemainingMs();
    if (pause > 0 && whenPaused === 'refuse')
      return Promise.resolve({ granted: false, retryAfterMs: pause, paused: true });
    const wait = this.expectedWaitMs();
    if (now + wait > latestStart)
      return Promise.resolve({ granted: false, retryAfterMs: Math.max(1, wait), paused: pause > 0 });
    // Free now and nobody ahead: granted at once, not through a timer (a 0 ms timer still costs a turn of the event
    // loop, about a millisecond: most of a warm request's time).
    if (wait === 0 && this.waiters.length === 0) return Promise.resolve(this.grant(now, false));
    return new Promise<Slot>((resolve) => {
      const waiter: Waiter = { latestStart, held: wait > 0, resolve, timer: undefined };
      this.armGiveUp(waiter);
      this.waiters.push(waiter);
      this.schedule();
    });
  }

  /** A call that started at `startedAt` succeeded; `held`: the limiter had made it wait for its slot. */
  onSuccess(startedAt: number, held: boolean): void {
    this.successes++;
    const now = this.clock.now();
    this.recent.push(now);
    // Only the last window is ever read: a warm instance that never meets a 429 must not keep every success.
    while (this.recent[0]! < now - DEFAULTS.windowMs) this.recent.shift();
    if (!held || startedAt < this.lastDecreaseAt) return; // the limiter was not what held it back
    if (this.phase === 'probe') return this.setRate(this.rate + 1);
    this.quietSuccesses++;
    if (now - this.growthWindowStart >= 1_000) {
      this.growthWindowStart = now;
      this.rateAtWindowStart = this.rate;
    }
    this.setRate(
      Math.min(this.rate * (1 + this.growth(now)), this.rateAtWindowStart * (1 + DEFAULTS.maxGrowthPerSecond)),
    );
  }

  /** A call was answered 429: slow the whole instance down (every 429 counts: an instance sending more gets more of them, and slows down more). */
  onRateLimited(retryAfterMs?: number): void {
    this.rateLimited++;
    const now = this.clock.now();
    if (this.phase === 'probe')
      this.setRate(
        Math.max(this.rate * DEFAULTS.probeFloor, Math.min(this.rate * DEFAULTS.decrease, this.measuredRate(now))),
      );
    else this.setRate(this.rate * DEFAULTS.decrease);
    this.quietSuccesses = 0;
    this.phase = 'steady';
    this.lastDecreaseAt = now;
    // A Retry-After (Mixin sends none; something in front of it might) lengthens the pause. One that is not a number
    // is none: NaN would make the pause NaN, and the instance would never be paced again.
    const asked = retryAfterMs === undefined || Number.isNaN(retryAfterMs) ? 0 : retryAfterMs;
    this.pausedUntil = Math.max(this.pausedUntil, now + this.gapMs(0.5 + this.random()), now + asked);
    this.reschedule();
  }

  /**
   * The share of the rate one success adds: {@link DEFAULTS.increase} right after a 429, doubling every
   * {@link DEFAULTS.doubleEverySuccesses} successes or {@link DEFAULTS.doubleEveryMs} without one (whichever is more):
   * slow near the limit just found, fast when it was left far behind (an instance that dropped too low, a limit that rose).
   */
  private growth(now: number): number {
    const quiet = Math.max(
      this.quietSuccesses / DEFAULTS.doubleEverySuccesses,
      (now - this.lastDecreaseAt) / DEFAULTS.doubleEveryMs,
    );
    return Math.min(DEFAULTS.maxGrowth, DEFAULTS.increase * 2 ** quiet);
  }

  /** Successes per second over the last window (or the instance's life, if shorter; at least one second). */
  private measuredRate(now: number): number {
    while (this.recent.length > 0 && this.recent[0]! < now - DEFAULTS.windowMs) this.recent.shift();
    const span = Math.max(1_000, Math.min(DEFAULTS.windowMs, now - this.startedAt));
    return (this.recent.length * 1_000) / span;
  }

  private setRate(rate: number): void {
    this.rate = Math.min(this.ceiling, Math.max(DEFAULTS.minPerSecond, rate));
  }

  private gapMs(factor: number): number {
    return (1_000 / this.rate) * factor;
  }

  private nextStartAt(): number {
    if (this.unpacedProbe && this.phase === 'probe') return Math.max(this.clock.now(), this.pausedUntil);
    return Math.max(this.clock.now(), this.lastStartAt + this.gapMs(this.jitter), this.pausedUntil);
  }

  private schedule(): void {
    if (this.timer !== undefined || this.waiters.length === 0) return;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.release();
      },
      timerDelay(this.nextStartAt() - this.clock.now()),
    );
  }

  private reschedule(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule();
  }

  private release(): void {
    const now = this.clock.now();
    if (this.nextStartAt() > now) return this.schedule(); // paused or slowed down meanwhile
    const waiter = this.waiters.shift();
    if (waiter) {
      if (waiter.timer !== undefined) this.clock.clearTimeout(waiter.timer); // none without a latest start
      waiter.resolve(this.grant(now, waiter.held));
    }
    this.schedule();
  }

  /** A slot starting now: the next gap is counted from it. */
  private grant(now: number, held: boolean): Slot {
    this.lastStartAt = now;
    this.jitter = 0.98 + 0.04 * this.random();
    return { granted: true, held, startedAt: now };
  }

  /**
   * Refuses `waiter` at its latest start (in steps, see {@link timerDelay}). A call without one (no deadline) waits as
   * long as it takes.
   */
  private armGiveUp(waiter: Waiter): void {
    const left = waiter.latestStart - this.clock.now();
    if (Number.isNaN(left) || left === Number.POSITIVE_INFINITY) return;
    waiter.timer = this.clock.setTimeout(
      () => (waiter.latestStart > this.clock.now() ? this.armGiveUp(waiter) : this.giveUp(waiter)),
      timerDelay(left),
    );
  }

  private giveUp(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index < 0) return;
    this.waiters.splice(index, 1);
    waiter.resolve({
      granted: false,
      retryAfterMs: Math.max(1, this.expectedWaitMs()),
      paused: this.pauseRemainingMs() > 0,
    });
  }
}

let shared: RateLimiter | undefined;

/**
 * The limiter of this process, shared by every Mixin call of the instance (created by the first caller, with its
 * ceiling: MIXIN_MAX_CALLS_PER_SECOND is read once per cold start, like the rest of the configuration).
 */
export const processRateLimiter = (
  options: Pick<RateLimiterOptions, 'ceilingPerSecond' | 'initialPerSecond' | 'paceBeforeFirst429'> = {},
): RateLimiter => (shared ??= new RateLimiter(options));

/**
 * A fresh instance's first rate: the ceiling, when an operator stated one (they vouch for it: no need to probe up to
 * it), else a low probe, lower for a queue instance (five may start at once with a backlog) than for a request's.
 */
export const initialRate = (ceilingPerSecond: number, trigger: 'queue' | 'request'): number =>
  ceilingPerSecond > 0
    ? ceilingPerSecond
    : trigger === 'queue'
      ? DEFAULTS.initialPerSecond
      : DEFAULTS.initialPerSecondForRequests;
