/**
 * `npm start` brings the whole service up on 127.0.0.1 (sandbox Mixin, local Secrets Manager, generated keystore,
 * local SQS, serverless-offline, an event source mapping per queue function), answers both routes as the README's
 * curl lines do, consumes its queues, and goes away on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, connect } from 'node:net';
import { resolve } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MixinSandbox } from '../infra/local/mixin-sandbox';
import { LocalSecretsManager } from '../infra/local/secrets-manager';
import { type Message, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { groupIdForKey, uniqueConversationId } from '../lib/conversation-id';
import { makeBot } from '../infra/local/keys';
import { queueDepth, waitFor } from './support/queues';

const ROOT = resolve(__dirname, '..');
const READY_TIMEOUT_MS = 90_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PORT_NAMES = ['PORT', 'LAMBDA_PORT', 'SANDBOX_PORT', 'SECRETS_PORT', 'SQS_PORT'];

let child: ChildProcess;
let output = '';
let apiUrl = '';
let botId = '';
let exited: Promise<number | null>;
const ports: Record<string, number> = {};

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

const listening = (port: number): Promise<boolean> =>
  new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });

const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(`${apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json: { data?: { conversation_id?: string; category?: string; participants?: { user_id: string }[] } } = {};
  try {
    json = JSON.parse(text);
  } catch {
    // leave it empty: the status assertion will show the text
  }
  return { status: response.status, text, json, conversation: json.data };
};

beforeAll(async () => {
  for (const name of PORT_NAMES) ports[name] = await freePort();
  // npm_config_ignore_scripts: `npm start` without `prestart`, whose schema rebuild would rewrite lib/schemas/generated/
  // under the feet of the suites running in parallel (`npm test` built it already).
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    npm_config_ignore_scripts: 'true',
  };
  // The default road: sandbox, local secret, generated keystore, whatever the developer's shell has set.
  for (const name of [
    'MIXIN_API_URL',
    'MIXIN_KEYSTORE_FILE',
    'MIXIN_KEYSTORE_SECRET_ID',
    'AWS_PROFILE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
  ]) {
    delete env[name];
  }
  // Three batches at once per queue, and a sandbox with a rate limit far above what these tests send.
  Object.assign(env, {
    LOCAL_QUEUE_MAXIMUM_CONCURRENCY: '3',
    MIXIN_SANDBOX_RATE_LIMIT: '100',
    MIXIN_SANDBOX_LATENCY_MS: '5',
  });
  child = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  exited = new Promise((done) => child.once('exit', (code) => done(code)));
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const started = Date.now();
  await new Promise<void>((done, fail) => {
    const timer = setInterval(() => {
      const ready = /^ready: (http:\/\/127\.0\.0\.1:\d+)/m.exec(output);
      if (ready) {
        clearInterval(timer);
        apiUrl = ready[1]!;
        done();
      } else if (child.exitCode !== null || Date.now() - started > READY_TIMEOUT_MS) {
        clearInterval(timer);
        fail(new Error(`npm start did not get ready (exit ${child.exitCode}):\n${output}`));
      }
    }, 100);
  });
  console.log(`npm start was ready after ${Date.now() - started} ms`);
  botId = /bot ([0-9a-f-]{36})/.exec(output)?.[1] ?? '';
}, READY_TIMEOUT_MS + 10_000);

afterAll(async () => {
  if (child?.pid && child.exitCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
  }
});

it('announces the API on the chosen port, the sandbox bot and a curl line per route', () => {
  expect(apiUrl).toBe(`http://127.0.0.1:${ports.PORT}`);
  expect(botId).toMatch(UUID);
  expect(output).toContain(
    `curl -sS -X POST ${apiUrl}/groups -H 'Content-Type: application/json' -H 'Idempotency-Key: `,
  );
  expect(output).toContain(
    `curl -sS -X POST ${apiUrl}/contacts -H 'Content-Type: application/json' -d '{"participants":[{"user_id":"`,
  );
  expect(output).not.toMatch(/session_private_key/);
});

it('announces the local SQS: its endpoint, every queue of the stage, an aws sqs line and an npm run workflow line', () => {
  const endpoint = `http://127.0.0.1:${ports.SQS_PORT}`;
  expect(output).toContain(`SQS               ${endpoint}`);
  for (const name of ['create-group', 'create-group-dlq', 'create-contact', 'create-contact-dlq']) {
    expect(output).toContain(`    ${endpoint}/000000000000/mixin-conversations-local-${name}`);
  }
  expect(output).toContain(
    `aws sqs send-message --endpoint-url ${endpoint} --queue-url ${endpoint}/000000000000/mixin-conversations-local-create-group --message-body '{"name":"Team room","participants":[{"user_id":"`,
  );
  expect(output).toMatch(
    /--message-attributes '\{"IdempotencyKey":\{"DataType":"String","StringValue":"[0-9a-f-]{36}"\}\}'/,
  );
  expect(output).toContain(`LAMBDA_PORT=${ports.LAMBDA_PORT} npm run workflow -- '`);
  // The deployed ratio: a visibility timeout of six times the (shortened) queue function timeout.
  expect(output).toContain('(local; visibility timeout 30 s, redrive as in infra/queues.yml)');
  expect(output).toContain(
    `${endpoint}/000000000000/mixin-conversations-local-create-contact   -> createContactQueue (3 batches at once, timeout 5 s)`,
  );
  expect(output).toMatch(/local sandbox, bot [0-9a-f-]{36}, rate limit 100\/s, latency 5 ms/);
  expect(output).toMatch(
    /npm run workflow -- '\{"name":"Team room","participants":\[\{"user_id":"[0-9a-f-]{36}"\}\]\}'/,
  );
});

it('creates a group over POST /groups, and the same one again for the same Idempotency-Key', async () => {
  const member = randomUUID();
  const key = randomUUID();
  const first = await post(
    '/groups',
    { name: 'Team room', participants: [{ user_id: member }] },
    { 'Idempotency-Key': key },
  );
  expect([first.status, first.text]).toEqual([201, expect.any(String)]);
  expect(first.conversation?.conversation_id).toMatch(UUID);
  expect(first.conversation?.category).toBe('GROUP');
  expect(first.conversation?.participants?.map((p) => p.user_id)).toEqual(expect.arrayContaining([botId, member]));

  const again = await post(
    '/groups',
    { name: 'Team room', participants: [{ user_id: member }] },
    { 'Idempotency-Key': key },
  );
  expect(again.status).toBe(201);
  expect(again.conversation?.conversation_id).toBe(first.conversation?.conversation_id);
});

it('creates a contact over POST /contacts with the unique conversation ID of bot and user', async () => {
  const user = randomUUID();
  const response = await post('/contacts', { participants: [{ user_id: user }] });
  expect([response.status, response.text]).toEqual([201, expect.any(String)]);
  expect(response.conversation?.conversation_id).toBe(uniqueConversationId(botId, user));
  expect(response.conversation?.category).toBe('CONTACT');
});

it('serves the queue and workflow functions on the Lambda invoke endpoint', async () => {
  const invoke = async (fn: string, payload: unknown) => {
    const response = await fetch(
      `http://127.0.0.1:${ports.LAMBDA_PORT}/2015-03-31/functions/mixin-conversations-local-${fn}/invocations`,
      { method: 'POST', body: JSON.stringify(payload) },
    );
    return {
      status: response.status,
      functionError: response.headers.get('x-amz-function-error'),
      body: (await response.json()) as Record<string, unknown>,
    };
  };
  const member = randomUUID();
  const group = await invoke('createGroupWorkflow', {
    name: 'Team room',
    participants: [{ user_id: member }],
    idempotency_key: 'exec/CreateGroup',
  });
  expect([group.status, group.functionError]).toEqual([200, null]);
  expect(group.body.conversation_id).toMatch(UUID);
  const queue = await invoke('createContactQueue', {
    Records: [
      { messageId: 'm1', body: JSON.stringify({ participants: [{ user_id: member }] }) },
      { messageId: 'm2', body: 'not json' },
    ],
  });
  // m2 can never succeed: the function sends it to its local dead-letter queue (DEAD_LETTER_QUEUE_URL) instead of reporting it.
  expect(queue.body).toEqual({ batchItemFailures: [] });
  const sqs = localSqs(ports.SQS_PORT!);
  const { Messages } = await sqs.client.send(
    new ReceiveMessageCommand({
      QueueUrl: sqs.url('create-contact-dlq'),
      WaitTimeSeconds: 1,
      MessageAttributeNames: ['All'],
    }),
  );
  sqs.client.destroy();
  expect(Messages?.map((m) => [m.Body, m.MessageAttributes?.SourceMessageId?.StringValue])).toEqual([
    ['not json', 'm2'],
  ]);
});

it('keeps serving when a second npm start on the same ports fails (ports in use): the failed one removes none of its bundles', async () => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    npm_config_ignore_scripts: 'true',
  };
  const second = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let secondOutput = '';
  second.stdout!.on('data', (c: Buffer) => (secondOutput += c.toString()));
  second.stderr!.on('data', (c: Buffer) => (secondOutput += c.toString()));
  const code = await new Promise<number | null>((done) => second.once('exit', done));
  expect(code).not.toBe(0);
  expect(secondOutput).toContain('EADDRINUSE');
  const user = randomUUID();
  const response = await post('/contacts', { participants: [{ user_id: user }] });
  expect([response.status, response.text]).toEqual([201, expect.any(String)]);
}, 60_000);

it('stops everything on a SIGTERM to npm alone, as a process manager or `timeout` sends it', async () => {
  process.kill(child.pid!, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise((r) => (timer = setTimeout(() => r('timeout'), 15_000)))]);
  clearTimeout(timer);
  expect(code).not.toBe('timeout');
  // npm passes it on to the launcher (the script execs it: no shell in between to swallow it), which stops
  // serverless-offline, the sandbox, Secrets Manager and SQS; give them a moment to close their ports.
  const deadline = Date.now() + 10_000;
  let open: string[] = [];
  do {
    open = [];
    for (const [name, port] of Object.entries(ports)) if (await listening(port)) open.push(name);
    if (open.length === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < deadline);
  expect(open).toEqual([]);
}, 30_000);

/** A second `npm start` with overrides: its output, ports, and a stop function. */
interface Launch {
  output: () => string;
  ports: Record<string, number>;
  stop: () => Promise<void>;
}

const launch = async (overrides: NodeJS.ProcessEnv): Promise<Launch> => {
  const launchPorts: Record<string, number> = {};
  for (const name of PORT_NAMES) launchPorts[name] = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(Object.entries(launchPorts).map(([k, v]) => [k, String(v)])),
    npm_config_ignore_scripts: 'true',
  };
  for (const name of [
    'MIXIN_API_URL',
    'MIXIN_KEYSTORE_FILE',
    'MIXIN_KEYSTORE_SECRET_ID',
    'AWS_PROFILE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  ]) {
    delete env[name];
  }
  Object.assign(env, overrides);
  const proc = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const procExited = new Promise<number | null>((done) => proc.once('exit', (code) => done(code)));
  let text = '';
  proc.stdout!.on('data', (c: Buffer) => (text += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (text += c.toString()));
  const stop = async () => {
    if (proc.pid && proc.exitCode === null) {
      process.kill(-proc.pid, 'SIGTERM');
      await procExited;
    }
    // npm may exit before the launcher has finished shutting serverless-offline down: wait for the ports to close,
    // so that nothing of ours still runs when the next suite starts.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await Promise.all(Object.values(launchPorts).map(listening))).some(Boolean)) {
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const started = Date.now();
  while (!/^ready: /m.test(text)) {
    if (proc.exitCode !== null || Date.now() - started > READY_TIMEOUT_MS) {
      await stop();
      throw new Error(`npm start did not get ready:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { output: () => text, ports: launchPorts, stop };
};

/** The local SQS of a running `npm start`, reached as any SDK user would (the URLs it printed). */
const localSqs = (port: number) => {
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const url = (name: string) => `${endpoint}/000000000000/mixin-conversations-local-${name}`;
  const depth = (name: string) => queueDepth(client, url(name));
  return { client, url, depth };
};

const postContact = async (port: number, user: string) => {
  const response = await fetch(`http://127.0.0.1:${port}/contacts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ participants: [{ user_id: user }] }),
  });
  return { status: response.status, body: (await response.json()) as { data?: { conversation_id?: string } } };
};

describe('with MIXIN_API_URL and MIXIN_KEYSTORE_FILE', () => {
  let sandbox: MixinSandbox;
  let dir: string;
  let launched: Launch | undefined;
  const bot = makeBot();

  beforeAll(async () => {
    // A Mixin of our own (standing in for a real one) that knows the bot of the keystore file.
    sandbox = await new MixinSandbox({ apps: [bot.app] }).start();
    dir = mkdtempSync(join(tmpdir(), 'mixin-conversations-start-'));
    writeFileSync(join(dir, 'bot.keystore.json'), JSON.stringify(bot.json));
    launched = await launch({ MIXIN_API_URL: sandbox.url, MIXIN_KEYSTORE_FILE: join(dir, 'bot.keystore.json') });
  }, READY_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await launched?.stop();
    await sandbox?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('talks to that Mixin with that keystore, and starts no sandbox of its own', async () => {
    const user = randomUUID();
    const { status, body } = await postContact(launched!.ports.PORT!, user);
    expect(status).toBe(201);
    expect(body.data?.conversation_id).toBe(uniqueConversationId(bot.json.app_id, user));
    expect(sandbox.requests.filter((r) => r.method === 'POST').map((r) => r.uid)).toEqual([bot.json.app_id]);
    expect(await listening(launched!.ports.SANDBOX_PORT!)).toBe(false);
    expect(launched!.output()).toContain(`Keystore          from ${join(dir, 'bot.keystore.json')}`);
  });

  it('creates one group in that Mixin for a message sent to the local group queue, and deletes the message', async () => {
    const sqs = localSqs(launched!.ports.SQS_PORT!);
    const member = randomUUID();
    const before = sandbox.created;
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: sqs.url('create-group'),
        MessageBody: JSON.stringify({ name: 'Queue room', participants: [{ user_id: member }] }),
        MessageAttributes: { IdempotencyKey: { DataType: 'String', StringValue: 'start-test-1' } },
      }),
    );
    const expected = groupIdForKey(bot.json.app_id, 'start-test-1');
    await waitFor('the group', () => sandbox.conversations.has(expected));
    await waitFor('the queue to empty', async () => (await sqs.depth('create-group')) === 0);
    expect(sandbox.created - before).toBe(1);
    expect(await sqs.depth('create-group-dlq')).toBe(0);
    sqs.client.destroy();
  });

  it('sends a message that can never succeed to the local dead-letter queue at once, with its reason', async () => {
    const sqs = localSqs(launched!.ports.SQS_PORT!);
    const { MessageId } = await sqs.client.send(
      new SendMessageCommand({ QueueUrl: sqs.url('create-contact'), MessageBody: '{"participants": "nobody"}' }),
    );
    let dead: Message | undefined;
    await waitFor('the dead letter', async () => {
      const out = await sqs.client.send(
        new ReceiveMessageCommand({
          QueueUrl: sqs.url('create-contact-dlq'),
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
        }),
      );
      dead = out.Messages?.[0];
      return dead !== undefined;
    });
    expect(dead!.Body).toBe('{"participants": "nobody"}');
    expect(dead!.MessageAttributes?.ErrorName?.StringValue).toBe('InvalidRequestError');
    expect(dead!.MessageAttributes?.SourceMessageId?.StringValue).toBe(MessageId);
    expect(dead!.MessageAttributes?.ReceiveCount?.StringValue).toBe('1'); // dead-lettered by the function, not by the redrive
    await waitFor('the queue to empty', async () => (await sqs.depth('create-contact')) === 0);
    sqs.client.destroy();
  });
});

describe('with MIXIN_KEYSTORE_SECRET_ID and AWS credentials', () => {
  // "Real" Secrets Manager, reached the way the SDK reaches any endpoint override; no local one is started.
  let secrets: LocalSecretsManager;
  let launched: Launch | undefined;
  const bot = makeBot();

  beforeAll(async () => {
    secrets = await new LocalSecretsManager('eu-west-1').start();
    secrets.put('team/mixin-bot', JSON.stringify(bot.json));
    launched = await launch({
      MIXIN_KEYSTORE_SECRET_ID: 'team/mixin-bot',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'example',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    });
  }, READY_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await launched?.stop();
    await secrets?.stop();
  });

  it('reads the keystore from that secret, for the sandbox and for the functions', async () => {
    const user = randomUUID();
    const { status, body } = await postContact(launched!.ports.PORT!, user);
    expect(status).toBe(201);
    expect(body.data?.conversation_id).toBe(uniqueConversationId(bot.json.app_id, user));
    // Once by the launcher (to register the bot with the sandbox), at least once by the function.
    expect(
      secrets.calls.filter((c) => c.operation === 'GetSecretValue' && c.secretId === 'team/mixin-bot').length,
    ).toBeGreaterThanOrEqual(2);
    expect(await listening(launched!.ports.SECRETS_PORT!)).toBe(false);
    expect(launched!.output()).toContain('AWS Secrets Manager secret team/mixin-bot (eu-west-1)');
  });
});

describe('refuses to start, loudly and without a secret, when', () => {
  /** Runs `npm start` to its end: exit code and output. */
  const startToFailure = async (overrides: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> => {
    const env: NodeJS.ProcessEnv = { ...process.env, npm_config_ignore_scripts: 'true' };
    for (const name of PORT_NAMES) env[name] = String(await freePort());
    Object.assign(env, overrides); // a port among them is the value under test
    const proc = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    // One that starts instead of refusing is stopped (its whole process group), so the test fails instead of hanging.
    const stopper = setTimeout(() => proc.pid && process.kill(-proc.pid, 'SIGTERM'), 40_000);
    const code = await new Promise<number | null>((done) => proc.once('exit', done));
    clearTimeout(stopper);
    return { code, output };
  };

  it('the keystore file is not JSON: says so, and quotes none of it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mixin-conversations-badkey-'));
    const seed = makeBot().seedHex;
    writeFileSync(join(dir, 'bad.keystore.json'), `{"app_id": "${randomUUID()}", "session_private_key": '${seed}'}`);
    const { code, output } = await startToFailure({ MIXIN_KEYSTORE_FILE: join(dir, 'bad.keystore.json') });
    rmSync(dir, { recursive: true, force: true });
    expect(code).not.toBe(0);
    expect(output).toContain('keystore: is not valid JSON');
    expect(output).not.toContain(seed.slice(0, 8));
  }, 60_000);

  it("the local visibility timeout is below six times the queue functions' timeout: says which and what to do", async () => {
    const { code, output } = await startToFailure({
      LOCAL_QUEUE_VISIBILITY_TIMEOUT: '10',
      LOCAL_QUEUE_FUNCTION_TIMEOUT: '5',
    });
    expect(code).not.toBe(0);
    expect(output).toContain(
      "LOCAL_QUEUE_VISIBILITY_TIMEOUT (10 s) must be at least 6 times the queue functions' timeout (LOCAL_QUEUE_FUNCTION_TIMEOUT, 5 s)",
    );
    expect(output).not.toMatch(/^ready:/m);
  }, 60_000);

  it("npm start's own numbers are plain digits, as the functions': 0x10 or 1e1 is refused with the variable's name", async () => {
    for (const [name, value, message] of [
      ['SQS_PORT', '0x10', 'SQS_PORT must be a whole number from 1 to 65535, got "0x10"'],
      [
        'MIXIN_SANDBOX_RATE_LIMIT',
        '0x10',
        'MIXIN_SANDBOX_RATE_LIMIT must be a number above 0 to 100000 (unset: no limit), got "0x10"',
      ],
      [
        'MIXIN_SANDBOX_LATENCY_MS',
        '3000000000',
        'MIXIN_SANDBOX_LATENCY_MS must be a number from 0 to 60000, got "3000000000"',
      ],
      [
        'LOCAL_QUEUE_VISIBILITY_TIMEOUT',
        '0x1e',
        'LOCAL_QUEUE_VISIBILITY_TIMEOUT must be whole seconds (0-43200), got "0x1e"',
      ],
      [
        'LOCAL_QUEUE_MAXIMUM_CONCURRENCY',
        '1e1',
        'LOCAL_QUEUE_MAXIMUM_CONCURRENCY must be a whole number from 1 to 1000, got "1e1"',
      ],
    ]) {
      const { code, output } = await startToFailure({ [name!]: value });
      expect({ name, code: code === 0 ? 0 : 'failed' }).toEqual({ name, code: 'failed' });
      expect(output).toContain(message);
      expect(output).not.toMatch(/^ready:/m);
    }
  }, 120_000);

  it("a function setting in the shell is out of range: the function's own message, before anything starts", async () => {
    const { code, output } = await startToFailure({ MIXIN_MAX_ATTEMPTS: '99' });
    expect(code).not.toBe(0);
    expect(output).toContain('MIXIN_MAX_ATTEMPTS must be an integer from 1 to 10, got "99"');
    expect(output).not.toMatch(/^ready:/m);
  }, 60_000);
});
