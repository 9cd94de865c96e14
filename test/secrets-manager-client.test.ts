/**
 * infra/secrets-manager-client.mjs, the stand-in for '@aws-sdk/client-secrets-manager' in the Lambda bundles: it
 * signs as the AWS SDK signs (the real SDK is the oracle), and it reads the secret, retries, times out, aborts and
 * names its errors as the keystore middleware expects, against the local Secrets Manager on 127.0.0.1.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand as SdkGetSecretValueCommand, SecretsManagerClient as SdkSecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LocalSecretsManager } from '../infra/local/secrets-manager';
import { GetSecretValueCommand, regionalEndpoint, SecretsManagerClient, sigV4Authorization } from '../infra/secrets-manager-client.mjs';

const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', AWS_SESSION_TOKEN: 'session-token' };
const saved = { ...process.env };
let secrets: LocalSecretsManager;
const secretId = 'mixin-conversations/test/keystore';

beforeAll(async () => {
  secrets = await new LocalSecretsManager().start();
  secrets.put(secretId, '{"app_id":"a"}');
});
afterAll(() => secrets.stop());
beforeEach(() => {
  Object.assign(process.env, CREDENTIALS, { AWS_REGION: 'us-east-1' });
  secrets.clearFaults();
});
afterEach(() => {
  process.env = { ...saved };
});

const client = (options: ConstructorParameters<typeof SecretsManagerClient>[0] = {}) => new SecretsManagerClient({ endpoint: secrets.url, ...options });
const failureOf = (promise: Promise<unknown>) => promise.then(() => new Error('resolved'), (error: unknown) => error as Error & { $fault?: string; $metadata?: { httpStatusCode: number; attempts: number } });

describe('signature', () => {
  let server: Server;
  const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end('{"SecretString":"s"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('computes the AWS SDK own SigV4 signature for the request the SDK sent', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const sdk = new SdkSecretsManagerClient({ region: 'eu-west-1', endpoint: url });
    await sdk.send(new SdkGetSecretValueCommand({ SecretId: 'a/b c' }));
    sdk.destroy();
    const { headers, body } = seen.at(-1)!;
    const authorization = String(headers.authorization);
    const signed = /SignedHeaders=([^,]+)/.exec(authorization)![1]!.split(';');
    const signedValues = Object.fromEntries(signed.map((name) => [name, String(headers[name])]));
    const ours = sigV4Authorization({ method: 'POST', path: '/', headers: signedValues, body, region: 'eu-west-1', service: 'secretsmanager', accessKeyId: CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: CREDENTIALS.AWS_SECRET_ACCESS_KEY });
    expect(ours).toBe(authorization);
  });

  it('sends the headers the JSON 1.1 protocol needs, the session token signed', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await client({ endpoint: url, region: 'eu-west-1' }).send(new GetSecretValueCommand({ SecretId: 'a/b' }));
    const { headers, body } = seen.at(-1)!;
    expect(JSON.parse(body)).toEqual({ SecretId: 'a/b' });
    expect(headers).toMatchObject({ 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue', 'x-amz-security-token': 'session-token' });
    expect(String(headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/);
  });
});

describe('GetSecretValue', () => {
  it('reads the secret, with the service metadata', async () => {
    const out = await client().send(new GetSecretValueCommand({ SecretId: secretId }));
    expect(out.SecretString).toBe('{"app_id":"a"}');
    expect(out.$metadata).toMatchObject({ httpStatusCode: 200, attempts: 1 });
  });

  it('hands over a SecretBinary as bytes, as the SDK does', async () => {
    const binaryId = `${secretId}/binary`;
    secrets.put(binaryId, '{"app_id":"b"}', { binary: true });
    const ours = await client().send(new GetSecretValueCommand({ SecretId: binaryId }));
    const sdk = new SdkSecretsManagerClient({ endpoint: secrets.url, region: 'us-east-1' });
    const theirs = await sdk.send(new SdkGetSecretValueCommand({ SecretId: binaryId }));
    sdk.destroy();
    expect(ours.SecretBinary).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(ours.SecretBinary!).toString('utf8')).toBe('{"app_id":"b"}');
    expect(Buffer.from(ours.SecretBinary!)).toEqual(Buffer.from(theirs.SecretBinary!));
    expect(ours.SecretString).toBeUndefined();
  });

  it('reads the endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER when none is configured', async () => {
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.url;
    const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretId }));
    expect(out.SecretString).toBe('{"app_id":"a"}');
  });

  it('names a service error as the SDK does, and does not retry a client fault', async () => {
    const before = secrets.count();
    const error = await failureOf(client().send(new GetSecretValueCommand({ SecretId: 'no/such/secret' })));
    expect(error).toMatchObject({ name: 'ResourceNotFoundException', $fault: 'client', $metadata: { httpStatusCode: 400, attempts: 1 } });
    expect(secrets.count() - before).toBe(1);
  });

  it('retries throttling and server faults up to maxAttempts', async () => {
    secrets.inject({ type: 'ThrottlingException', count: 1 });
    secrets.inject({ type: 'InternalServiceError', count: 1 });
    const out = await client({ maxAttempts: 3 }).send(new GetSecretValueCommand({ SecretId: secretId }));
    expect(out.$metadata.attempts).toBe(3);

    secrets.inject({ type: 'InternalServiceError' });
    const before = secrets.count();
    const error = await failureOf(client({ maxAttempts: 2 }).send(new GetSecretValueCommand({ SecretId: secretId })));
    expect(error).toMatchObject({ name: 'InternalServiceError', $fault: 'server', $metadata: { attempts: 2 } });
    expect(secrets.count() - before).toBe(2);
  });

  it('gives up on a silent endpoint after requestTimeout, and stops at once when aborted', async () => {
    secrets.inject({ type: 'hang' });
    const started = Date.now();
    const timedOut = await failureOf(client({ maxAttempts: 1, requestHandler: { requestTimeout: 200 } }).send(new GetSecretValueCommand({ SecretId: secretId })));
    expect(timedOut.name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(2_000);

    const aborted = await failureOf(client({ maxAttempts: 3 }).send(new GetSecretValueCommand({ SecretId: secretId }), { abortSignal: AbortSignal.timeout(150) }));
    expect(aborted.name).toMatch(/AbortError|TimeoutError/);
  });

  it('fails before any call without credentials in the environment', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    const before = secrets.count();
    const error = await failureOf(client().send(new GetSecretValueCommand({ SecretId: secretId })));
    expect(error.name).toBe('CredentialsProviderError');
    expect(secrets.count()).toBe(before);
  });

  it('resolves the regional endpoint of each partition we deploy to', () => {
    expect(regionalEndpoint('eu-west-1', false)).toBe('https://secretsmanager.eu-west-1.amazonaws.com');
    expect(regionalEndpoint('us-gov-west-1', true)).toBe('https://secretsmanager-fips.us-gov-west-1.amazonaws.com');
    expect(regionalEndpoint('cn-north-1', false)).toBe('https://secretsmanager.cn-north-1.amazonaws.com.cn');
  });
});
