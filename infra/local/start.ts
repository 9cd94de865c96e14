/**
 * `npm start`: the whole service on 127.0.0.1, with no AWS account and no internet.
 *
 *   1. a throwaway bot keystore (Ed25519, dashboard JSON format), generated in memory, never written to disk;
 *   2. the local Mixin sandbox (infra/local/mixin-sandbox.ts) that knows that bot;
 *   3. a local Secrets Manager (infra/local/secrets-manager.ts) holding the keystore as the secret;
 *   4. `serverless offline start` (osls + serverless-esbuild + serverless-offline) serving the HTTP API,
 *      pointed at the two through MIXIN_API_URL and AWS_ENDPOINT_URL_SECRETS_MANAGER.
 *
 * Overrides (environment):
 *   PORT / LAMBDA_PORT / SANDBOX_PORT / SECRETS_PORT   ports (3000 / 3002 / 4100 / 4101), all on 127.0.0.1
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
import { parseKeystore } from '../../lib/mixin/keystore';
import { makeBot } from './keys';
import { MixinSandbox, type SandboxApp } from './mixin-sandbox';
import { LocalSecretsManager } from './secrets-manager';

const HOST = '127.0.0.1';
const ROOT = resolve(__dirname, '../..');
const DEFAULT_SECRET_NAME = 'mixin-conversations/local/keystore';
const READY_TIMEOUT_MS = 120_000;

const log = (line = '') => process.stdout.write(`${line}\n`);
const warn = (line: string) => process.stderr.write(`[start] ${line}\n`);

const portFrom = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name} must be a TCP port (1-65535), got "${raw}"`);
  return port;
};

/**
 * True when real credentials are in the environment. The bundles read credentials from the environment only
 * (infra/aws-credentials-from-env.mjs, as in Lambda), so a profile must be exported first:
 * `eval "$(aws configure export-credentials --profile dev --format env)"`.
 */
const hasAwsCredentials = (env: NodeJS.ProcessEnv): boolean => Boolean(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);

/** A fresh bot session for local use only: the keystore JSON as the Mixin dashboard exports it. */
const generateKeystore = (): string => JSON.stringify(makeBot().json);

/** The sandbox registration of a keystore: who the bot is and the public key its tokens verify against. */
const sandboxAppOf = (keystoreJson: string): SandboxApp => {
  const keystore = parseKeystore(JSON.parse(keystoreJson));
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

const curlExamples = (apiUrl: string): string[] => {
  const member = randomUUID();
  const group = JSON.stringify({ name: 'Team room', participants: [{ user_id: member }] });
  const contact = JSON.stringify({ participants: [{ user_id: member }] });
  return [
    `  curl -sS -X POST ${apiUrl}/groups -H 'Content-Type: application/json' -H 'Idempotency-Key: ${randomUUID()}' -d '${group}'`,
    `  curl -sS -X POST ${apiUrl}/contacts -H 'Content-Type: application/json' -d '${contact}'`,
  ];
};

const main = async (): Promise<void> => {
  const env = process.env;
  const httpPort = portFrom('PORT', 3000);
  const lambdaPort = portFrom('LAMBDA_PORT', 3002);
  const sandboxPort = portFrom('SANDBOX_PORT', 4100);
  const secretsPort = portFrom('SECRETS_PORT', 4101);
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const realSecrets = Boolean(env.MIXIN_KEYSTORE_SECRET_ID) && hasAwsCredentials(env);
  const secretId = env.MIXIN_KEYSTORE_SECRET_ID || DEFAULT_SECRET_NAME;

  let sandbox: MixinSandbox | undefined;
  let secrets: LocalSecretsManager | undefined;
  let offline: ChildProcess | undefined;
  let stopping = false;
  // Its own esbuild scratch folder: a concurrent `npm run package` must not delete our bundles.
  const esbuildWorkFolder = `.esbuild/offline-${httpPort}`;

  // Idempotent: a second signal (npm and tsx both relay SIGTERM) waits for the same shutdown.
  let stopped: Promise<never> | undefined;
  const stop = (code: number): Promise<never> =>
    (stopped ??= (async () => {
      stopping = true;
      if (offline && offline.exitCode === null && offline.signalCode === null) {
        const exited = new Promise((r) => offline!.once('exit', r));
        offline.kill('SIGTERM');
        const timer = setTimeout(() => offline!.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      try {
        // An esbuild still finishing a watch rebuild can make the first attempt fail with ENOTEMPTY.
        rmSync(join(ROOT, esbuildWorkFolder), { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      } catch (error) {
        warn(`could not remove ${esbuildWorkFolder}: ${(error as Error).message}`);
      }
      await Promise.all([sandbox?.stop(), secrets?.stop()]);
      process.exit(code);
    })());
  // Whoever reads our output may go first (a killed `npm`): keep shutting down cleanly without a stdout.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    // 1. The keystore: a file, a real secret, or a throwaway one.
    let keystoreJson: string | undefined;
    let keystoreSource: string;
    if (env.MIXIN_KEYSTORE_FILE) {
      keystoreJson = readFileSync(resolve(env.MIXIN_KEYSTORE_FILE), 'utf8');
      sandboxAppOf(keystoreJson); // fails loudly (naming the field, never the key) if it is not a keystore
      keystoreSource = `from ${env.MIXIN_KEYSTORE_FILE}`;
    } else if (realSecrets) {
      keystoreSource = `AWS Secrets Manager secret ${secretId} (${region})`;
    } else {
      keystoreJson = generateKeystore();
      keystoreSource = 'generated for this run (throwaway, in memory only)';
    }

    // 2. Mixin: the sandbox, unless MIXIN_API_URL points elsewhere.
    let mixinUrl = env.MIXIN_API_URL;
    let mixinNote = '';
    if (!mixinUrl) {
      const app = sandboxAppOf(keystoreJson ?? (await readRealSecret(secretId, region)));
      sandbox = await new MixinSandbox({ port: sandboxPort, host: HOST, apps: [app] }).start();
      mixinUrl = sandbox.url;
      mixinNote = `local sandbox, bot ${app.appId}`;
    } else if (!env.MIXIN_KEYSTORE_FILE && !realSecrets) {
      warn(`MIXIN_API_URL=${mixinUrl} but no MIXIN_KEYSTORE_FILE: the generated keystore is unknown to that Mixin, expect 401s`);
    }

    // 3. Secrets Manager: local, unless the keystore lives in a real secret.
    const childEnv: NodeJS.ProcessEnv = { ...env, AWS_REGION: region, npm_config_update_notifier: 'false' };
    if (keystoreJson !== undefined) {
      secrets = await new LocalSecretsManager(region).start(secretsPort);
      secrets.put(secretId, keystoreJson);
      childEnv.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.url;
      // The SDK signs every request; the local endpoint does not check, but the SDK needs something to sign with.
      childEnv.AWS_ACCESS_KEY_ID = 'local';
      childEnv.AWS_SECRET_ACCESS_KEY = 'local';
      delete childEnv.AWS_SESSION_TOKEN;
      delete childEnv.AWS_PROFILE;
    }

    // 4. The functions behind the HTTP API.
    const serverless = require.resolve('osls/bin/serverless.js', { paths: [ROOT] });
    const args = [
      serverless, 'offline', 'start',
      '--stage', 'local',
      '--region', region,
      '--host', HOST,
      '--httpPort', String(httpPort),
      '--lambdaPort', String(lambdaPort),
      '--noPrependStageInUrl',
      // serverless-offline cannot check SigV4 (AWS_IAM): it would misread the authorizer as JWT and refuse to start.
      '--noAuth',
      '--param', `keystoreSecret=${secretId}`,
      '--param', `mixinApiUrl=${mixinUrl}`,
      '--param', `esbuildWorkFolder=${esbuildWorkFolder}`,
    ];
    offline = spawn(process.execPath, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number>((r) => offline!.once('exit', (code, signal) => r(code ?? (signal ? 1 : 0))));
    let ready = false;
    const forward = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stream.write(text.replace(/^(?=.)/gm, '[offline] '));
      if (/Server ready/i.test(text)) ready = true;
    };
    offline.stdout!.on('data', forward(process.stdout));
    offline.stderr!.on('data', forward(process.stderr));
    void exited.then((code) => {
      if (stopping) return;
      warn(`serverless offline exited (${code}); stopping`);
      void stop(code || 1);
    });

    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!ready && !stopping) {
      if (Date.now() > deadline) throw new Error(`serverless offline did not become ready within ${READY_TIMEOUT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (stopping) return;
    await waitForPort(httpPort, deadline);

    const apiUrl = `http://${HOST}:${httpPort}`;
    log();
    log('mixin-conversations is running on this machine:');
    log(`  HTTP API          ${apiUrl}   (POST /groups, POST /contacts; IAM auth is not enforced locally)`);
    log(`  Mixin             ${mixinUrl}${mixinNote ? `   (${mixinNote})` : ''}`);
    log(`  Secrets Manager   ${secrets ? `${secrets.url}   (local)` : `AWS, ${region}`}, secret ${secretId}`);
    log(`  Keystore          ${keystoreSource}`);
    log(`  Lambda invoke     http://${HOST}:${lambdaPort}   (queue and workflow functions, e.g. aws lambda invoke --endpoint-url ...)`);
    log();
    log('Try:');
    for (const line of curlExamples(apiUrl)) log(line);
    log(`  curl -sS -X POST http://${HOST}:${lambdaPort}/2015-03-31/functions/mixin-conversations-local-createGroupWorkflow/invocations -d '${JSON.stringify({ name: 'Team room', participants: [{ user_id: randomUUID() }], idempotency_key: 'my-execution/CreateGroup' })}'`);
    log();
    log(`ready: ${apiUrl}   (Ctrl-C to stop)`);
  } catch (error) {
    warn(`failed: ${(error as Error).message}`);
    await stop(1);
  }
};

void main();
