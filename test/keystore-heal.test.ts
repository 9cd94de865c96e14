/**
 * The keystore heals and stays up: a broken secret at cold start is read again after the backoff and a fixed secret
 * is used with no redeploy; a warm instance whose secret rotates to something broken keeps its good key, reads at
 * most once per backoff window, and says so once per failed read (ERROR line and KeystoreReadFailed), never the value.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { makeBot } from '../infra/local/keys';
import type { SecretsFault } from '../infra/local/secrets-manager';
import { captureConsole, type Harness, httpEvent, lambdaContext, type LambdaHandler, sqsEvent, startHarness } from './support/harness';

type Http = LambdaHandler<unknown, APIGatewayProxyStructuredResultV2>;
type Queue = LambdaHandler<unknown, SQSBatchResponse>;
let h: Harness;
let lines: string[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  lines = captureConsole();
  h = await startHarness({ KEYSTORE_CACHE_TTL_SECONDS: '1', KEYSTORE_RETRY_AFTER_FAILURE_SECONDS: '1', POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'false' });
});
afterAll(async () => {
  await h.stop();
  jest.restoreAllMocks();
});
beforeEach(() => {
  h.sandbox.reset();
  h.secrets.clearFaults();
  lines.length = 0;
});

const contact = async (handler: Http) => {
  const res = await handler(httpEvent(JSON.stringify({ participants: [{ user_id: randomUUID() }] }), { path: '/contacts' }), lambdaContext());
  return { status: res.statusCode, code: JSON.parse(String(res.body)).error?.code as string | undefined };
};
/** A handler of its own, reading its own secret (a fresh cold start). */
const coldContactHandler = (secretId: string): Http => {
  process.env.MIXIN_KEYSTORE_SECRET_ID = secretId;
  const handler = h.load<{ handler: Http }>('../../functions/create-contact/http').handler;
  process.env.MIXIN_KEYSTORE_SECRET_ID = h.secretId;
  return handler;
};
const reads = (secretId: string) => h.secrets.calls.filter((c) => c.operation === 'GetSecretValue' && c.secretId === secretId).length;
const readFailures = () => lines.filter((l) => l.includes('"keystore read failed"'));
const alarmCounts = (metric: string) => lines.filter((l) => l.includes(`"${metric}":1`) && l.includes('"Dimensions":[["service"]]')).length;

describe('a broken secret at cold start', () => {
  it.each<[string, (json: Record<string, string>) => { value: string; binary?: boolean }]>([
    ['malformed (session_private_key "TODO")', (json) => ({ value: JSON.stringify({ ...json, session_private_key: 'TODO' }) })],
    ['malformed, stored as SecretBinary', (json) => ({ value: JSON.stringify({ ...json, session_private_key: 'TODO' }), binary: true })],
  ])('%s: answers keystore_invalid without re-reading inside the backoff, then heals once the secret is fixed', async (_label, broken) => {
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
  });

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
    ['made unreadable (AccessDenied)', () => h.secrets.inject({ type: 'AccessDeniedException' } satisfies SecretsFault)],
    ['throttled', () => h.secrets.inject({ type: 'ThrottlingException' } satisfies SecretsFault)],
  ];
  it.each(cases)('%s: keeps serving the good key, at most one read per backoff window, one ERROR line per failed read', async (_label, breakIt) => {
    const secretId = `mixin/warm-${randomUUID()}`;
    h.secrets.put(secretId, JSON.stringify(h.bot.json));
    const handler = coldContactHandler(secretId);
    expect((await contact(handler)).status).toBe(201);
    breakIt(secretId);
    await sleep(1_050); // past the TTL: the next request reads again, and that read fails
    const before = h.secrets.calls.length;
    for (let i = 0; i < 5; i++) expect((await contact(handler)).status).toBe(201);
    const readsInWindow = h.secrets.calls.length - before;
    expect(readsInWindow).toBeGreaterThanOrEqual(1);
    expect(readsInWindow).toBeLessThanOrEqual(3); // one read (with the SDK's own attempts for a throttle), not one per request
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
  });
});
