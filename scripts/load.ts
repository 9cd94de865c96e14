/**
 * `npm run load`: load tests on 127.0.0.1 only.
 *
 *   npm run load                 the handler load (scripts/load/handlers.ts): create-group over HTTP and queue
 *                                handlers in one process, ~10% transient faults, every failure redelivered; checks
 *                                that nothing is lost and every key ends as exactly the one group it addresses.
 *
 * Exits 0 when every check holds, 1 when one fails, 2 on the hard time limit.
 *
 * Environment (all optional): LOAD_REQUESTS (2000 per phase), LOAD_CONCURRENCY (50), LOAD_BATCH_SIZE (10),
 * LOAD_LATENCY_MS (3), LOAD_FAULT_RATE (0.10), LOAD_MAX_ROUNDS (10), LOAD_TIME_LIMIT_S (120),
 * MIXIN_MAX_ATTEMPTS (2 here, so that some requests exhaust their attempts and redelivery is exercised).
 */
import { performance } from 'node:perf_hooks';
import { handlerLoadOptionsFrom, runHandlerLoad } from './load/handlers';

const timeLimitSeconds = (raw: string | undefined): number => {
  const value = Number(raw || 120);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`LOAD_TIME_LIMIT_S must be a positive number, got "${raw}"`);
  return value;
};

const main = async (): Promise<number> => {
  const { violations } = await runHandlerLoad(handlerLoadOptionsFrom(process.env));
  return violations.length ? 1 : 0;
};

const wallStart = performance.now();
const limit = timeLimitSeconds(process.env.LOAD_TIME_LIMIT_S);
const hardStop = setTimeout(() => {
  console.error(`load: hard time limit of ${limit} s reached; stopping`);
  process.exit(2);
}, limit * 1000);
main().then(
  (code) => {
    clearTimeout(hardStop);
    console.log(`load: finished in ${((performance.now() - wallStart) / 1000).toFixed(1)} s`);
    // Keep-alive sockets and cache timers of the handlers would hold the process open.
    process.exit(code);
  },
  (error: unknown) => {
    console.error('load: crashed', error);
    process.exit(1);
  },
);
