/**
 * `npm run workflow` (scripts/workflow.ts), run as the real command against an invoke endpoint that answers
 * like serverless-offline's (`npm start`): the real workflow handlers run in this process behind it, on the
 * Mixin sandbox and a local Secrets Manager. Asserts the printed states, the output, the exit code and what
 * the functions received.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { groupIdForKey, uniqueConversationId } from '../lib/conversation-id';
import { errorNameOf } from '../scripts/workflow/lambda-invoke';
import { type Harness, lambdaContext, type LambdaHandler, startHarness } from './support/harness';

const ROOT = join(__dirname, '..');
const TSX_CLI = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

let h: Harness;
let server: Server;
let endpoint: string;
/** Every invocation the endpoint received: function name and payload. */
const invocations: { functionName: string; payload: Record<string, unknown> }[] = [];

const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
};

/**
 * serverless-offline's POST /2015-03-31/functions/{name}/invocations (src/lambda/routes/invocations/): 404 for
 * an unknown function, 400 for an invocation type other than RequestResponse/Event, and for a thrown error
 * 200 + `X-Amz-Function-Error: Unhandled` + `{ errorMessage, errorType: "Error", trace: stack lines }`.
 */
const offlineInvoke =
  (handlers: Record<string, LambdaHandler>) => async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const functionName = decodeURIComponent(
      /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '')?.[1] ?? '',
    );
    const handler = handlers[functionName];
    if (!handler)
      return send(
        res,
        404,
        { Message: `Function not found: ${functionName}`, Type: 'User' },
        { 'x-amzn-ErrorType': 'ResourceNotFoundException' },
      );
    const type = req.headers['x-amz-invocation-type'];
    if (type && type !== 'RequestResponse') {
      return send(
        res,
        400,
        { Message: `invocationType: '${type}' not supported by serverless-offline`, Type: 'User' },
        { 'x-amzn-ErrorType': 'InvalidParameterValueException' },
      );
    }
    const payload = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    invocations.push({ functionName, payload });
    try {
      send(res, 200, await handler(payload, lambdaContext(30_000)));
    } catch (error) {
      const err = error as Error;
      send(
        res,
        200,
        { errorMessage: err.message, errorType: 'Error', trace: (err.stack ?? '').split('\n') },
        { 'X-Amz-Function-Error': 'Unhandled' },
      );
    }
  };

beforeAll(async () => {
  h = await startHarness({ MIXIN_MAX_ATTEMPTS: '2' });
  const handlers = {
    'mixin-conversations-local-createGroupWorkflow': h.load<{ handler: LambdaHandler }>(
      '../../functions/create-group/workflow',
    ).handler,
    'mixin-conversations-local-createContactWorkflow': h.load<{ handler: LambdaHandler }>(
      '../../functions/create-contact/workflow',
    ).handler,
  };
  const handle = offlineInvoke(handlers);
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await h.stop();
});
beforeEach(() => {
  h.sandbox.reset();
  invocations.length = 0;
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run workflow -- ...args` as a child process, pointed at `lambdaUrl`. */
const workflow = (args: string[], lambdaUrl = endpoint): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    const env = { ...process.env, LAMBDA_URL: lambdaUrl };
    const child = spawn(process.execPath, [TSX_CLI, join(ROOT, 'scripts', 'workflow.ts'), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

/** The state lines without their timestamps. */
const stateLines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('['))
    .map((l) => l.replace(/^\[\s*[\d.]+s\] /, ''));

const members = (n: number) => Array.from({ length: n }, () => ({ user_id: randomUUID() }));

describe('npm run workflow', () => {
  it('runs the team room: prints each state, then the output; each task gets the key of its own state', async () => {
    const participants = members(2);
    const run = await workflow([JSON.stringify({ name: 'Team room', participants }), '--execution-name', 'exec-ok']);
    expect(run.code).toBe(0);
    const bot = h.bot.keystore.appId;
    expect(JSON.parse(run.stdout)).toEqual({
      group: { conversation_id: groupIdForKey(bot, 'exec-ok/CreateGroup') },
      contacts: participants.map(({ user_id }) => ({
        user_id,
        opened: true,
        conversation_id: uniqueConversationId(bot, user_id),
      })),
    });
    const lines = stateLines(run.stderr);
    const order = [
      'execution started',
      'CreateGroup entered (Task)',
      'CreateGroup exited',
      'OpenContacts entered (Map)',
      'CreateContact[0] entered (Task)',
      'ContactOpened[1] exited',
      'OpenContacts exited',
      'TeamRoomOpen exited',
      'execution succeeded',
    ];
    const positions = order.map((start) => lines.findIndex((l) => l.startsWith(start)));
    expect(positions).not.toContain(-1);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(lines).toEqual(
      expect.arrayContaining([
        'CreateContact[1] entered (Task)',
        expect.stringMatching(/^CreateContact\[0\] exited \{"user_id":/),
      ]),
    );
    // $$.State.Name is the state's own name, as in Step Functions (aws-local-stepfunctions leaves it empty).
    expect(invocations.map((i) => [i.functionName, i.payload.idempotency_key]).sort()).toEqual(
      [
        ['mixin-conversations-local-createContactWorkflow', `exec-ok/CreateContact/${participants[0]!.user_id}`],
        ['mixin-conversations-local-createContactWorkflow', `exec-ok/CreateContact/${participants[1]!.user_id}`],
        ['mixin-conversations-local-createGroupWorkflow', 'exec-ok/CreateGroup'],
      ].sort(),
    );
  });

  it('recovers the error name serverless-offline drops, so Retry matches MixinRateLimitError', async () => {
    // MIXIN_MAX_ATTEMPTS=2: the first invocation ends with MixinRateLimitError, the state's Retry runs it again.
    h.sandbox.inject({ kind: 'error', code: 429, count: 2, category: 'GROUP' });
    const run = await workflow([
      JSON.stringify({ name: 'Throttled room', participants: members(1) }),
      '--retry-interval-ms',
      '0',
    ]);
    expect(run.code).toBe(0);
    const lines = stateLines(run.stderr);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^CreateGroup failed: MixinRateLimitError: Mixin rate-limited/),
        'CreateGroup retried (attempt 1)',
      ]),
    );
    expect(invocations.filter((i) => i.functionName.endsWith('createGroupWorkflow'))).toHaveLength(2);
    expect([...h.sandbox.conversations.values()].filter((c) => c.data.category === 'GROUP')).toHaveLength(1);
  });

  it('records a contact Mixin rejects and goes on (Catch on MixinRequestError)', async () => {
    const participants = members(2);
    h.sandbox.inject({ kind: 'error', code: 10002, userId: participants[1]!.user_id, category: 'CONTACT' });
    const run = await workflow([JSON.stringify({ name: 'Partly open', participants })]);
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout) as { contacts: { user_id: string; opened: boolean; error?: string }[] };
    expect(output.contacts.map((c) => [c.user_id, c.opened, c.error])).toEqual([
      [participants[0]!.user_id, true, undefined],
      [participants[1]!.user_id, false, 'MixinRequestError'],
    ]);
    expect(stateLines(run.stderr)).toEqual(
      expect.arrayContaining([
        'CreateContact[1] caught, next ContactFailed',
        expect.stringMatching(/^ContactFailed\[1\] exited/),
      ]),
    );
  });

  it('fails with the error name and a non-zero exit code when the group is rejected', async () => {
    h.sandbox.inject({ kind: 'error', code: 20116 });
    const run = await workflow([JSON.stringify({ name: 'Full room', participants: members(1) })]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: 'MixinRequestError' });
    expect(run.stderr).toMatch(/execution failed: MixinRequestError: /);
    expect(run.stderr).toMatch(/workflow failed: MixinRequestError\n/);
    expect(invocations.map((i) => i.functionName)).toEqual(['mixin-conversations-local-createGroupWorkflow']);
  });

  it('refuses a bad command line with exit code 2 and says how to call it', async () => {
    const cases: [string[], RegExp][] = [
      [[], /give the execution input as one argument \(got 0\)/],
      [['{"name":"x"'], /the input is not JSON .*quote it for the shell/s],
      [['[]'], /the input must be a JSON object/],
      [['{}', '--fast'], /Unknown option '--fast'/],
      [['{}', '--retry-interval-ms', '1.5'], /--retry-interval-ms must be a whole number/],
      [['{}', '--execution-name', 'a/b'], /--execution-name: 1-80 characters/],
    ];
    // One process each, all at once: they never reach the endpoint.
    const runs = await Promise.all(cases.map(([args]) => workflow(args)));
    runs.forEach((run, i) => {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(cases[i]![1]);
      expect(run.stdout).toBe('');
    });
    expect(invocations).toHaveLength(0);
  });

  it('says to start `npm start` when nothing answers at the endpoint', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));
    const run = await workflow([JSON.stringify({ name: 'x', participants: members(1) })], url);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`nothing answers at ${url}: start the functions first with \`npm start\``);
  });
});

describe('errorNameOf', () => {
  it('takes errorType from Lambda, and the stack line from serverless-offline, whose errorType is always "Error" (its timeout: Sandbox.Timedout)', () => {
    expect(errorNameOf({ errorType: 'MixinRequestError', errorMessage: 'm', trace: ['MixinRequestError: m'] })).toBe(
      'MixinRequestError',
    );
    expect(errorNameOf({ errorType: 'Error', errorMessage: 'a: b', trace: ['KeystoreError: a: b', '    at x'] })).toBe(
      'KeystoreError',
    );
    expect(errorNameOf({ errorType: 'Error', errorMessage: '', trace: ['InvalidRequestError'] })).toBe(
      'InvalidRequestError',
    );
    expect(errorNameOf({ errorType: 'Error', errorMessage: 'm' })).toBe('Error');
    expect(errorNameOf({})).toBe('Error');
    expect(
      errorNameOf({
        errorType: 'Error',
        errorMessage: '[504] - Lambda timeout.',
        trace: ['Error: [504] - Lambda timeout.'],
      }),
    ).toBe('Sandbox.Timedout');
  });
});
