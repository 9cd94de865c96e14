/**
 * The Secrets Manager client that ships (the AWS SDK's, with our options in lib/lambda/secret-reader.ts) against the
 * local Secrets Manager on 127.0.0.1: the endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER, one attempt per read, the
 * request timeout, the abort signal at the deadline, and AWS errors turned into ours.
 */
import { KeystoreError, KeystoreUnavailableError } from '../lib/errors';
import { SECRETS_MANAGER_CLIENT_OPTIONS, secretsManagerReader } from '../lib/lambda/secret-reader';
import { LocalSecretsManager } from '../infra/local/secrets-manager';

const saved = { ...process.env };
let secrets: LocalSecretsManager;
const secretId = 'mixin-conversations/test/reader';

beforeAll(async () => {
  secrets = await new LocalSecretsManager().start();
  secrets.put(secretId, '{"app_id":"a"}');
});
afterAll(() => secrets.stop());
beforeEach(() => {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
  });
  secrets.clearFaults();
});
afterEach(() => {
  process.env = { ...saved };
});

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => new Error('resolved'),
    (error: unknown) => error as Error,
  );
const reads = () => secrets.count('GetSecretValue');

describe('the Secrets Manager client as configured', () => {
  it('reads the secret at the endpoint AWS_ENDPOINT_URL_SECRETS_MANAGER names', async () => {
    const before = reads();
    await expect(secretsManagerReader(secretId)(new AbortController().signal)).resolves.toBe('{"app_id":"a"}');
    expect(reads()).toBe(before + 1);
  });

  it('makes one attempt per read: a throttled read fails at once as retryable, and a denied one as permanent', async () => {
    secrets.inject({ type: 'ThrottlingException', count: 1 });
    let before = reads();
    expect(await failureOf(secretsManagerReader(secretId)(new AbortController().signal))).toBeInstanceOf(
      KeystoreUnavailableError,
    );
    expect(reads()).toBe(before + 1);
    secrets.inject({ type: 'AccessDeniedException', count: 1 });
    before = reads();
    const denied = await failureOf(secretsManagerReader(secretId)(new AbortController().signal));
    expect(denied).toBeInstanceOf(KeystoreError);
    expect(denied.message).toContain('AccessDeniedException');
    expect(reads()).toBe(before + 1);
  });

  it('gives up on a silent Secrets Manager after its request timeout, and at once when aborted', async () => {
    secrets.inject({ type: 'hang' });
    const timeout = (SECRETS_MANAGER_CLIENT_OPTIONS.requestHandler as { requestTimeout: number }).requestTimeout;
    let started = Date.now();
    expect(await failureOf(secretsManagerReader(secretId)(new AbortController().signal))).toBeInstanceOf(
      KeystoreUnavailableError,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(timeout - 50);
    expect(Date.now() - started).toBeLessThan(timeout + 1_500);
    const abort = new AbortController();
    started = Date.now();
    const read = failureOf(secretsManagerReader(secretId)(abort.signal));
    setTimeout(() => abort.abort(), 100);
    expect(await read).toBeInstanceOf(KeystoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
