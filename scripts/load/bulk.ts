/**
 * The bulk scenario of `npm run load -- bulk`: N contact (or group) records through the local SQS as `npm start`
 * runs it (serverless-offline, the template's maximumConcurrency batches at once per queue, the local visibility and
 * function timeouts), against a Mixin sandbox limited to R calls a second. It measures the drain from the first
 * message sent to the last conversation created, and what it cost: Mixin calls per record, the share answered 429,
 * records in the DLQ, lost (neither created, nor in the DLQ, nor still queued), duplicated (two groups for one key).
 *
 * The sandbox runs in this process (so its counters are read directly) and `npm start` talks to it through
 * MIXIN_API_URL with a throwaway keystore file (MIXIN_KEYSTORE_FILE, mode 0600, deleted afterwards).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Message, ReceiveMessageCommand, DeleteMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ROOT } from '../../infra/local/command';
import { makeBot } from '../../infra/local/keys';
import { localQueueSettings } from '../../infra/local/queue-settings';
import { MixinSandbox } from '../../infra/local/mixin-sandbox';
import { localSqsClient, SERVICE } from '../../infra/local/sqs';
import { queueTriggers, templateQueues } from '../../infra/local/template';
import { uniqueConversationId } from '../../lib/conversation-id';
import { type Kind, readLines } from '../enqueue/lines';
import { sendEntries } from '../enqueue/send';
import { depthOf, watchedQueue } from '../enqueue/watch';

export interface BulkOptions {
  kind: Kind;
  /** Records. */
  n: number;
  /** The sandbox's rate limit, calls per second. */
  rate: number;
  /** Stop waiting after this many seconds from the first message sent. */
  capSeconds: number;
  /** Sandbox answer latency. */
  latencyMs: number;
  /** LOCAL_QUEUE_MAXIMUM_CONCURRENCY (undefined: the template's). */
  maximumConcurrency?: number;
  /**
   * `deployed`: the queue function's timeout and the queue's visibility timeout as the template deploys them (30 s,
   * 190 s), so that what an invocation can hold within its time is what it holds on AWS; `local`: npm start's (its
   * defaults, 5 s and 30 s, or LOCAL_QUEUE_FUNCTION_TIMEOUT / LOCAL_QUEUE_VISIBILITY_TIMEOUT).
   */
  timeouts: 'deployed' | 'local';
  /** Told about progress (one line at a time). */
  log: (line: string) => void;
}

export interface BulkResult {
  kind: Kind;
  /** The local queue function timeout and visibility timeout the run used, in seconds. */
  functionTimeoutSeconds: number;
  visibilityTimeoutSeconds: number;
  n: number;
  rate: number;
  capSeconds: number;
  /** N / R: the fastest possible drain. */
  idealSeconds: number;
  /** First message sent to last conversation created; null when not every record was created by the cap. */
  drainSeconds: number | null;
  /** drainSeconds / idealSeconds; null when not every record was created. */
  drainRatio: number | null;
  /** When the run stopped watching: every record created, or the queue empty (the rest in the DLQ), or the cap. */
  endedSeconds: number;
  /** The cap, when the run stopped there. */
  cappedAt: number | null;
  /** The last conversation created, from the first message sent. */
  lastCreatedSeconds: number;
  created: number;
  mixinCalls: number;
  callsPerRecord: number;
  answered429: number;
  share429: number;
  deadLettered: number;
  deadLetteredByReason: Record<string, number>;
  stillQueued: number;
  lost: number;
  duplicated: number;
  sendSeconds: number;
  maxMixinInFlight: number;
}

/** A port nobody listens on right now (the kernel's pick). */
const freePort = (): Promise<number> =>
  new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** After the last creation, how long the batches under way get to finish before what is left counts as still queued. */
const SETTLE_MS = 15_000;

/** `npm start` (infra/local/start.ts, as `npm start` runs it) against our sandbox; resolves once it is ready. */
const startLocal = async (
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<{ child: ChildProcess; stop: () => Promise<void> }> => {
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
  const child = spawn(tsx, ['infra/local/start.ts'], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (c: Buffer) => {
    if (output.length < 200_000) output += c.toString();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid!, 'SIGTERM');
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, 15_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 180_000;
  while (!/^ready: /m.test(output)) {
    if (child.exitCode !== null) throw new Error(`npm start exited before it was ready:\n${output.slice(-3000)}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`npm start was not ready within 180 s:\n${output.slice(-3000)}`);
    }
    await sleep(200);
  }
  log(
    output
      .split('\n')
      .filter((l) => /^ {2}(Mixin|SQS) |-> create/.test(l))
      .join('\n'),
  );
  return { child, stop };
};

/** LOCAL_QUEUE_FUNCTION_TIMEOUT and LOCAL_QUEUE_VISIBILITY_TIMEOUT as the template deploys the queue of `kind`. */
const deployedTimeouts = (kind: Kind): NodeJS.ProcessEnv => {
  const logicalId = kind === 'contacts' ? 'CreateContactQueue' : 'CreateGroupQueue';
  const trigger = queueTriggers('dev').find((t) => t.queueLogicalId === logicalId)!;
  const queue = templateQueues(SERVICE, 'dev').find((q) => q.logicalId === logicalId)!;
  return {
    LOCAL_QUEUE_FUNCTION_TIMEOUT: String(trigger.timeoutSeconds),
    LOCAL_QUEUE_VISIBILITY_TIMEOUT: String(queue.visibilityTimeoutSeconds),
  };
};

/** Takes every message of a queue (used on the DLQ at the end, when nothing else reads it). */
const takeAll = async (sqs: SQSClient, url: string): Promise<Message[]> => {
  const taken: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return taken;
    taken.push(...Messages);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
};

/** The input lines: one user ID per contact, or one keyed group (its key is its name) per line. */
const inputLines = (kind: Kind, n: number): { text: string; keys: string[] } => {
  const users = Array.from({ length: n }, () => randomUUID());
  if (kind === 'contacts') return { text: users.join('\n'), keys: users };
  const run = randomUUID().slice(0, 8);
  const keys = users.map((_, i) => `bulk-${run}-${i}`);
  return {
    text: users
      .map((user_id, i) => JSON.stringify({ name: keys[i], participants: [{ user_id }], idempotency_key: keys[i] }))
      .join('\n'),
    keys,
  };
};

/** Runs one bulk scenario end to end. */
export const runBulk = async (o: BulkOptions): Promise<BulkResult> => {
  const bot = makeBot();
  const sandbox = await new MixinSandbox({
    apps: [bot.app],
    rateLimitPerSecond: o.rate,
    latencyMs: o.latencyMs,
  }).start();
  const dir = mkdtempSync(join(tmpdir(), 'mixin-conversations-bulk-'));
  const keystoreFile = join(dir, 'bulk.keystore.json');
  writeFileSync(keystoreFile, JSON.stringify(bot.json), { mode: 0o600 });
  const ports = {
    PORT: await freePort(),
    LAMBDA_PORT: await freePort(),
    SECRETS_PORT: await freePort(),
    SQS_PORT: await freePort(),
    SANDBOX_PORT: await freePort(),
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    MIXIN_API_URL: sandbox.url,
    MIXIN_KEYSTORE_FILE: keystoreFile,
    // Fewer log lines through serverless-offline's pipes: the machine's time goes to the drain, not to logging.
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    ...(o.maximumConcurrency !== undefined && { LOCAL_QUEUE_MAXIMUM_CONCURRENCY: String(o.maximumConcurrency) }),
    ...(o.timeouts === 'deployed' && deployedTimeouts(o.kind)),
  };
  for (const name of [
    'MIXIN_KEYSTORE_SECRET_ID',
    'AWS_PROFILE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'MIXIN_SANDBOX_RATE_LIMIT',
    'MIXIN_SANDBOX_LATENCY_MS',
  ])
    delete env[name];
  const timing = localQueueSettings(env);
  let local: Awaited<ReturnType<typeof startLocal>> | undefined;
  const sqs = localSqsClient(`http://127.0.0.1:${ports.SQS_PORT}`, 'us-east-1');
  try {
    o.log(
      `bulk: ${o.n} ${o.kind} at ${o.rate}/s (ideal ${(o.n / o.rate).toFixed(0)} s, cap ${o.capSeconds} s): starting npm start`,
    );
    local = await startLocal(env, o.log);
    const queueUrl = `http://127.0.0.1:${ports.SQS_PORT}/000000000000/${SERVICE}-local-${o.kind === 'contacts' ? 'create-contact' : 'create-group'}`;
    const queue = await watchedQueue(sqs, queueUrl);
    const { text, keys } = inputLines(o.kind, o.n);
    const { entries, refused } = readLines(o.kind, text);
    if (refused.length) throw new Error(`bulk: ${refused.length} generated line(s) refused: ${refused[0]!.reason}`);
    sandbox.reset();
    sandbox.setRateLimit(o.rate);
    sandbox.setLatency(o.latencyMs);
    const ids = new Set(
      o.kind === 'contacts' ? keys.map((user) => uniqueConversationId(bot.keystore.appId, user)) : [],
    );
    const names = new Set(o.kind === 'groups' ? keys : []);
    const ours = () =>
      [...sandbox.conversations.values()].filter((c) =>
        o.kind === 'contacts' ? ids.has(String(c.data.conversation_id)) : names.has(String(c.data.name)),
      );
    const t0 = Date.now();
    const sent = await sendEntries(sqs, queue.url, entries, 8);
    const sendSeconds = (Date.now() - t0) / 1000;
    if (sent.failed.length)
      throw new Error(`bulk: ${sent.failed.length} message(s) not sent: ${sent.failed[0]!.reason}`);
    let created = 0;
    let lastCreatedAt = t0;
    let cappedAt: number | null = null;
    let lastLog = 0;
    for (;;) {
      const now = Date.now();
      const count = ours().length;
      if (count > created) {
        created = count;
        lastCreatedAt = now;
      }
      if (created >= o.n) break;
      const depth = await depthOf(sqs, queue);
      const queued = depth.visible + depth.delayed + depth.inFlight;
      if (queued === 0 && created + depth.dlq >= o.n) break;
      if (now - t0 > o.capSeconds * 1000) {
        cappedAt = (now - t0) / 1000;
        break;
      }
      if (now - lastLog > 10_000) {
        lastLog = now;
        o.log(
          `  ${Math.round((now - t0) / 1000)} s: created ${created}/${o.n}, queued ${queued} (delayed ${depth.delayed}, in flight ${depth.inFlight}), DLQ ${depth.dlq}, Mixin calls ${sandbox.calls}, 429 ${sandbox.rateLimited}`,
        );
      }
      await sleep(100);
    }
    const endedSeconds = (Date.now() - t0) / 1000;
    // Every record created: the batches still under way end (and delete their messages) within a function timeout.
    const settleBy = Date.now() + SETTLE_MS;
    let end = await depthOf(sqs, queue);
    while (created >= o.n && end.visible + end.delayed + end.inFlight > 0 && Date.now() < settleBy) {
      await sleep(200);
      end = await depthOf(sqs, queue);
    }
    // Counted now, with the mappings still running: a record in flight at the cap is "still queued", not lost.
    const mixinCalls = sandbox.calls;
    const answered429 = sandbox.rateLimited;
    const maxMixinInFlight = sandbox.maxInFlight;
    const letters = queue.dlqUrl ? await takeAll(sqs, queue.dlqUrl) : [];
    await local.stop();
    local = undefined;
    const deadLetteredByReason: Record<string, number> = {};
    for (const m of letters) {
      const reason = m.MessageAttributes?.ErrorName?.StringValue ?? 'none (moved by SQS after maxReceiveCount)';
      deadLetteredByReason[reason] = (deadLetteredByReason[reason] ?? 0) + 1;
    }
    const createdKeys = new Set(
      ours().map((c) => (o.kind === 'contacts' ? String(c.data.conversation_id) : String(c.data.name))),
    );
    const letterKeys = new Set(
      letters.map((m) => {
        const body = JSON.parse(m.Body ?? '{}') as { name?: string; participants?: { user_id?: string }[] };
        return o.kind === 'contacts'
          ? uniqueConversationId(bot.keystore.appId, body.participants?.[0]?.user_id ?? randomUUID())
          : String(body.name);
      }),
    );
    const allKeys = o.kind === 'contacts' ? [...ids] : keys;
    const stillQueued = end.visible + end.delayed + end.inFlight;
    const accounted = allKeys.filter((k) => createdKeys.has(k) || letterKeys.has(k)).length;
    const perName = new Map<string, number>();
    for (const c of ours()) perName.set(String(c.data.name), (perName.get(String(c.data.name)) ?? 0) + 1);
    const idealSeconds = o.n / o.rate;
    const drainSeconds = created >= o.n ? (lastCreatedAt - t0) / 1000 : null;
    return {
      kind: o.kind,
      functionTimeoutSeconds: timing.functionTimeoutSeconds,
      visibilityTimeoutSeconds: timing.visibilityTimeoutSeconds,
      n: o.n,
      rate: o.rate,
      capSeconds: o.capSeconds,
      idealSeconds,
      drainSeconds,
      drainRatio: drainSeconds === null ? null : drainSeconds / idealSeconds,
      endedSeconds,
      cappedAt,
      lastCreatedSeconds: (lastCreatedAt - t0) / 1000,
      created: createdKeys.size,
      mixinCalls,
      callsPerRecord: mixinCalls / o.n,
      answered429,
      share429: mixinCalls === 0 ? 0 : answered429 / mixinCalls,
      deadLettered: letters.length,
      deadLetteredByReason,
      stillQueued,
      lost: Math.max(0, o.n - accounted - stillQueued),
      duplicated: o.kind === 'groups' ? [...perName.values()].filter((v) => v > 1).length : 0,
      sendSeconds,
      maxMixinInFlight,
    };
  } finally {
    await local?.stop();
    sqs.destroy();
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};
