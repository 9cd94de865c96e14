/**
 * A clock whose time moves only when told, running due timers in order (the rate limiter's `Clock`): the tests of
 * the limiter drive it step by step, scripts/drain-model.ts runs a whole drain on it in about a second.
 */
import type { Clock } from '../lib/mixin/rate-limiter';

interface Timer {
  at: number;
  fn: () => void;
}

/** Lets the promise chains that a timer started settle (a few turns of the microtask queue). */
const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

export class SimulatedClock implements Clock {
  private seq = 0;
  private readonly timers = new Map<number, Timer>();

  constructor(public time = 0) {}

  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => {
    this.timers.set(++this.seq, { at: this.time + Math.max(0, ms), fn });
    return this.seq;
  };
  clearTimeout = (handle: unknown) => void this.timers.delete(handle as number);
  sleep = (ms: number) => new Promise<void>((resolve) => this.setTimeout(resolve, ms));

  /** Moves time forward by `ms`, firing each timer at its time, letting promises settle in between. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await flush();
      if (!this.fireNext(end)) break;
    }
    this.time = end;
    await flush();
  }

  /** Fires timer after timer, each once everything it started has settled, until `done()` or past `capMs`. */
  async run(done: () => boolean, capMs: number): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (done() || this.time > capMs || !this.fireNext(Number.POSITIVE_INFINITY)) return;
    }
  }

  /** Fires the earliest timer due by `limit` (the first set, among equals); false when there is none. */
  private fireNext(limit: number): boolean {
    let next: [number, Timer] | undefined;
    for (const entry of this.timers) if (entry[1].at <= limit && (!next || entry[1].at < next[1].at)) next = entry;
    if (!next) return false;
    this.timers.delete(next[0]);
    this.time = Math.max(this.time, next[1].at);
    next[1].fn();
    return true;
  }
}
