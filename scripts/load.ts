/**
 * `npm run load`: load tests on 127.0.0.1 only.
 *
 *   npm run load                 the handler load (scripts/load/handlers.ts): create-group over HTTP and queue
 *                                handlers in one process, ~10% transient faults, every failure redelivered; checks
 *                                that nothing is lost and every key ends as exactly the one group it addresses.
 *                                Exits 0 when every check holds, 1 when one fails, 2 on the hard time limit.
 *   npm run load -- bulk         the bulk scenario (scripts/load/bulk.ts): N records through npm start's SQS and
 *                                queue functions at deployed concurrency, the sandbox limited to R calls a second;
 *                                writes bench/results/bulk-<date>[-<label>].{json,md} and bulk-latest.{json,md}.
 *                                Exits 0 when every run met every target, 1 otherwise.
 *
 * Handler load environment (all optional): LOAD_REQUESTS (2000 per phase), LOAD_CONCURRENCY (50), LOAD_BATCH_SIZE
 * (10), LOAD_LATENCY_MS (3), LOAD_FAULT_RATE (0.10), LOAD_MAX_ROUNDS (10), LOAD_TIME_LIMIT_S (120), MIXIN_MAX_ATTEMPTS
 * (2 here, so that some requests exhaust their attempts and redelivery is exercised).
 *
 * Bulk options: --run N@R (repeatable; default the two: 300@2 and 3000@20), --kind contacts|groups
 * (contacts), --cap-factor F (each run stops at F x N/R seconds; 3), --latency-ms MS (sandbox latency, 0),
 * --concurrency C (batches at once per queue; the template's), --timeouts deployed|local (the queue function and
 * visibility timeouts as deployed, 30 s and 190 s, or as npm start sets them; deployed), --label TEXT (the report's title), --file-label
 * WORD (in the file names), --out DIR (bench/results), --no-write.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from '../infra/local/command';
import { type BulkResult, runBulk } from './load/bulk';
import { bulkMarkdown, bulkReport, TARGETS, writeBulkReport } from './load/bulk-report';
import { handlerLoadOptionsFrom, runHandlerLoad } from './load/handlers';

/** A command line this tool cannot run: said in one line, without a stack (exit code 1, as any failure). */
class UsageError extends Error {}

const timeLimitSeconds = (raw: string | undefined): number => {
  const value = Number(raw || 120);
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`LOAD_TIME_LIMIT_S must be a positive number, got "${raw}"`);
  return value;
};

const handlerLoad = async (): Promise<number> => {
  const wallStart = performance.now();
  const limit = timeLimitSeconds(process.env.LOAD_TIME_LIMIT_S);
  const hardStop = setTimeout(() => {
    console.error(`load: hard time limit of ${limit} s reached; stopping`);
    process.exit(2);
  }, limit * 1000);
  const { violations } = await runHandlerLoad(handlerLoadOptionsFrom(process.env));
  clearTimeout(hardStop);
  console.log(`load: finished in ${((performance.now() - wallStart) / 1000).toFixed(1)} s`);
  return violations.length ? 1 : 0;
};

const positive = (name: string, raw: string | undefined): number => {
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value) || value <= 0)
    throw new UsageError(`${name} takes a number above 0, got "${raw ?? ''}"`);
  return value;
};

const nonNegative = (name: string, raw: string | undefined): number => {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || value < 0)
    throw new UsageError(`${name} takes a number of 0 or more, got "${raw ?? ''}"`);
  return value;
};

/** Creates the results folder (and its parents) and checks it can be written to: else a usage error naming it. */
const prepareOutDir = (dir: string): void => {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new UsageError(
      `--out ${dir}: cannot write results there (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
};

const bulkLoad = async (argv: string[]): Promise<number> => {
  const runs: { n: number; rate: number }[] = [];
  let kind: 'contacts' | 'groups' = 'contacts';
  let capFactor = 3;
  let latencyMs = 0;
  let concurrency: number | undefined;
  let label = 'bulk drain';
  let fileLabel = '';
  let out = join(ROOT, 'bench', 'results');
  let write = true;
  let timeouts: 'deployed' | 'local' = 'deployed';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // Every option but --no-write takes a value: a missing one (or the next option in its place) is refused, never
    // replaced by the default (`--out` alone would write over the committed bench/results).
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${arg} takes a value`);
      return next;
    };
    if (arg === '--run') {
      const match = /^(\d+)@(\d+(?:\.\d+)?)$/.exec(value());
      // R = 0 would be a sandbox without a limit (nothing to measure against), N = 0 a drain of nothing.
      if (!match || Number(match[1]) < 1 || !(Number(match[2]) > 0))
        throw new UsageError('--run takes N@R with N at least 1 and R above 0, e.g. 300@2');
      runs.push({ n: Number(match[1]), rate: Number(match[2]) });
    } else if (arg === '--kind') {
      const k = value();
      if (k !== 'contacts' && k !== 'groups') throw new UsageError('--kind takes contacts or groups');
      kind = k;
    } else if (arg === '--cap-factor') capFactor = positive(arg, value());
    else if (arg === '--latency-ms') latencyMs = nonNegative(arg, value());
    else if (arg === '--concurrency') {
      // As LOCAL_QUEUE_MAXIMUM_CONCURRENCY takes it, which it becomes: refused here, under its own name.
      const c = value();
      if (!/^\d+$/.test(c) || Number(c) < 1 || Number(c) > 1000)
        throw new UsageError(`--concurrency takes a whole number from 1 to 1000, got "${c}"`);
      concurrency = Number(c);
    } else if (arg === '--label') label = value();
    else if (arg === '--file-label') fileLabel = value().replace(/[^\w-]/g, '');
    else if (arg === '--out') out = value();
    else if (arg === '--no-write') write = false;
    else if (arg === '--timeouts') {
      const t = value();
      if (t !== 'deployed' && t !== 'local') throw new UsageError('--timeouts takes deployed or local');
      timeouts = t;
    } else throw new UsageError(`unknown bulk option ${arg}`);
  }
  if (runs.length === 0) runs.push({ n: 300, rate: 2 }, { n: 3000, rate: 20 });
  // A folder it cannot write to is found now, not after minutes of drains whose figures would then be lost.
  if (write) prepareOutDir(out);
  const results: BulkResult[] = [];
  for (const { n, rate } of runs) {
    const result = await runBulk({
      kind,
      n,
      rate,
      capSeconds: Math.ceil((capFactor * n) / rate),
      latencyMs,
      timeouts,
      ...(concurrency !== undefined && { maximumConcurrency: concurrency }),
      log: (line) => console.error(line),
    });
    console.error(JSON.stringify(result));
    results.push(result);
  }
  const report = bulkReport(
    label,
    {
      timeouts: `${timeouts} (queue function ${results[0]?.functionTimeoutSeconds} s, visibility ${results[0]?.visibilityTimeoutSeconds} s)`,
      'cap factor': capFactor,
      'sandbox latency ms': latencyMs,
      'batches at once per queue': concurrency ?? 'template (queueMaximumConcurrency)',
    },
    results,
  );
  console.log(bulkMarkdown(report));
  if (write) for (const file of writeBulkReport(report, out, fileLabel)) console.error(`wrote ${file}`);
  const met = (r: BulkResult) =>
    r.drainRatio !== null &&
    r.drainRatio <= TARGETS.drainRatio &&
    r.callsPerRecord <= TARGETS.callsPerRecord &&
    r.deadLettered === 0 &&
    r.lost === 0 &&
    r.duplicated === 0;
  return results.every(met) ? 0 : 1;
};

const [command, ...rest] = process.argv.slice(2);
(command === 'bulk'
  ? bulkLoad(rest)
  : command === undefined
    ? handlerLoad()
    : Promise.reject(new UsageError(`unknown load "${command}": npm run load [-- bulk ...]`))
).then(
  // Keep-alive sockets and cache timers of the handlers would hold the process open.
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`load: ${error.message}`);
      process.exit(1);
    }
    console.error('load: crashed', error);
    process.exit(1);
  },
);
