/**
 * The keystore cache over time: re-read after the TTL, the last good key kept while Secrets Manager fails
 * (no background refresh that could reject unhandled), one shared re-read for a batch of 401s.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { loadConfig } from '../lib/config';
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

const contact = async (handler: Http) => (await handler(httpEvent(JSON.stringify({ participants: [{ user_id: randomUUID() }] }), { path: '/contacts' }), lambdaContext())).statusCode;
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
    expect((await queue(sqsEvent([JSON.stringify({ participants: [{ user_id: randomUUID() }] })]), lambdaContext())).batchItemFailures).toEqual([]);
    const rotated = makeBot(h.bot.keystore.appId);
    h.sandbox.registerApp(rotated.app);
    h.secrets.put(h.secretId, JSON.stringify(rotated.json));
    h.sandbox.latencyMs = 20; // let the records' first attempts overlap
    const before = h.secrets.count();
    const batch = sqsEvent(Array.from({ length: 5 }, () => JSON.stringify({ participants: [{ user_id: randomUUID() }] })));
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
    [{ KEYSTORE_RETRY_AFTER_FAILURE_SECONDS: '0' }, /KEYSTORE_RETRY_AFTER_FAILURE_SECONDS must be an integer from 1 to 3600/],
    [{ DEAD_LETTER_QUEUE_URL: '[object Object]' }, /DEAD_LETTER_QUEUE_URL must be an SQS queue URL/],
  ])('fails the cold start loudly on %p', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('refuses a MIXIN_API_URL with credentials without repeating them, however malformed', () => {
    expect(() => loadConfig({ MIXIN_API_URL: 'https://user:s3cr3t@api.mixin.one' })).toThrow(/must not carry a user name or password/);
    for (const url of ['https://user:s3cr3t@api.mixin.one', 'https://u:s3cr3t@', 'https://u:s3cr3t@[bad', 'u:s3cr3t@x.example', 'https://x.example/?p=s3cr3t', 'https://x.example#s3cr3t']) {
      expect(() => loadConfig({ MIXIN_API_URL: url })).toThrow(/MIXIN_API_URL/);
      expect(() => loadConfig({ MIXIN_API_URL: url })).not.toThrow(/s3cr3t/);
    }
  });

  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({ keystoreSecretId: '', mixinApiUrl: 'https://api.mixin.one', keystoreCacheTtlMs: 300_000, keystoreRetryAfterFailureMs: 10_000, deadLetterQueueUrl: undefined, attemptTimeoutMs: 5_000, maxAttempts: 4, deadlineMarginMs: 500, queueConcurrency: 5, batchEndReserveMs: 2_000, mixinMaxCallsPerSecond: 0, sourceQueueUrl: undefined, maxReceiveCount: undefined, maxDeferredAgeMs: 345_600_000 });
    expect(loadConfig({ MIXIN_API_URL: 'http://127.0.0.1:4100/' }).mixinApiUrl).toBe('http://127.0.0.1:4100');
  });
});
