/**
 * The keystore heals and stays up: a broken secret at cold start is read again after the backoff and a fixed secret
 * is used with no redeploy; a warm instance whose secret rotates to something broken keeps its good key, reads at
 * most once per backoff window, and says so once per failed read (ERROR line and KeystoreReadFailed), never the value.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { makeBot } from '../infra/local/keys';
import type { SecretsFault } from '../infra/local/secrets-manager';
import {
  captureConsole,
  type Harness,
  httpEvent,
  lambdaContext,
  type LambdaHandler,
  sqsEvent,
  startHarness,
} from './support/harness';

type Http = LambdaHandler<unknown, APIGatewayProxyStructuredResultV2>;
type Queue = LambdaHandler<unknown, SQSBatchResponse>;
let h: Harness;
let lines: string[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  lines = captureConsole();
  h = await startHarness({
    KEYSTORE_CACHE_TTL_SECONDS: '1',
    KEYSTORE_RETRY_AFTER_FAILURE_SECONDS: '1',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_DISABLED: 'false',
  });
});
afterAll(async () => {
  await h.stop();
  jest.restoreAllMocks();
});
beforeEach(() => {
  h.sandbox.reset();
  h.sandbox.registerApp(h.bot.app); // whatever key a failed test left registered
  h.secrets.clearFaults();
  lines.length = 0;
});

const contact = async (handler: Http) => {
  const res = await handler(
    httpEvent(JSON.stringify({ participants: [{ user_id: randomUUID() }] }), { path: '/contacts' }),
    lambdaContext(),
  );
  return { status: res.statusCode, code: JSON.parse(String(res.body)).error?.code as string | undefined };
};
/** A handler of its own, reading its own secret (a fresh cold start), with `env` set while it loads. */
const coldHandler = <T>(path: string, secretId: string, env: Record<string, string> = {}): T => {
  const saved = { ...process.env };
  Object.assign(process.env, { MIXIN_KEYSTORE_SECRET_ID: secretId, ...env });
  const { handler } = h.load<{ handler: T }>(path);
  process.env = saved;
  return handler;
};
const coldContactHandler = (secretId: string, env: Record<string, string> = {}): Http =>
  coldHandler<Http>('../../functions/create-contact/http', secretId, env);
const reads = (secretId: string) =>
  h.secrets.calls.filter((c) => c.operation === 'GetSecretValue' && c.secretId === secretId).length;
const readFailures = () => lines.filter((l) => l.includes('"keystore read failed"'));
const alarmCounts = (metric: string) =>
  lines.filter((l) => l.includes(`"${metric}":1`) && l.includes('"Dimensions":[["service"]]')).length;

describe('a broken secret at cold start', () => {
  it.each<[string, (json: Record<string, string>) => { value: string; binary?: boolean }]>([
    [
      'malformed (session_private_key "TODO")',
      (json) => ({ value: JSON.stringify({ ...json, session_private_key: 'TODO' }) }),
    ],
    [
      'malformed, stored as SecretBinary',
      (json) => ({ value: JSON.stringify({ ...json, session_private_key: 'TODO' }), binary: true }),
    ],
  ])(
    '%s: answers keystore_invalid without re-reading inside the backoff, then heals once the secret is fixed',
    async (_label, broken) => {
      const secretId = `mixin/heal-${randomUUID()}`;
      const bot = h.bot;
      const { value, binary } = broken(bot.json);
      h.secrets.put(secretId, value, { binary: binary ?? false });
      const handler = coldContactHandler(secretId);
      expect(await contact(handler)).toEqual({ status: 500, code: 'keystore_invalid' });
      expect(await contact(handler)).toEqual({ status: 500, code: 'keystore_invalid' });
      expect(reads(secretId)).toBe(1); // the cold start's read; none more inside the backoff
      expect(readFailures()).toHaveLength(1);
      expect(alarmCounts('KeystoreInvalid')).toBe(2);
      h.secrets.put(secretId, JSON.stringify(bot.json), { binary: binary ?? false }); // the operator fixes it
      await sleep(1_100);
      expect(await contact(handler)).toEqual({ status: 201, code: undefined });
      expect(reads(secretId)).toBe(2);
      expect(h.sandbox.postCount).toBe(1);
    },
  );

  it.each([
    ['stored as SecretBinary', '', true],
    ['saved with a UTF-8 byte order mark, as SecretString', '\uFEFF', false],
    ['saved with a UTF-8 byte order mark, as SecretBinary', '\uFEFF', true],
  ])('a keystore %s works', async (_label, prefix, binary) => {
    const secretId = `mixin/binary-${randomUUID()}`;
    h.secrets.put(secretId, `${prefix}${JSON.stringify(h.bot.json)}`, { binary });
    expect(await contact(coldContactHandler(secretId))).toEqual({ status: 201, code: undefined });
    expect(readFailures()).toEqual([]);
  });

  it('a queue batch on an instance that starts with a broken secret fails only until the secret is fixed', async () => {
    const secretId = `mixin/heal-queue-${randomUUID()}`;
    h.secrets.put(secretId, 'not json');
    process.env.MIXIN_KEYSTORE_SECRET_ID = secretId;
    const queue = h.load<{ handler: Queue }>('../../functions/create-contact/queue').handler;
    process.env.MIXIN_KEYSTORE_SECRET_ID = h.secretId;
    const batch = () => sqsEvent([JSON.stringify({ participants: [{ user_id: randomUUID() }] })]);
    await expect(queue(batch(), lambdaContext())).rejects.toMatchObject({ name: 'KeystoreError' });
    h.secrets.put(secretId, JSON.stringify(h.bot.json));
    await sleep(1_100);
    expect(await queue(batch(), lambdaContext())).toEqual({ batchItemFailures: [] });
  });
});

describe('a warm instance whose secret breaks', () => {
  const cases: [string, (secretId: string) => void][] = [
    ['rotated to a malformed value', (id) => void h.secrets.put(id, '{"app_id": "oops"}')],
    [
      'made unreadable (AccessDenied)',
      () => h.secrets.inject({ type: 'AccessDeniedException' } satisfies SecretsFault),
    ],
    ['throttled', () => h.secrets.inject({ type: 'ThrottlingException' } satisfies SecretsFault)],
  ];
  it.each(cases)(
    '%s: keeps serving the good key, at most one read per backoff window, one ERROR line per failed read',
    async (_label, breakIt) => {
      const secretId = `mixin/warm-${randomUUID()}`;
      h.secrets.put(secretId, JSON.stringify(h.bot.json));
      const handler = coldContactHandler(secretId);
      expect((await contact(handler)).status).toBe(201);
      breakIt(secretId);
      await sleep(1_050); // past the TTL: the next request reads again, and that read fails
      const before = h.secrets.calls.length;
      for (let i = 0; i < 5; i++) expect((await contact(handler)).status).toBe(201);
      const readsInWindow = h.secrets.calls.length - before;
      expect(readsInWindow).toBe(1); // one read, one SDK attempt, not one per request
      expect(readFailures()).toHaveLength(1);
      expect(readFailures()[0]).toMatch(/"level":\s*"ERROR"/);
      expect(readFailures()[0]).not.toContain(h.bot.seedHex);
      expect(alarmCounts('KeystoreReadFailed')).toBe(1);
      // Healed: a rotated good key is picked up after the backoff, with no redeploy.
      h.secrets.clearFaults();
      const rotated = makeBot(h.bot.keystore.appId);
      h.sandbox.registerApp(rotated.app);
      h.secrets.put(secretId, JSON.stringify(rotated.json));
      await sleep(1_100);
      expect((await contact(handler)).status).toBe(201);
      expect(h.sandbox.requests.at(-1)!.outcome).toBe('created');
      h.sandbox.registerApp(h.bot.app);
    },
  );
});

describe('a key Mixin refuses while the secret still holds it', () => {
  // A window long enough for 30 requests to fit in it, a TTL that does not end inside the test.
  const env = { KEYSTORE_RETRY_AFTER_FAILURE_SECONDS: '2', KEYSTORE_CACHE_TTL_SECONDS: '60' };

  it('is read again at most once per KEYSTORE_RETRY_AFTER_FAILURE_SECONDS, with no keystore alarm; an update is used after that window', async () => {
    const secretId = `mixin/revoked-${randomUUID()}`;
    h.secrets.put(secretId, JSON.stringify(h.bot.json));
    const handler = coldContactHandler(secretId, env);
    expect((await contact(handler)).status).toBe(201);
    const rotated = makeBot(h.bot.keystore.appId);
    h.sandbox.registerApp(rotated.app); // Mixin revoked our session before the secret was updated
    const before = reads(secretId);
    for (let i = 0; i < 30; i++)
      expect(await contact(handler)).toEqual({ status: 502, code: 'mixin_credentials_rejected' });
    expect(reads(secretId) - before).toBe(1); // the first 401 re-read the secret; the same key started the window
    expect(h.sandbox.postCount).toBe(1 + 30);
    expect(readFailures()).toEqual([]);
    expect(alarmCounts('KeystoreReadFailed')).toBe(0);
    // The operator updates the secret: inside the window nothing reads it, after the window the next 401 heals.
    h.secrets.put(secretId, JSON.stringify(rotated.json));
    expect((await contact(handler)).status).toBe(502);
    expect(reads(secretId) - before).toBe(1);
    await sleep(2_050);
    expect(await contact(handler)).toEqual({ status: 201, code: undefined });
    expect(reads(secretId) - before).toBe(2);
    h.sandbox.registerApp(h.bot.app);
  });

  it('a queue batch of 10 refused records reads the secret once', async () => {
    const secretId = `mixin/revoked-queue-${randomUUID()}`;
    h.secrets.put(secretId, JSON.stringify(h.bot.json));
    const queue = coldHandler<Queue>('../../functions/create-contact/queue', secretId, env);
    const batch = (n: number) =>
      sqsEvent(Array.from({ length: n }, () => JSON.stringify({ participants: [{ user_id: randomUUID() }] })));
    expect(await queue(batch(1), lambdaContext())).toEqual({ batchItemFailures: [] });
    h.sandbox.registerApp(makeBot(h.bot.keystore.appId).app);
    const before = reads(secretId);
    const event = batch(10);
    const out = await queue(event, lambdaContext());
    expect(out.batchItemFailures).toHaveLength(10); // refused credentials stay for redelivery
    expect(reads(secretId) - before).toBe(1);
    expect(readFailures()).toEqual([]);
    h.sandbox.registerApp(h.bot.app);
  });
});

describe('a Mixin rejection other than 401', () => {
  it.each([
    [403, 502, 'mixin_credentials_rejected'],
    [10002, 422, 'mixin_rejected'],
  ])('code %i reads no keystore and repeats no call', async (code, status, errorCode) => {
    const secretId = `mixin/rejected-${randomUUID()}`;
    h.secrets.put(secretId, JSON.stringify(h.bot.json));
    const handler = coldContactHandler(secretId, { KEYSTORE_CACHE_TTL_SECONDS: '60' });
    expect((await contact(handler)).status).toBe(201);
    const before = reads(secretId);
    h.sandbox.inject({ kind: 'error', code, count: 1 });
    expect(await contact(handler)).toEqual({ status, code: errorCode });
    expect(reads(secretId)).toBe(before);
    expect(h.sandbox.postCount).toBe(2);
  });
});

describe('a stale cache with a good key in hand', () => {
  it('waits at most KEYSTORE_REFRESH_WAIT_MS for the refresh, goes on with the key in hand, and leaves no read running', async () => {
    const secretId = `mixin/slow-${randomUUID()}`;
    h.secrets.put(secretId, JSON.stringify(h.bot.json));
    const handler = coldContactHandler(secretId); // TTL 1 s, window 1 s, the default refresh wait (250 ms)
    expect((await contact(handler)).status).toBe(201);
    await sleep(1_050);
    h.secrets.inject({ type: 'hang' });
    const before = reads(secretId);
    const started = Date.now();
    expect(await contact(handler)).toEqual({ status: 201, code: undefined });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(240);
    expect(took).toBeLessThan(700);
    expect(reads(secretId) - before).toBe(1);
    // The refresh was aborted with the request, not left to run on (Lambda would freeze it mid-read).
    await sleep(50);
    expect(h.secrets.inFlight).toBe(0);
    // It counts as a failed read, once: the abort that ended it is not a second failure.
    await sleep(300);
    expect(readFailures()).toHaveLength(1);
    expect(readFailures()[0]).toMatch(/refresh/);
    expect(alarmCounts('KeystoreReadFailed')).toBe(1);
    // Its backoff started: inside the window no read, the good key serves at once.
    const quick = Date.now();
    expect((await contact(handler)).status).toBe(201);
    expect(Date.now() - quick).toBeLessThan(200);
    expect(reads(secretId) - before).toBe(1);
    h.secrets.clearFaults();
    await sleep(1_050);
    expect((await contact(handler)).status).toBe(201);
    expect(reads(secretId) - before).toBe(2);
    expect(readFailures()).toHaveLength(1);
  });
});

describe('throttled with no key in hand', () => {
  it('reads at most once per request, and serves again within KEYSTORE_RETRY_AFTER_FAILURE_SECONDS + 1 s once it stops', async () => {
    const secretId = `mixin/throttled-${randomUUID()}`;
    h.secrets.put(secretId, JSON.stringify(h.bot.json));
    h.secrets.inject({ type: 'ThrottlingException' });
    const handler = coldContactHandler(secretId);
    for (let i = 0; i < 5; i++) expect(await contact(handler)).toEqual({ status: 503, code: 'keystore_unavailable' });
    expect(reads(secretId)).toBeLessThanOrEqual(1 + 5); // the cold start's read, then at most one per request
    expect(reads(secretId)).toBeGreaterThanOrEqual(5); // with no key in hand, each request does try
    h.secrets.clearFaults();
    const stopped = Date.now();
    let status: number | undefined;
    while (status !== 201 && Date.now() - stopped < 2_000 + 500) {
      status = (await contact(handler)).status;
      if (status !== 201) await sleep(100);
    }
    expect(status).toBe(201);
    expect(Date.now() - stopped).toBeLessThanOrEqual(1_000 + 1_000);
  });
});
