/**
 * The keystore cache over time: re-read after the TTL, the last good key kept while Secrets Manager fails
 * (no background refresh that could reject unhandled), one shared re-read for a batch of 401s.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { loadConfig } from '../lib/config';
import { secretsManagerReader } from '../lib/lambda/secret-reader';
import { KeystoreCache, type KeystoreCacheOptions } from '../lib/mixin/keystore-cache';
import { makeBot } from '../infra/local/keys';
import { type Harness, httpEvent, lambdaContext, type LambdaHandler, sqsEvent, startHarness } from './support/harness';

type Http = LambdaHandler<unknown, APIGatewayProxyStructuredResultV2>;
type Queue = LambdaHandler<unknown, SQSBatchResponse>;
let h: Harness;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  h = await startHarness({ KEYSTORE_CACHE_TTL_SECONDS: '1' });
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await h.stop();
});
beforeEach(() => {
  h.sandbox.reset();
  h.secrets.clearFaults();
  h.sandbox.registerApp(h.bot.app);
  h.secrets.put(h.secretId, JSON.stringify(h.bot.json));
});

const contact = async (handler: Http) =>
  (
    await handler(
      httpEvent(JSON.stringify({ participants: [{ user_id: randomUUID() }] }), { path: '/contacts' }),
      lambdaContext(),
    )
  ).statusCode;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('keystore cache', () => {
  it('re-reads the secret after KEYSTORE_CACHE_TTL_SECONDS, and not before', async () => {
    const handler = h.load<{ handler: Http }>('../../functions/create-contact/http').handler;
    expect(await contact(handler)).toBe(201);
    const reads = h.secrets.count();
    expect(await contact(handler)).toBe(201);
    expect(h.secrets.count()).toBe(reads);
    await sleep(1_100);
    expect(await contact(handler)).toBe(201);
    expect(h.secrets.count()).toBe(reads + 1);
  });

  it('keeps the last good keystore when a re-read fails, with no unhandled rejection, and re-reads once it heals', async () => {
    const handler = h.load<{ handler: Http }>('../../functions/create-contact/http').handler;
    expect(await contact(handler)).toBe(201);
    await sleep(1_100);
    h.secrets.inject({ type: 'InternalServiceError' });
    expect(await contact(handler)).toBe(201); // stale if error
    expect(await contact(handler)).toBe(201);
    await sleep(200);
    expect(unhandled).toEqual([]);
    h.secrets.clearFaults();
  });

  it('re-reads once for a whole batch of 401s after a key rotation', async () => {
    const queue = h.load<{ handler: Queue }>('../../functions/create-contact/queue').handler;
    expect(
      (await queue(sqsEvent([JSON.stringify({ participants: [{ user_id: randomUUID() }] })]), lambdaContext()))
        .batchItemFailures,
    ).toEqual([]);
    const rotated = makeBot(h.bot.keystore.appId);
    h.sandbox.registerApp(rotated.app);
    h.secrets.put(h.secretId, JSON.stringify(rotated.json));
    h.sandbox.latencyMs = 20; // let the records' first attempts overlap
    const before = h.secrets.count();
    const batch = sqsEvent(
      Array.from({ length: 5 }, () => JSON.stringify({ participants: [{ user_id: randomUUID() }] })),
    );
    expect(await queue(batch, lambdaContext())).toEqual({ batchItemFailures: [] });
    // Several records met the 401 at once; they shared one read of the rotated secret.
    expect(h.sandbox.requests.filter((r) => r.outcome.startsWith('error:401')).length).toBeGreaterThan(1);
    expect(h.secrets.count() - before).toBe(1);
  });
});

describe('configuration', () => {
  it.each([
    [{ KEYSTORE_CACHE_TTL_SECONDS: '0' }, /KEYSTORE_CACHE_TTL_SECONDS must be an integer from 1 to 86400/],
    [{ KEYSTORE_CACHE_TTL_SECONDS: '86401' }, /KEYSTORE_CACHE_TTL_SECONDS/],
    [{ MIXIN_MAX_ATTEMPTS: '0' }, /MIXIN_MAX_ATTEMPTS/],
    [{ QUEUE_CONCURRENCY: 'lots' }, /QUEUE_CONCURRENCY/],
    [{ MIXIN_API_URL: 'https://proxy.example/mixin' }, /MIXIN_API_URL must be an origin/],
    [{ MIXIN_API_URL: 'api.mixin.one' }, /MIXIN_API_URL must be a URL/],
    [{ MIXIN_MAX_ATTEMPTS: ' 4 ' }, /MIXIN_MAX_ATTEMPTS must be an integer/],
    [{ MIXIN_MAX_ATTEMPTS: '0x4' }, /MIXIN_MAX_ATTEMPTS must be an integer/],
    [{ QUEUE_CONCURRENCY: '4e0' }, /QUEUE_CONCURRENCY must be an integer/],
    [
      { KEYSTORE_RETRY_AFTER_FAILURE_SECONDS: '0' },
      /KEYSTORE_RETRY_AFTER_FAILURE_SECONDS must be an integer from 1 to 3600/,
    ],
    [{ DEAD_LETTER_QUEUE_URL: '[object Object]' }, /DEAD_LETTER_QUEUE_URL must be an SQS queue URL/],
    [{ KEYSTORE_REFRESH_WAIT_MS: '9' }, /KEYSTORE_REFRESH_WAIT_MS must be an integer from 10 to 60000/],
    [{ KEYSTORE_REFRESH_WAIT_MS: '60001' }, /KEYSTORE_REFRESH_WAIT_MS/],
  ])('fails the cold start loudly on %p', (env, message) => {
    expect(() => loadConfig({ MIXIN_KEYSTORE_SECRET_ID: 'mixin/keystore', ...env })).toThrow(message);
  });

  it.each([
    ['0', 0],
    ['0.4', 0.4],
    ['2', 2],
    ['1000', 1000],
  ])(
    'MIXIN_MAX_CALLS_PER_SECOND %p is a ceiling of %p calls a second (a fraction states a share of a slow limit)',
    (raw, rate) => {
      expect(
        loadConfig({ MIXIN_KEYSTORE_SECRET_ID: 'k', MIXIN_MAX_CALLS_PER_SECOND: raw }).mixinMaxCallsPerSecond,
      ).toBe(rate);
    },
  );

  it.each(['0.05', '1001', '-1', 'abc', '1e2', '0x10', ' 2 ', '.5', '2.'])(
    'refuses MIXIN_MAX_CALLS_PER_SECOND %p, naming it and the range',
    (raw) => {
      expect(() => loadConfig({ MIXIN_KEYSTORE_SECRET_ID: 'k', MIXIN_MAX_CALLS_PER_SECOND: raw })).toThrow(
        `MIXIN_MAX_CALLS_PER_SECOND must be 0 (no ceiling) or a number from 0.1 to 1000, got "${raw}"`,
      );
    },
  );

  it.each([{}, { MIXIN_KEYSTORE_SECRET_ID: '' }, { MIXIN_KEYSTORE_SECRET_ID: '  ' }])(
    'fails the cold start loudly, naming the variable, without a keystore secret: %p',
    (env) => {
      expect(() => loadConfig(env)).toThrow(/^MIXIN_KEYSTORE_SECRET_ID must be set/);
    },
  );

  it('a handler without a keystore secret fails to load instead of answering every request', () => {
    const saved = process.env.MIXIN_KEYSTORE_SECRET_ID;
    process.env.MIXIN_KEYSTORE_SECRET_ID = '';
    try {
      expect(() => h.load('../../functions/create-contact/http')).toThrow(/MIXIN_KEYSTORE_SECRET_ID must be set/);
    } finally {
      process.env.MIXIN_KEYSTORE_SECRET_ID = saved;
    }
  });

  it('a DEADLINE_MARGIN_MS as long as the invocation (valid, but above a 10 s HTTP timeout) keeps half the time and says so, instead of answering every request 503 keystore_unavailable', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { DEADLINE_MARGIN_MS: '20000', POWERTOOLS_LOG_LEVEL: 'WARN' });
    try {
      const http = h.load<{ handler: Http }>('../../functions/create-contact/http').handler;
      const lines: string[] = [];
      jest.spyOn(console, 'warn').mockImplementation((line: string) => void lines.push(line));
      jest.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
      const response = await http(
        httpEvent(JSON.stringify({ participants: [{ user_id: randomUUID() }] }), { path: '/contacts' }),
        lambdaContext(10_000),
      );
      expect([response.statusCode, response.body]).toEqual([201, expect.any(String)]);
      const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(warned).toEqual([
        expect.objectContaining({
          level: 'WARN',
          deadline_margin_ms: 20_000,
          message: expect.stringMatching(/^DEADLINE_MARGIN_MS/),
        }),
      ]);
    } finally {
      process.env = saved;
      jest.restoreAllMocks();
    }
  });

  it('refuses a MIXIN_API_URL with credentials without repeating them, however malformed', () => {
    const secret = { MIXIN_KEYSTORE_SECRET_ID: 'mixin/keystore' };
    expect(() => loadConfig({ ...secret, MIXIN_API_URL: 'https://user:s3cr3t@api.mixin.one' })).toThrow(
      /must not carry a user name or password/,
    );
    for (const url of [
      'https://user:s3cr3t@api.mixin.one',
      'https://u:s3cr3t@',
      'https://u:s3cr3t@[bad',
      'u:s3cr3t@x.example',
      'https://x.example/?p=s3cr3t',
      'https://x.example#s3cr3t',
    ]) {
      expect(() => loadConfig({ ...secret, MIXIN_API_URL: url })).toThrow(/MIXIN_API_URL/);
      expect(() => loadConfig({ ...secret, MIXIN_API_URL: url })).not.toThrow(/s3cr3t/);
    }
  });

  it('has the documented defaults', () => {
    const secret = { MIXIN_KEYSTORE_SECRET_ID: 'mixin/keystore' };
    expect(loadConfig(secret)).toEqual({
      keystoreSecretId: 'mixin/keystore',
      mixinApiUrl: 'https://api.mixin.one',
      keystoreCacheTtlMs: 300_000,
      keystoreRetryAfterFailureMs: 10_000,
      keystoreRefreshWaitMs: 250,
      deadLetterQueueUrl: undefined,
      attemptTimeoutMs: 5_000,
      maxAttempts: 4,
      deadlineMarginMs: 500,
      queueConcurrency: 5,
      batchEndReserveMs: 2_000,
      mixinMaxCallsPerSecond: 0,
      sourceQueueUrl: undefined,
      maxReceiveCount: undefined,
      maxDeferredAgeMs: 345_600_000,
    });
    expect(loadConfig({ ...secret, MIXIN_API_URL: 'http://127.0.0.1:4100/' }).mixinApiUrl).toBe(
      'http://127.0.0.1:4100',
    );
  });
});

describe('KeystoreCache on its own (no Lambda context)', () => {
  const cacheOf = (secretId: string, options: Partial<KeystoreCacheOptions> = {}) =>
    new KeystoreCache({
      read: secretsManagerReader(secretId),
      ttlMs: 60_000,
      retryAfterFailureMs: 60_000,
      refreshWaitMs: 250,
      ...options,
    });

  it('gives up on a read at the deadline it is given, aborts it, and tries again on the next get', async () => {
    const secretId = `mixin/unit-${randomUUID()}`;
    h.secrets.put(secretId, JSON.stringify(h.bot.json));
    h.secrets.inject({ type: 'hang', count: 1 });
    const cache = cacheOf(secretId);
    const started = Date.now();
    await expect(cache.get(Date.now() + 150)).rejects.toMatchObject({
      name: 'KeystoreUnavailableError',
      message: expect.stringContaining('deadline'),
    });
    expect(Date.now() - started).toBeLessThan(500);
    await sleep(50);
    expect(h.secrets.inFlight).toBe(0);
    expect((await cache.get(Date.now() + 2_000)).publicKeyHex).toBe(h.bot.keystore.publicKeyHex);
  });

  it('reload: the key in hand again starts the quiet window; a rotated key is returned at once to every caller', async () => {
    const secretId = `mixin/unit-${randomUUID()}`;
    h.secrets.put(secretId, JSON.stringify(h.bot.json));
    const cache = cacheOf(secretId, { retryAfterFailureMs: 300 });
    const key = await cache.get();
    const reads = () => h.secrets.calls.filter((c) => c.secretId === secretId).length;
    expect(await cache.reload(key)).toBe(key);
    expect(await cache.reload(key)).toBe(key);
    expect(reads()).toBe(2); // the first get and one reload
    const rotated = makeBot(h.bot.keystore.appId);
    h.secrets.put(secretId, JSON.stringify(rotated.json));
    expect(await cache.reload(key)).toBe(key); // still in the window
    await sleep(350);
    const fresh = await cache.reload(key);
    expect(fresh.publicKeyHex).toBe(rotated.keystore.publicKeyHex);
    expect(await cache.reload(key)).toBe(fresh); // another record's 401 with the old key: no read
    expect(reads()).toBe(3);
  });
});
