/**
 * A model of the bulk drain on a simulated clock, in about a second: the real rate limiter (lib/mixin/rate-limiter.ts)
 * in five instances (or as many as asked) that take batches of 10 from one queue, run 5 records at once, hold a record until the batch's end
 * reserve, try it up to MIXIN_MAX_ATTEMPTS times, and defer what they do not get to (a copy delayed by the expected
 * wait, at most 5 s); Mixin is a token bucket of R refilled at R per second, as the sandbox's. A development tool for
 * choosing the limiter's constants (the `DEFAULTS` comments cite it): what it leaves out (SQS and Lambda latencies,
 * polling, a busy CPU) makes its drains a little shorter than `npm run load -- bulk`, the reference run.
 *
 *   npx tsx scripts/drain-model.ts                 # R=2/s, N=300, 16 seeds
 *   npx tsx scripts/drain-model.ts 20 3000 4       # R, N, seeds
 *   npx tsx scripts/drain-model.ts 1 150 8 2       # ... and instances (queueMaximumConcurrency, default 5)
 *
 * Prints one JSON line: the drain against N/R (mean and worst over the seeds), split into its start (first 10% of
 * the records), middle and tail (last 10%), each against its share of N/R; Mixin calls per record; deferrals per record.
 */
import { initialRate, RateLimiter } from '../lib/mixin/rate-limiter';
import { SimulatedClock } from './simulated-clock';
import { CONFIG_DEFAULTS } from '../lib/config';

const INSTANCES = 5;
const BATCH = 10;
const IN_FLIGHT = CONFIG_DEFAULTS.queueConcurrency;
const FUNCTION_MS = 30_000;
const RESERVE_MS = CONFIG_DEFAULTS.batchEndReserveMs;
const MAX_DEFER_S = 5;
const LATENCY_MS = 3;

export interface Drain {
  drain: number;
  start: number;
  middle: number;
  tail: number;
  callsPerRecord: number;
  deferralsPerRecord: number;
}

const drainOnce = async (rate: number, n: number, seed: number, instances: number): Promise<Drain> => {
  const clock = new SimulatedClock();
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  let tokens = Math.max(1, rate);
  let refilledAt = 0;
  const mixinAllows = () => {
    tokens = Math.min(Math.max(1, rate), tokens + ((clock.time - refilledAt) / 1000) * rate); // as the sandbox's
    refilledAt = clock.time;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
  const queue: { visibleAt: number }[] = Array.from({ length: n }, () => ({ visibleAt: 0 }));
  const createdAt: number[] = [];
  let calls = 0;
  let deferrals = 0;

  const instance = async () => {
    const limiter = new RateLimiter({ clock, random, initialPerSecond: initialRate(0, 'queue') });
    while (createdAt.length < n) {
      const batch = queue.filter((m) => m.visibleAt <= clock.time).slice(0, BATCH);
      if (batch.length === 0) {
        await clock.sleep(50 + 50 * random());
        continue;
      }
      for (const m of batch) queue.splice(queue.indexOf(m), 1);
      const budget = clock.time + FUNCTION_MS - RESERVE_MS;
      let next = 0;
      const worker = async () => {
        while (next < batch.length) {
          next++;
          let waitMs: number | undefined;
          for (let attempt = 1; attempt <= CONFIG_DEFAULTS.maxAttempts; attempt++) {
            const slot = await limiter.acquire(budget - 50, 'wait');
            if (!slot.granted) {
              waitMs = slot.retryAfterMs;
              break;
            }
            await clock.sleep(LATENCY_MS);
            calls++;
            if (mixinAllows()) {
              limiter.onSuccess(slot.startedAt, slot.held);
              waitMs = undefined;
              createdAt.push(clock.time);
              break;
            }
            limiter.onRateLimited();
            waitMs = limiter.expectedWaitMs();
          }
          if (waitMs === undefined) continue;
          deferrals++;
          const delayS = Math.min(MAX_DEFER_S, Math.round(waitMs / 1000));
          queue.push({ visibleAt: clock.time + 100 + delayS * 1000 });
        }
      };
      await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, batch.length) }, worker));
    }
  };
  for (let i = 0; i < instances; i++) void instance();
  const ideal = (n / rate) * 1000;
  await clock.run(() => createdAt.length >= n, 5 * ideal);
  const at = (share: number) => createdAt[Math.round(share * n) - 1] ?? Number.POSITIVE_INFINITY;
  const last = at(1);
  return {
    drain: last / ideal,
    start: at(0.1) / (0.1 * ideal),
    middle: (at(0.9) - at(0.1)) / (0.8 * ideal),
    tail: (last - at(0.9)) / (0.1 * ideal),
    callsPerRecord: calls / n,
    deferralsPerRecord: deferrals / n,
  };
};

/** The drain of `n` records at `rate` per second, for each of `seeds` seeds, and their means. */
export const modelDrain = async (rate: number, n: number, seeds: number, instances = INSTANCES) => {
  const runs: Drain[] = [];
  for (let s = 1; s <= seeds; s++) runs.push(await drainOnce(rate, n, s * 7_919, instances));
  const mean = (key: keyof Drain) => Number((runs.reduce((sum, r) => sum + r[key], 0) / runs.length).toFixed(3));
  return {
    rate,
    n,
    seeds,
    instances,
    drained: runs.filter((r) => Number.isFinite(r.drain)).length,
    drain: mean('drain'),
    worstDrain: Number(Math.max(...runs.map((r) => r.drain)).toFixed(3)),
    start: mean('start'),
    middle: mean('middle'),
    tail: mean('tail'),
    callsPerRecord: mean('callsPerRecord'),
    deferralsPerRecord: mean('deferralsPerRecord'),
  };
};

if (require.main === module) {
  const args = process.argv.slice(2);
  const [rate = 2, n = 300, seeds = 16, instances = INSTANCES] = args.map((a) =>
    /^\d+(?:\.\d+)?$/.test(a) ? Number(a) : Number.NaN,
  );
  // N/R from 10 s (a shorter drain is mostly its start, and cannot end within its own cutoff) to 3,000 s, and at most
  // 30,000 records over all seeds: each model then runs in seconds.
  const usable =
    args.length <= 4 &&
    rate >= 0.1 &&
    rate <= 1_000 &&
    Number.isInteger(n) &&
    n / rate >= 10 &&
    n / rate <= 3_000 &&
    Number.isInteger(seeds) &&
    seeds >= 1 &&
    n * seeds <= 30_000 &&
    Number.isInteger(instances) &&
    instances >= 1 &&
    instances <= 20;
  if (!usable) {
    console.error(
      'usage: npx tsx scripts/drain-model.ts [R, 0.1 to 1000] [N, so that N/R is 10 to 3000 s] [seeds, N x seeds at most 30000] [instances, 1 to 20]',
    );
    process.exit(1);
  }
  // A drain not over within 5x N/R has no drain time: null, and `drained` says how many seeds ended.
  void modelDrain(rate, n, seeds, instances).then((result) => console.log(JSON.stringify(result)));
}
