/**
 * Stands in for '@aws-sdk/client-secrets-manager' in the Lambda bundles (serverless.yml custom.esbuild.alias): the
 * one call the functions make, `new SecretsManagerClient(config).send(new GetSecretValueCommand(input), { abortSignal })`,
 * as one SigV4-signed `POST /` (AWS JSON 1.1) over node:https. The SDK's client (its schema-based protocol, middleware
 * stack, endpoint rules engine, event-stream and checksum code) is about 170 KB minified and most of the cold start
 * that the floor does not spend (`npm run bench`, perf notes in the README); this is about 3 KB.
 *
 * What it keeps of the SDK's contract: credentials from the environment (the Lambda role's, as
 * infra/aws-credentials-from-env.mjs), the region from `config.region` or AWS_REGION, the endpoint from
 * `config.endpoint`, AWS_ENDPOINT_URL_SECRETS_MANAGER or AWS_ENDPOINT_URL, else the regional one (FIPS with
 * AWS_USE_FIPS_ENDPOINT=true; `amazonaws.com.cn` in China), `maxAttempts` tries with the standard retry strategy's
 * classes (throttling, 5xx, timeouts and resets) and full-jitter backoff, `requestHandler.connectionTimeout` and
 * `requestTimeout`, the abort signal, and errors named by the service's `__type` with `$fault` and `$metadata`.
 * What it leaves out: other commands (refused: tests and tools that need more use the real SDK, they are not bundled
 * with this), endpoint and region providers (strings only), clock-skew correction, and output conversion (the
 * service's JSON as sent, but for `SecretBinary`, bytes as in the SDK: `CreatedDate` stays epoch seconds).
 */
const crypto = process.getBuiltinModule('node:crypto');

const SERVICE = 'secretsmanager';
const THROTTLING = new Set([
  'ThrottlingException', 'Throttling', 'ThrottledException', 'RequestThrottledException', 'TooManyRequestsException',
  'ProvisionedThroughputExceededException', 'TransactionInProgressException', 'RequestLimitExceeded',
  'BandwidthLimitExceeded', 'LimitExceededException', 'RequestThrottled', 'SlowDown', 'PriorRequestNotComplete',
  'EC2ThrottledException',
]);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);
const TRANSIENT_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'TimeoutError', 'RequestTimeout']);
const MAX_BACKOFF_MS = 20_000;

const sha256Hex = (data) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

/** The endpoint of the service for a region, as the SDK's rules give it for the partitions we deploy to. */
export const regionalEndpoint = (region, useFips = /^true$/i.test(process.env.AWS_USE_FIPS_ENDPOINT ?? '')) => {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://${SERVICE}${useFips ? '-fips' : ''}.${region}.${suffix}`;
};

/**
 * The SigV4 `authorization` header of a request whose path has no query and needs no escaping (AWS JSON protocols
 * post to `/`), signing every header given (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html).
 * `headers` must hold `x-amz-date`; names in lower case.
 */
export const sigV4Authorization = ({ method, path, headers, body, region, service, accessKeyId, secretAccessKey }) => {
  const amzDate = headers['x-amz-date'];
  const day = amzDate.slice(0, 8);
  const names = Object.keys(headers).sort();
  const canonical = [method, path, '', ...names.map((n) => `${n}:${String(headers[n]).trim().replace(/\s+/g, ' ')}`), '', names.join(';'), sha256Hex(body)].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), service), 'aws4_request');
  return `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${hmac(key, toSign).toString('hex')}`;
};

/** Headers of a signed AWS JSON 1.1 POST with the environment's credentials (the Lambda role's). */
const signedHeaders = (url, region, target, body, now = new Date()) => {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw Object.assign(new Error('Could not load credentials from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)'), { name: 'CredentialsProviderError' });
  }
  const headers = {
    'content-type': 'application/x-amz-json-1.1',
    host: url.host,
    'x-amz-date': now.toISOString().replace(/[-:]|\.\d{3}/g, ''),
    'x-amz-target': target,
  };
  if (process.env.AWS_SESSION_TOKEN) headers['x-amz-security-token'] = process.env.AWS_SESSION_TOKEN;
  const path = url.pathname || '/';
  headers.authorization = sigV4Authorization({ method: 'POST', path, headers, body, region, service: SERVICE, accessKeyId, secretAccessKey });
  headers['content-length'] = String(Buffer.byteLength(body));
  return headers;
};

/** One HTTP exchange with connect and request time limits; resolves with the status and the body text. */
const exchange = (url, headers, body, { connectionTimeout, requestTimeout, abortSignal }) =>
  new Promise((resolve, reject) => {
    const { request } = process.getBuiltinModule(url.protocol === 'http:' ? 'node:http' : 'node:https');
    const timeoutError = (what) => Object.assign(new Error(`${what} timed out`), { name: 'TimeoutError', code: 'ETIMEDOUT' });
    const req = request(url, { method: 'POST', headers, signal: abortSignal, timeout: requestTimeout || undefined }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(timeoutError('request')));
    if (connectionTimeout) {
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => req.destroy(timeoutError('connection')), connectionTimeout);
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
    }
    req.end(body);
  });

/** The service error of a non-2xx answer, shaped like the SDK's: `name`, `message`, `$fault`, `$metadata`. */
const serviceError = (answer) => {
  let data = {};
  try {
    data = JSON.parse(answer.text || '{}');
  } catch {
    // not JSON: named by its status below
  }
  const type = String(answer.headers['x-amzn-errortype'] ?? data.__type ?? data.code ?? `Http${answer.status}Error`);
  const name = type.split(':')[0].split('#').pop();
  const error = new Error(data.message ?? data.Message ?? name);
  return Object.assign(error, {
    name,
    $fault: answer.status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: answer.status, requestId: answer.headers['x-amzn-requestid'], attempts: 1 },
  });
};

const isRetryable = (error) =>
  THROTTLING.has(error.name) ||
  TRANSIENT_STATUS.has(error.$metadata?.httpStatusCode) ||
  TRANSIENT_NETWORK.has(error.code) ||
  TRANSIENT_NETWORK.has(error.name);

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

export class GetSecretValueCommand {
  constructor(input) {
    this.input = input;
    this.target = 'secretsmanager.GetSecretValue';
  }
}

export class SecretsManagerClient {
  constructor(config = {}) {
    this.config = config;
  }

  /** Sends the command with the SDK's standard retries; resolves with the service's output and `$metadata`. */
  async send(command, options = {}) {
    if (!(command instanceof GetSecretValueCommand)) throw new Error('this Secrets Manager client only sends GetSecretValueCommand');
    const region = this.config.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!region) throw Object.assign(new Error('Region is missing'), { name: 'Error' });
    const url = new URL(String(this.config.endpoint ?? process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? process.env.AWS_ENDPOINT_URL ?? regionalEndpoint(region)));
    const body = JSON.stringify(command.input);
    const maxAttempts = Math.max(1, Number(this.config.maxAttempts ?? 3));
    const { connectionTimeout, requestTimeout } = this.config.requestHandler ?? {};
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await exchange(url, signedHeaders(url, region, command.target, body), body, { connectionTimeout, requestTimeout, abortSignal: options.abortSignal });
        if (answer.status < 200 || answer.status >= 300) throw serviceError(answer);
        const output = JSON.parse(answer.text);
        // A blob travels as base64 in the JSON protocol; the SDK hands it over as bytes.
        if (typeof output.SecretBinary === 'string') output.SecretBinary = new Uint8Array(Buffer.from(output.SecretBinary, 'base64'));
        return { ...output, $metadata: { httpStatusCode: answer.status, requestId: answer.headers['x-amzn-requestid'], attempts: attempt } };
      } catch (error) {
        if (error.$metadata) error.$metadata.attempts = attempt;
        if (attempt >= maxAttempts || options.abortSignal?.aborted || !isRetryable(error)) throw error;
        const base = THROTTLING.has(error.name) ? 500 : 100;
        await sleep(Math.random() * Math.min(MAX_BACKOFF_MS, base * 2 ** (attempt - 1)), options.abortSignal);
      }
    }
  }

  destroy() {}
}
