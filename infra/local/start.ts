/**
 * `npm start`: the whole service on 127.0.0.1, with no AWS account and no internet.
 *
 *   1. a throwaway bot keystore (Ed25519, dashboard JSON format), generated in memory, never written to disk;
 *   2. the local Mixin sandbox (infra/local/mixin-sandbox.ts) that knows that bot;
 *   3. a local Secrets Manager (infra/local/secrets-manager.ts) holding the keystore as the secret;
 *   4. a local SQS (infra/local/sqs.ts) with the template's queues and dead-letter queues for the stage `local`;
 *   5. `serverless offline start` (osls + serverless-esbuild + serverless-offline) serving the HTTP API and the
 *      Lambda invoke API, pointed at the three through MIXIN_API_URL, AWS_ENDPOINT_URL_SECRETS_MANAGER,
 *      AWS_ENDPOINT_URL_SQS and DEAD_LETTER_QUEUE_URL;
 *   6. one event source mapping per queue function (infra/local/event-source-mapping.ts), invoking it through
 *      the Lambda invoke API as Lambda would.
 *
 * Overrides (environment):
 *   PORT / LAMBDA_PORT / SANDBOX_PORT / SECRETS_PORT / SQS_PORT
 *                              ports (3000 / 3002 / 4100 / 4101 / 4102), all on 127.0.0.1
 *   LOCAL_QUEUE_VISIBILITY_TIMEOUT   seconds a received message stays hidden locally (30; the template's is 190)
 *   LOCAL_QUEUE_FUNCTION_TIMEOUT     the queue functions' timeout locally (5; the template's is 30). The visibility
 *                              timeout must stay at least 6 times this, as deployed: start-up refuses less.
 *   LOCAL_QUEUE_MAXIMUM_CONCURRENCY  batches in flight per queue, each in its own function instance (the template's
 *                              maximumConcurrency, queueMaximumConcurrency: 5)
 *   MIXIN_SANDBOX_RATE_LIMIT   the sandbox's per-bot rate limit, calls per second (unset: none); beyond it Mixin's
 *                              answer to a rate-limited call (HTTP 202, code 429)
 *   MIXIN_SANDBOX_LATENCY_MS   added to every sandbox answer (0)
 *   MIXIN_API_URL              talk to that Mixin instead of starting the sandbox
 *   MIXIN_KEYSTORE_FILE        a keystore JSON file to use instead of a generated one (put into the local secret)
 *   MIXIN_KEYSTORE_SECRET_ID   with real AWS credentials in the environment: read the keystore from that secret
 *                              in real Secrets Manager (no local one). Without credentials: the local secret's name.
 *   AWS_REGION                 region the functions believe they run in (us-east-1)
 *
 * Ctrl-C or SIGTERM stops everything.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { parseKeystore } from '../../lib/mixin/keystore-parser';
import { EventSourceMapping, invokeThroughLambdaApi } from './event-source-mapping';
import { loadConfig } from '../../lib/config';
import { makeBot } from './keys';
import { MixinSandbox, type SandboxApp } from './mixin-sandbox';
import { decimal, wholeNumber } from './env-values';
import { LocalSecretsManager } from './secrets-manager';
import { type LocalQueueSettings, localQueueSettings } from './queue-settings';
import { LocalSqs, SERVICE } from './sqs';
import { parameterOfVariable, queueTriggers } from './template';

const HOST = '127.0.0.1';
const ROOT = resolve(__dirname, '../..');
const STAGE = 'local';
const DEFAULT_SECRET_NAME = `${SERVICE}/${STAGE}/keystore`;
const READY_TIMEOUT_MS = 120_000;

const log = (line = '') => process.stdout.write(`${line}\n`);
const warn = (line: string) => process.stderr.write(`[start] ${line}\n`);

const portFrom = (env: NodeJS.ProcessEnv, name: string, fallback: number): number =>
  wholeNumber(env, name, 1, 65535) ?? fallback;

/**
 * True when real credentials are in the environment. The bundles read credentials from the environment only
 * (lib/bundle/aws-credentials-from-env.mjs, as in Lambda), so a profile must be exported first:
 * `eval "$(aws configure export-credentials --profile dev --format env)"`.
 */
const hasAwsCredentials = (env: NodeJS.ProcessEnv): boolean =>
  Boolean(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);

/** What the environment asks for. */
interface Settings {
  env: NodeJS.ProcessEnv;
  ports: { http: number; lambda: number; sandbox: number; secrets: number; sqs: number };
  region: string;
  /** The keystore lives in real Secrets Manager (MIXIN_KEYSTORE_SECRET_ID with real credentials). */
  realSecrets: boolean;
  secretId: string;
  queues: LocalQueueSettings;
  sandbox: { rateLimitPerSecond: number; latencyMs: number };
  /** `--param` pairs for the function settings set in this shell. */
  functionParams: string[];
}

/** Parameters `npm start` sets itself, from its own choices (the Mixin it talks to, the secret it reads). */
const OWN_PARAMS = new Set(['mixinApiUrl', 'keystoreSecret']);

/**
 * The function settings of this shell, checked as a cold start checks them (so a bad value stops `npm start` with
 * the function's own message instead of failing every request), as `--param` pairs: serverless.yml sets the
 * functions' environment from its parameters, not from this shell.
 */
const functionParamsFrom = (env: NodeJS.ProcessEnv): string[] => {
  loadConfig({ ...env, MIXIN_KEYSTORE_SECRET_ID: env.MIXIN_KEYSTORE_SECRET_ID || DEFAULT_SECRET_NAME }); // the secret is ours to set (OWN_PARAMS)
  return Object.entries(parameterOfVariable())
    .filter(([name, param]) => env[name] && !OWN_PARAMS.has(param))
    .flatMap(([name, param]) => ['--param', `${param}=${env[name]}`]);
};

/** MIXIN_SANDBOX_RATE_LIMIT (calls per second per bot, unset: no limit) and MIXIN_SANDBOX_LATENCY_MS (default 0). */
const sandboxSettings = (env: NodeJS.ProcessEnv): Settings['sandbox'] => {
  return {
    rateLimitPerSecond: decimal(env, 'MIXIN_SANDBOX_RATE_LIMIT', true, 100_000),
    latencyMs: decimal(env, 'MIXIN_SANDBOX_LATENCY_MS', false, 60_000), // a timer's longest wait is 2^31 - 1 ms
  };
};

const readSettings = (env: NodeJS.ProcessEnv): Settings => ({
  env,
  ports: {
    http: portFrom(env, 'PORT', 3000),
    lambda: portFrom(env, 'LAMBDA_PORT', 3002),
    sandbox: portFrom(env, 'SANDBOX_PORT', 4100),
    secrets: portFrom(env, 'SECRETS_PORT', 4101),
    sqs: portFrom(env, 'SQS_PORT', 4102),
  },
  region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
  realSecrets: Boolean(env.MIXIN_KEYSTORE_SECRET_ID) && hasAwsCredentials(env),
  secretId: env.MIXIN_KEYSTORE_SECRET_ID || DEFAULT_SECRET_NAME,
  queues: localQueueSettings(env),
  sandbox: sandboxSettings(env),
  functionParams: functionParamsFrom(env),
});

/** Everything started so far, for the summary and for the shutdown. */
interface Running {
  keystoreJson?: string;
  keystoreSource: string;
  sandbox?: MixinSandbox;
  mixinUrl: string;
  mixinNote: string;
  secrets?: LocalSecretsManager;
  sqs?: LocalSqs;
  offline?: ChildProcess;
  mappings: EventSourceMapping[];
  mappingClient?: SQSClient;
}

/** A fresh bot session for local use only: the keystore JSON as the Mixin dashboard exports it. */
const generateKeystore = (): string => JSON.stringify(makeBot().json);

/** The sandbox registration of a keystore: who the bot is and the public key its tokens verify against. */
const sandboxAppOf = (keystoreJson: string): SandboxApp => {
  const keystore = parseKeystore(keystoreJson); // its own JSON errors never quote the text, which holds the key
  return { appId: keystore.appId, sessionId: keystore.sessionId, publicKeyHex: keystore.publicKeyHex };
};

/** Reads the keystore from real Secrets Manager (only to teach the local sandbox the bot's public key). */
const readRealSecret = async (secretId: string, region: string): Promise<string> => {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({ region });
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!out.SecretString) throw new Error(`secret ${secretId} has no SecretString`);
    return out.SecretString;
  } finally {
    client.destroy();
  }
};

/** Step 1. The keystore: a file, a real secret (then read later, by whoever needs it), or a throwaway one. */
const chooseKeystore = ({
  env,
  realSecrets,
  secretId,
  region,
}: Settings): Pick<Running, 'keystoreJson' | 'keystoreSource'> => {
  if (env.MIXIN_KEYSTORE_FILE) {
    const keystoreJson = readFileSync(resolve(env.MIXIN_KEYSTORE_FILE), 'utf8');
    sandboxAppOf(keystoreJson); // fails loudly (naming the field, never the key) if it is not a keystore
    return { keystoreJson, keystoreSource: `from ${env.MIXIN_KEYSTORE_FILE}` };
  }
  if (realSecrets) return { keystoreSource: `AWS Secrets Manager secret ${secretId} (${region})` };
  return { keystoreJson: generateKeystore(), keystoreSource: 'generated for this run (throwaway, in memory only)' };
};

/** Step 2. Mixin: the sandbox, unless MIXIN_API_URL points elsewhere. */
const startMixin = async (settings: Settings, running: Running): Promise<void> => {
  const { env, realSecrets, secretId, region, ports } = settings;
  if (env.MIXIN_API_URL) {
    running.mixinUrl = env.MIXIN_API_URL;
    if (!env.MIXIN_KEYSTORE_FILE && !realSecrets)
      warn(
        `MIXIN_API_URL=${env.MIXIN_API_URL} but no MIXIN_KEYSTORE_FILE: the generated keystore is unknown to that Mixin, expect 401s`,
      );
    return;
  }
  const app = sandboxAppOf(running.keystoreJson ?? (await readRealSecret(secretId, region)));
  const { rateLimitPerSecond, latencyMs } = settings.sandbox;
  running.sandbox = await new MixinSandbox({
    port: ports.sandbox,
    host: HOST,
    apps: [app],
    rateLimitPerSecond,
    latencyMs,
  }).start();
  running.mixinUrl = running.sandbox.url;
  const limits = [
    rateLimitPerSecond ? `rate limit ${rateLimitPerSecond}/s` : 'no rate limit',
    ...(latencyMs ? [`latency ${latencyMs} ms`] : []),
  ];
  running.mixinNote = `local sandbox, bot ${app.appId}, ${limits.join(', ')}`;
};

/** Step 3. Secrets Manager: local (holding the keystore), unless the keystore lives in a real secret. */
const startSecrets = async ({ region, secretId, ports }: Settings, running: Running): Promise<void> => {
  if (running.keystoreJson === undefined) return;
  running.secrets = await new LocalSecretsManager(region).start(ports.secrets);
  running.secrets.put(secretId, running.keystoreJson);
};

/** Step 4. The template's queues in a local SQS. */
const startSqs = async ({ region, ports, queues }: Settings, running: Running): Promise<void> => {
  running.sqs = await LocalSqs.start({
    port: ports.sqs,
    region,
    stage: STAGE,
    visibilityTimeoutSeconds: queues.visibilityTimeoutSeconds,
  });
};

/** The functions' environment: ours plus the local endpoints (serverless-offline passes every AWS_* variable on). */
const offlineEnv = ({ env, region }: Settings, running: Running): NodeJS.ProcessEnv => {
  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    AWS_REGION: region,
    npm_config_update_notifier: 'false',
    AWS_ENDPOINT_URL_SQS: running.sqs!.endpoint,
  };
  if (running.secrets) {
    childEnv.AWS_ENDPOINT_URL_SECRETS_MANAGER = running.secrets.url;
    // The SDK signs every request; the local endpoints do not check, but the SDK needs something to sign with.
    childEnv.AWS_ACCESS_KEY_ID = 'local';
    childEnv.AWS_SECRET_ACCESS_KEY = 'local';
    delete childEnv.AWS_SESSION_TOKEN;
    delete childEnv.AWS_PROFILE;
  }
  return childEnv;
};

/** Step 5. `serverless offline start`, its output forwarded with a prefix; resolves once it is ready. */
const startOffline = async (
  settings: Settings,
  running: Running,
  esbuildWorkFolder: string,
  onExit: (code: number) => void,
): Promise<void> => {
  const { ports, region, secretId } = settings;
  const localQueueUrls = Object.fromEntries(running.sqs!.queues.map((q) => [q.logicalId, q.url]));
  const serverless = require.resolve('osls/bin/serverless.js', { paths: [ROOT] });
  const args = [
    serverless,
    'offline',
    'start',
    '--stage',
    STAGE,
    '--region',
    region,
    '--host',
    HOST,
    '--httpPort',
    String(ports.http),
    '--lambdaPort',
    String(ports.lambda),
    '--noPrependStageInUrl',
    // serverless-offline cannot check SigV4 (AWS_IAM): it would misread the authorizer as JWT and refuse to start.
    '--noAuth',
    '--param',
    `keystoreSecret=${secretId}`,
    '--param',
    `mixinApiUrl=${running.mixinUrl}`,
    '--param',
    `esbuildWorkFolder=${esbuildWorkFolder}`,
    // DEAD_LETTER_QUEUE_URL: serverless-offline would hand the functions the template's Ref as it is (infra/queue-urls.cjs).
    '--param',
    `localQueueUrls=${JSON.stringify(localQueueUrls)}`,
    // Shorter than deployed, with the visibility timeout shortened as much (queue-settings.ts): fast redelivery.
    '--param',
    `queueFunctionTimeout=${settings.queues.functionTimeoutSeconds}`,
    ...settings.functionParams,
  ];
  const offline = spawn(process.execPath, args, {
    cwd: ROOT,
    env: offlineEnv(settings, running),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.offline = offline;
  let ready = false;
  let exited = false;
  const forward = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stream.write(text.replace(/^(?=.)/gm, '[offline] '));
    if (/Server ready/i.test(text)) ready = true;
  };
  offline.stdout!.on('data', forward(process.stdout));
  offline.stderr!.on('data', forward(process.stderr));
  offline.once('exit', (code, signal) => {
    exited = true;
    onExit(code ?? (signal ? 1 : 0));
  });

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!ready) {
    if (exited) throw new Error('serverless offline exited before it was ready');
    if (Date.now() > deadline)
      throw new Error(`serverless offline did not become ready within ${READY_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await waitForPort(ports.http, deadline);
};

/** Resolves once something accepts TCP connections on host:port. */
const waitForPort = async (port: number, deadline: number): Promise<void> => {
  for (;;) {
    const open = await new Promise<boolean>((done) => {
      const socket = connect({ host: HOST, port }, () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing is listening on ${HOST}:${port}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

/** The deployed name of a function of this stage, as serverless-offline's invoke API knows it. */
const functionName = (functionKey: string) => `${SERVICE}-${STAGE}-${functionKey}`;

/**
 * The queue triggers as this run resolves them: the template's, with the local function timeout, and the
 * maximumConcurrency of the stage or LOCAL_QUEUE_MAXIMUM_CONCURRENCY.
 */
const localQueueTriggers = ({ queues }: Settings) =>
  queueTriggers(STAGE, { queueFunctionTimeout: String(queues.functionTimeoutSeconds) }).map((t) => ({
    ...t,
    maximumConcurrency: queues.maximumConcurrency ?? t.maximumConcurrency,
  }));

/**
 * Step 6. One event source mapping per queue function of infra/functions.yml, through the Lambda invoke API, with
 * `maximumConcurrency` batches in flight: serverless-offline runs each concurrent invocation in a worker of its own,
 * as Lambda runs each in an instance of its own.
 */
const startEventSourceMappings = (settings: Settings, running: Running): void => {
  const { ports } = settings;
  const sqs = running.sqs!;
  const client = sqs.client();
  running.mappingClient = client;
  const lambdaApi = `http://${HOST}:${ports.lambda}`;
  running.mappings = localQueueTriggers(settings).map(
    ({ functionKey, queueLogicalId, batchSize, reportBatchItemFailures, maximumConcurrency }) => {
      const queue = sqs.queue(queueLogicalId);
      const onError = (error: unknown, what: string) =>
        warn(`${queueLogicalId} -> ${functionKey}: ${what} failed: ${(error as Error).message?.split('\n')[0]}`);
      return new EventSourceMapping({
        sqs: client,
        queueUrl: queue.url,
        queueArn: queue.arn,
        region: sqs.region,
        batchSize,
        reportBatchItemFailures,
        pollers: maximumConcurrency,
        invoke: invokeThroughLambdaApi(lambdaApi, functionName(functionKey)),
        onError,
      }).start();
    },
  );
};

const curlExamples = (apiUrl: string): string[] => {
  const member = randomUUID();
  const group = JSON.stringify({ name: 'Team room', participants: [{ user_id: member }] });
  const contact = JSON.stringify({ participants: [{ user_id: member }] });
  return [
    `  curl -sS -X POST ${apiUrl}/groups -H 'Content-Type: application/json' -H 'Idempotency-Key: ${randomUUID()}' -d '${group}'`,
    `  curl -sS -X POST ${apiUrl}/contacts -H 'Content-Type: application/json' -d '${contact}'`,
  ];
};

/** Ready-to-paste AWS CLI lines: a group message (with an IdempotencyKey) and a look into its dead-letter queue. */
const sqsExamples = (sqs: LocalSqs): string[] => {
  const cli = `AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=${sqs.region} aws sqs`;
  const body = JSON.stringify({ name: 'Team room', participants: [{ user_id: randomUUID() }] });
  const attributes = JSON.stringify({ IdempotencyKey: { DataType: 'String', StringValue: randomUUID() } });
  return [
    `  ${cli} send-message --endpoint-url ${sqs.endpoint} --queue-url ${sqs.queue('CreateGroupQueue').url} --message-body '${body}' --message-attributes '${attributes}'`,
    `  ${cli} receive-message --endpoint-url ${sqs.endpoint} --queue-url ${sqs.deadLetterQueueOf('CreateGroupQueue').url} --attribute-names All --message-attribute-names All`,
  ];
};

/** Where everything runs and what to try. */
const printSummary = (settings: Settings, running: Running): void => {
  const { ports, region, secretId, queues } = settings;
  const apiUrl = `http://${HOST}:${ports.http}`;
  const sqs = running.sqs!;
  const consumers = new Map(
    localQueueTriggers(settings).map((t) => [
      t.queueLogicalId,
      `${t.functionKey} (${t.maximumConcurrency} batches at once, timeout ${t.timeoutSeconds} s)`,
    ]),
  );
  log();
  log('mixin-conversations is running on this machine:');
  log(`  HTTP API          ${apiUrl}   (POST /groups, POST /contacts; IAM auth is not enforced locally)`);
  log(`  Mixin             ${running.mixinUrl}${running.mixinNote ? `   (${running.mixinNote})` : ''}`);
  log(
    `  Secrets Manager   ${running.secrets ? `${running.secrets.url}   (local)` : `AWS, ${region}`}, secret ${secretId}`,
  );
  log(`  Keystore          ${running.keystoreSource}`);
  log(
    `  Lambda invoke     http://${HOST}:${ports.lambda}   (queue and workflow functions, e.g. aws lambda invoke --endpoint-url ...)`,
  );
  log(
    `  SQS               ${sqs.endpoint}   (local; visibility timeout ${queues.visibilityTimeoutSeconds} s, redrive as in infra/queues.yml)`,
  );
  for (const queue of sqs.queues) {
    const consumer = consumers.get(queue.logicalId);
    log(
      `    ${queue.url}${consumer ? `   -> ${consumer}` : ''}${queue.redrive ? `, to the DLQ after ${queue.redrive.maxReceiveCount} receives` : ''}`,
    );
  }
  log();
  log('Try:');
  for (const line of curlExamples(apiUrl)) log(line);
  log(
    `  curl -sS -X POST http://${HOST}:${ports.lambda}/2015-03-31/functions/${functionName('createGroupWorkflow')}/invocations -d '${JSON.stringify({ name: 'Team room', participants: [{ user_id: randomUUID() }], idempotency_key: 'my-execution/CreateGroup' })}'`,
  );
  for (const line of sqsExamples(sqs)) log(line);
  // scripts/workflow.ts finds the functions on LAMBDA_PORT (3002 unless told).
  const workflowEnv = ports.lambda === 3002 ? '' : `LAMBDA_PORT=${ports.lambda} `;
  log(
    `  ${workflowEnv}npm run workflow -- '${JSON.stringify({ name: 'Team room', participants: [{ user_id: randomUUID() }] })}'`,
  );
  log();
  log(`ready: ${apiUrl}   (Ctrl-C to stop)`);
};

/** Stops what runs, newest first: the mappings (no invocation left), serverless-offline, then the local services. */
const shutDown = async (running: Running, esbuildWorkFolder: string): Promise<void> => {
  await Promise.all(running.mappings.map((m) => m.stop()));
  running.mappingClient?.destroy();
  const offline = running.offline;
  if (offline && offline.exitCode === null && offline.signalCode === null) {
    const exited = new Promise((r) => offline.once('exit', r));
    offline.kill('SIGTERM');
    const timer = setTimeout(() => offline.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  try {
    // An esbuild still finishing a watch rebuild can make the first attempt fail with ENOTEMPTY.
    rmSync(join(ROOT, esbuildWorkFolder), { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  } catch (error) {
    warn(`could not remove ${esbuildWorkFolder}: ${(error as Error).message}`);
  }
  await Promise.all([running.sandbox?.stop(), running.secrets?.stop(), running.sqs?.stop()]);
};

const main = async (): Promise<void> => {
  const running: Running = { keystoreSource: '', mixinUrl: '', mixinNote: '', mappings: [] };
  let settings: Settings | undefined;
  // Its own esbuild scratch folder: a concurrent `npm run package` must not delete our bundles. Per process, not
  // per port: a second `npm start` on the same ports (a common slip) fails, and its shutdown must not delete the
  // bundles of the one that is serving.
  const esbuildWorkFolder = `.esbuild/offline-${process.pid}`;
  let stopping = false;
  // Idempotent: a second signal (npm and tsx both relay SIGTERM) waits for the same shutdown.
  let stopped: Promise<never> | undefined;
  const stop = (code: number): Promise<never> =>
    (stopped ??= (async () => {
      stopping = true;
      await shutDown(running, esbuildWorkFolder);
      process.exit(code);
    })());
  // Whoever reads our output may go first (a killed `npm`): keep shutting down cleanly without a stdout.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    settings = readSettings(process.env);
    Object.assign(running, chooseKeystore(settings));
    await startMixin(settings, running);
    await startSecrets(settings, running);
    await startSqs(settings, running);
    await startOffline(settings, running, esbuildWorkFolder, (code) => {
      if (stopping) return;
      warn(`serverless offline exited (${code}); stopping`);
      void stop(code || 1);
    });
    if (stopping) return;
    startEventSourceMappings(settings, running);
    printSummary(settings, running);
  } catch (error) {
    if (stopping) return;
    warn(`failed: ${(error as Error).message}`);
    await stop(1);
  }
};

void main();
