/**
 * The handler load (`npm run load`): a bounded load test of the create-group handlers, in one process, on 127.0.0.1.
 *
 *   1. starts the Mixin sandbox (a few ms of latency, ~10% transient faults) and a local Secrets Manager holding a
 *      throwaway bot's keystore, points the real handlers at them through the environment, imports them once;
 *   2. HTTP: `requests` group creations through create-group/http at `concurrency`, each with its own Idempotency-Key;
 *   3. queue: `requests` records through create-group/queue in batches, `concurrency` records in flight, each record
 *      a logical request whose messageId stays the same across redeliveries;
 *   4. redelivers every failed request (same Idempotency-Key, same messageId) until it succeeds, at most `maxRounds`;
 *   5. checks: every answer was a success or a retryable failure (HTTP 429/503/504, or the record in
 *      batchItemFailures), nothing lost, and exactly one group per logical request: the group its key addresses,
 *      `groupIdForKey(bot, key)` (README "Idempotency"), exists, and nothing else was created.
 *
 * The handlers read their environment at import: run it once per process (test/load.test.ts runs a short one).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { MixinSandbox } from '../../infra/local/mixin-sandbox';
import { LocalSecretsManager } from '../../infra/local/secrets-manager';
import { groupIdForKey } from '../../lib/conversation-id';
import { httpEvent, lambdaContext, sqsEvent } from '../../infra/local/lambda-events';
import { makeBot } from '../../infra/local/keys';

type Http = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<APIGatewayProxyStructuredResultV2>;
type Queue = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;

const num = (env: NodeJS.ProcessEnv, name: string, fallback: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
};

/** What one handler load does. */
export interface HandlerLoadOptions {
  /** Logical group creations per phase (HTTP, queue). */
  requests: number;
  /** Requests (HTTP) or records (queue) in flight. */
  concurrency: number;
  /** Records per queue event, 1 to 10. */
  batchSize: number;
  /** Sandbox answer latency. */
  latencyMs: number;
  /** Share of attempts answered with a transient fault. */
  faultRate: number;
  /** Redelivery rounds after the first pass. */
  maxRounds: number;
}

/** The options from LOAD_* variables: LOAD_REQUESTS (2000), LOAD_CONCURRENCY (50), LOAD_BATCH_SIZE (10),
 * LOAD_LATENCY_MS (3), LOAD_FAULT_RATE (0.10), LOAD_MAX_ROUNDS (10). */
export const handlerLoadOptionsFrom = (env: NodeJS.ProcessEnv): HandlerLoadOptions => ({
  requests: num(env, 'LOAD_REQUESTS', 2000),
  concurrency: Math.max(1, num(env, 'LOAD_CONCURRENCY', 50)),
  batchSize: Math.min(10, Math.max(1, num(env, 'LOAD_BATCH_SIZE', 10))),
  latencyMs: num(env, 'LOAD_LATENCY_MS', 3),
  faultRate: num(env, 'LOAD_FAULT_RATE', 0.1),
  maxRounds: num(env, 'LOAD_MAX_ROUNDS', 10),
});

const LAMBDA_TIMEOUT_MS = 10_000;
const QUEUE_CONCURRENCY = 5;

const RETRYABLE_HTTP = new Set([429, 503, 504]);

/** One logical request: what is sent every time, and the group it must end up as. */
interface Logical {
  key: string;
  body: string;
  expected: string;
  done: boolean;
  tries: number;
}

interface PhaseStats {
  name: string;
  unit: string;
  logical: number;
  firstPassMs: number;
  latencies: number[];
  success: number;
  retryable: number;
  other: number;
  otherSamples: string[];
  rounds: number;
  redelivered: number;
  stillFailing: number;
  mismatched: number;
}

const newStats = (name: string, unit: string, logical: number): PhaseStats => ({
  name,
  unit,
  logical,
  firstPassMs: 0,
  latencies: [],
  success: 0,
  retryable: 0,
  other: 0,
  otherSamples: [],
  rounds: 0,
  redelivered: 0,
  stillFailing: 0,
  mismatched: 0,
});

const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

/** Runs `work` over `items` with at most `limit` in flight. */
const pool = async <T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> => {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
};

const chunks = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Step 1: the Mixin sandbox and a local Secrets Manager holding a throwaway bot's keystore; the environment points at them until `stop`. */
const startPeers = async () => {
  const bot = makeBot();
  const sandbox = await new MixinSandbox({ apps: [bot.app] }).start();
  const secrets = await new LocalSecretsManager().start();
  const secretId = `mixin/load-${randomUUID()}`;
  secrets.put(secretId, JSON.stringify(bot.json));
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'load',
    AWS_SECRET_ACCESS_KEY: 'load',
    MIXIN_API_URL: sandbox.url,
    MIXIN_KEYSTORE_SECRET_ID: secretId,
    MIXIN_MAX_ATTEMPTS: process.env.MIXIN_MAX_ATTEMPTS || '2',
    QUEUE_CONCURRENCY: String(QUEUE_CONCURRENCY),
    POWERTOOLS_DEV: 'true', // Powertools writes to the global console (as in the tests), so the filter below sees it
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  // The environment as it was, once the run is over: whatever runs next in this process must not inherit ours.
  const stop = async () => {
    process.env = saved;
    await Promise.all([sandbox.stop(), secrets.stop()]);
  };
  return { appId: bot.keystore.appId, sandbox, stop };
};

/**
 * The environment is read at import (cold start): import the handlers only now, once. Two handlers in one process
 * share the metrics singleton and each sets its default dimensions: drop that one warning, which Lambda never sees.
 */
const importHandlers = async (): Promise<{ http: Http; queue: Queue }> => {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!/^Dimension "\w+" has already been added/.test(String(args[0]))) warn(...args);
  };
  try {
    const http = (await import('../../functions/create-group/http')).handler as unknown as Http;
    const queue = (await import('../../functions/create-group/queue')).handler as unknown as Queue;
    return { http, queue };
  } finally {
    console.warn = warn;
  }
};

/** Transient faults only, about `faultRate` of all attempts: HTML 500s, Blaze errors, connection resets, rate limits. */
const injectFaults = (sandbox: MixinSandbox, o: HandlerLoadOptions): void => {
  sandbox.latencyMs = o.latencyMs;
  const share = (weight: number) => o.faultRate * weight;
  sandbox.inject({ kind: 'html-500', probability: share(0.4) });
  sandbox.inject({ kind: 'error', code: 7000, probability: share(0.3) });
  sandbox.inject({ kind: 'reset', probability: share(0.2) });
  sandbox.inject({ kind: 'error', code: 429, probability: share(0.1) });
};

/** A logical group creation with 1 to 3 random participants, and the group its key addresses for this bot. */
const makeLogical = (appId: string, prefix: string, i: number, key: string): Logical => {
  const name = `${prefix} load ${i}`;
  const users = Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => randomUUID());
  return {
    key,
    body: JSON.stringify({ name, participants: users.map((user_id) => ({ user_id })) }),
    expected: groupIdForKey(appId, key),
    done: false,
    tries: 0,
  };
};

/** Sends every request once (the first pass, timed), then redelivers the failed ones, at most `maxRounds` rounds. */
const passes = async <T>(
  maxRounds: number,
  items: Logical[],
  stats: PhaseStats,
  toUnits: (failed: Logical[]) => T[],
  limit: number,
  send: (unit: T, firstPass: boolean) => Promise<void>,
) => {
  const started = performance.now();
  await pool(toUnits(items), limit, (unit) => send(unit, true));
  stats.firstPassMs = performance.now() - started;
  while (items.some((r) => !r.done) && stats.rounds < maxRounds) {
    const failed = items.filter((r) => !r.done);
    stats.rounds++;
    stats.redelivered += failed.length;
    await pool(toUnits(failed), limit, (unit) => send(unit, false));
  }
  stats.stillFailing = items.filter((r) => !r.done).length;
};

/** Step 2: HTTP, each logical request with its own Idempotency-Key, `concurrency` in flight. */
const httpPhase = async (
  http: Http,
  appId: string,
  o: HandlerLoadOptions,
): Promise<{ stats: PhaseStats; requests: Logical[] }> => {
  const stats = newStats('http create-group', 'request', o.requests);
  const requests = Array.from({ length: o.requests }, (_, i) =>
    makeLogical(appId, 'http', i, `load-http-${i}-${randomUUID()}`),
  );
  const send = async (r: Logical, firstPass: boolean) => {
    r.tries++;
    const started = performance.now();
    let status = 0;
    let body: { data?: { conversation_id?: string }; error?: { code?: string } } = {};
    try {
      const res = await http(
        httpEvent(r.body, { headers: { 'idempotency-key': r.key } }),
        lambdaContext(LAMBDA_TIMEOUT_MS),
      );
      status = res.statusCode ?? 0;
      body = JSON.parse(String(res.body));
    } catch (error) {
      body = { error: { code: `threw ${(error as Error).name}` } };
    }
    if (firstPass) stats.latencies.push(performance.now() - started);
    if (status === 201) {
      r.done = true;
      if (firstPass) stats.success++;
      if (body.data?.conversation_id !== r.expected) stats.mismatched++;
    } else if (RETRYABLE_HTTP.has(status)) {
      if (firstPass) stats.retryable++;
    } else {
      stats.other++;
      if (stats.otherSamples.length < 5) stats.otherSamples.push(`HTTP ${status} ${body.error?.code ?? ''}`);
    }
  };
  await passes(o.maxRounds, requests, stats, (items) => items, o.concurrency, send);
  return { stats, requests };
};

/** Step 3: queue, batches of `batchSize` records whose messageId (the key) stays the same across redeliveries. */
const queuePhase = async (
  queue: Queue,
  appId: string,
  o: HandlerLoadOptions,
): Promise<{ stats: PhaseStats; records: Logical[]; batchLimit: number }> => {
  const stats = newStats('queue create-group', 'record', o.requests);
  const records = Array.from({ length: o.requests }, (_, i) => makeLogical(appId, 'queue', i, randomUUID()));
  const byId = new Map(records.map((r) => [r.key, r]));
  const send = async (batch: Logical[], firstPass: boolean) => {
    const receiveCount = Math.max(...batch.map((r) => ++r.tries));
    const event = sqsEvent(
      batch.map((r) => r.body),
      batch.map((r) => r.key),
      receiveCount,
    ) as unknown as SQSEvent;
    const t0 = performance.now();
    let failures: Set<string>;
    try {
      const res = await queue(event, lambdaContext(LAMBDA_TIMEOUT_MS));
      failures = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
      for (const id of failures) {
        if (!byId.has(id) || !batch.some((r) => r.key === id)) {
          stats.other++;
          if (stats.otherSamples.length < 5) stats.otherSamples.push(`unknown itemIdentifier ${id}`);
        }
      }
    } catch (error) {
      // The whole batch failed: SQS redelivers every record of it. Retryable, but worth seeing.
      failures = new Set(batch.map((r) => r.key));
      if (stats.otherSamples.length < 5)
        stats.otherSamples.push(`batch threw ${(error as Error).name} (all records redelivered)`);
    }
    if (firstPass) stats.latencies.push(performance.now() - t0);
    for (const r of batch) {
      if (failures.has(r.key)) {
        if (firstPass) stats.retryable++;
      } else {
        r.done = true;
        if (firstPass) stats.success++;
      }
    }
  };
  const batchLimit = Math.max(1, Math.floor(o.concurrency / QUEUE_CONCURRENCY));
  await passes(o.maxRounds, records, stats, (items) => chunks(items, o.batchSize), batchLimit, send);
  return { stats, records, batchLimit };
};

/** Step 4: what the sandbox saw: every expected group exists, exactly once, and nothing else was created. */
const checkGroups = (sandbox: MixinSandbox, all: Logical[], httpStats: PhaseStats, queueStats: PhaseStats) => {
  const expected = new Set(all.map((r) => r.expected));
  const missing = all.filter((r) => !sandbox.conversations.has(r.expected)).length;
  const createdIds = sandbox.requests
    .filter((l) => l.outcome === 'created')
    .map((l) => (JSON.parse(l.body) as { conversation_id: string }).conversation_id);
  const perId = new Map<string, number>();
  for (const id of createdIds) perId.set(id, (perId.get(id) ?? 0) + 1);
  const duplicates =
    [...perId.values()].filter((n) => n > 1).length + createdIds.filter((id) => !expected.has(id)).length;
  const posts = sandbox.postCount;
  const faults = sandbox.requests.filter((l) => l.outcome.startsWith('fault')).length;
  return {
    'Mixin POSTs': posts,
    'faults injected': faults,
    'fault rate': `${((faults / posts) * 100).toFixed(1)}%`,
    'groups created': sandbox.created,
    'logical requests': all.length,
    'expected groups missing': missing,
    duplicates,
    'HTTP 201 with another conversation_id': httpStats.mismatched,
    'non-retryable failures': httpStats.other + queueStats.other,
    lost: httpStats.stillFailing + queueStats.stillFailing,
  };
};

const phaseRow = (s: PhaseStats) => ({
  phase: s.name,
  logical: s.logical,
  'first pass s': +(s.firstPassMs / 1000).toFixed(2),
  throughput: `${Math.round((s.logical / s.firstPassMs) * 1000)} ${s.unit}s/s`,
  'p50 ms': +percentile(s.latencies, 50).toFixed(1),
  'p99 ms': +percentile(s.latencies, 99).toFixed(1),
  success: s.success,
  retryable: s.retryable,
  other: s.other,
  'redelivery rounds': s.rounds,
  redelivered: s.redelivered,
  lost: s.stillFailing,
});

/** Step 5: the report, on stdout. */
const printReport = (
  o: HandlerLoadOptions,
  phases: PhaseStats[],
  summary: ReturnType<typeof checkGroups>,
  batchLimit: number,
): void => {
  console.log(
    `\nload: ${o.requests} logical group creations per phase; concurrency ${o.concurrency}; batches of ${o.batchSize} (${batchLimit} in flight, QUEUE_CONCURRENCY=${QUEUE_CONCURRENCY});`,
  );
  console.log(
    `      sandbox latency ${o.latencyMs} ms; transient faults on ~${Math.round(o.faultRate * 100)}% of attempts; MIXIN_MAX_ATTEMPTS=${process.env.MIXIN_MAX_ATTEMPTS}; Lambda time ${LAMBDA_TIMEOUT_MS / 1000} s per invocation`,
  );
  console.log('      (latency is per HTTP request, per queue batch; throughput is over the first pass)');
  console.table(phases.map(phaseRow));
  console.table(summary);
  for (const s of phases) if (s.otherSamples.length) console.log(`${s.name}: ${s.otherSamples.join('; ')}`);
};

/** Step 6: the checks that fail the run, each with what it saw. */
const violationsOf = (
  maxRounds: number,
  summary: ReturnType<typeof checkGroups>,
  created: number,
  expectedGroups: number,
): string[] => {
  const violations: string[] = [];
  if (summary['non-retryable failures'] > 0)
    violations.push(`${summary['non-retryable failures']} non-retryable failure(s)`);
  if (summary.lost > 0)
    violations.push(`${summary.lost} logical request(s) still failing after ${maxRounds} redelivery rounds`);
  if (created !== expectedGroups) violations.push(`sandbox.created is ${created}, expected ${expectedGroups}`);
  if (summary['expected groups missing'] > 0)
    violations.push(`${summary['expected groups missing']} expected group(s) missing`);
  if (summary.duplicates > 0) violations.push(`${summary.duplicates} duplicate group(s)`);
  if (summary['HTTP 201 with another conversation_id'] > 0)
    violations.push(`${summary['HTTP 201 with another conversation_id']} HTTP 201(s) named another conversation_id`);
  return violations;
};

/** What a handler load found: the figures, and every check that failed (none: the run passed). */
export interface HandlerLoadOutcome {
  summary: ReturnType<typeof checkGroups>;
  phases: PhaseStats[];
  violations: string[];
}

/** Runs the handler load once (the handlers are imported now, with the peers' environment) and prints its report. */
export const runHandlerLoad = async (o: HandlerLoadOptions): Promise<HandlerLoadOutcome> => {
  const peers = await startPeers();
  try {
    const { http, queue } = await importHandlers();
    injectFaults(peers.sandbox, o);
    const httpRun = await httpPhase(http, peers.appId, o);
    const queueRun = await queuePhase(queue, peers.appId, o);
    const all = [...httpRun.requests, ...queueRun.records];
    const summary = checkGroups(peers.sandbox, all, httpRun.stats, queueRun.stats);
    printReport(o, [httpRun.stats, queueRun.stats], summary, queueRun.batchLimit);
    const violations = violationsOf(o.maxRounds, summary, peers.sandbox.created, all.length);
    console.log(
      violations.length
        ? `\nFAIL: ${violations.join('; ')}`
        : '\nOK: 0 lost, 0 non-retryable failures, exactly one group per logical request',
    );
    return { summary, phases: [httpRun.stats, queueRun.stats], violations };
  } finally {
    await peers.stop();
  }
};
