import { DEFAULT_MIXIN_API_URL } from './constants';

/** Everything the functions read from the environment, parsed once per cold start. */
export interface ServiceConfig {
  /** Name or ARN of the Secrets Manager secret holding the keystore JSON. */
  keystoreSecretId: string;
  mixinApiUrl: string;
  keystoreCacheTtlMs: number;
  /** After a failed read of the keystore secret (or a re-read that returned the key Mixin refused), how long before it is read again. */
  keystoreRetryAfterFailureMs: number;
  /** With a good key in hand, how long a request may wait for a refresh of the keystore before going on with that key. */
  keystoreRefreshWaitMs: number;
  attemptTimeoutMs: number;
  maxAttempts: number;
  /** How long before the Lambda's own timeout we stop waiting for Mixin and answer. */
  deadlineMarginMs: number;
  queueConcurrency: number;
  /** The queue function's own dead-letter queue (queue functions only): records that can never succeed go there at once. */
  deadLetterQueueUrl: string | undefined;
  /** The queue function's own queue: records held back by Mixin's rate limit are re-sent there as delayed copies. */
  sourceQueueUrl: string | undefined;
  /** The own queue's maxReceiveCount (infra/queues.yml): a record dead-letters itself after this many real failures across copies. */
  maxReceiveCount: number | undefined;
  /** A record still deferred this long after it was first sent goes to the DLQ (MixinRateLimitError). */
  maxDeferredAgeMs: number;
  /** Calls per second each instance never exceeds, whatever its rate limiter learnt (0: no ceiling). */
  mixinMaxCallsPerSecond: number;
  /** Time a queue batch keeps at its end for its sends (dead letters, re-sent copies): no Mixin call runs into it. */
  batchEndReserveMs: number;
}

/** Every default of the README's configuration table, in one place: code that needs one outside loadConfig reads it here. */
export const CONFIG_DEFAULTS = {
  mixinApiUrl: DEFAULT_MIXIN_API_URL,
  keystoreCacheTtlSeconds: 300,
  keystoreRetryAfterFailureSeconds: 10,
  keystoreRefreshWaitMs: 250,
  attemptTimeoutMs: 5_000,
  maxAttempts: 4,
  deadlineMarginMs: 500,
  queueConcurrency: 5,
  batchEndReserveMs: 2_000,
  mixinMaxCallsPerSecond: 0,
  maxReceiveCount: 5,
  maxDeferredAgeSeconds: 345_600, // 4 days, SQS's default retention
  serviceName: 'mixin-conversations',
  metricsNamespace: 'MixinConversations',
} as const;

const D = CONFIG_DEFAULTS;

/**
 * A numeric setting as written: undefined when unset or empty; its value when plain digits (and, with `fraction`, one
 * decimal fraction); NaN when written any other way, so that " 4 ", "0x4" or "4e0" fails its range check. Shared
 * with `npm start`'s own settings (infra/local/env-values.ts).
 */
export const plainNumber = (env: NodeJS.ProcessEnv, name: string, fraction = false): number | undefined => {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  return (fraction ? /^\d+(?:\.\d+)?$/ : /^\d+$/).test(raw) ? Number(raw) : Number.NaN;
};

const integer = (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number => {
  const value = plainNumber(env, name);
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${env[name]}"`);
  return value;
};

/**
 * A ceiling on calls per second: 0 (none), or a decimal from 0.1 to 1000 (digits and an optional fraction only): a
 * fraction states an instance's share of a slow limit (five instances sharing 2 calls a second: 0.4 each).
 */
const callsPerSecond = (env: NodeJS.ProcessEnv, name: string, fallback: number): number => {
  const value = plainNumber(env, name, true);
  if (value === undefined) return fallback;
  if (!(value === 0 || (value >= 0.1 && value <= 1_000)))
    throw new Error(`${name} must be 0 (no ceiling) or a number from 0.1 to 1000, got "${env[name]}"`);
  return value;
};

/** Mixin is reached at its origin: a path prefix would change the URI that every token signs. */
const mixinOrigin = (raw: string | undefined): string => {
  if (!raw) return D.mixinApiUrl;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('MIXIN_API_URL must be a URL such as https://api.mixin.one'); // never echoed: it may carry a password
  }
  // Never echo a URL that carries credentials: the message reaches logs.
  if (url.username || url.password)
    throw new Error(
      'MIXIN_API_URL must not carry a user name or password (Mixin authenticates every request with the bot key)',
    );
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search ||
    url.hash
  ) {
    throw new Error('MIXIN_API_URL must be an origin such as https://api.mixin.one (no path, query or fragment)');
  }
  return url.origin;
};

/** A value every deployment sets: missing or empty fails the cold start instead of every request. */
const required = (env: NodeJS.ProcessEnv, name: string, what: string): string => {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') throw new Error(`${name} must be set: ${what}`);
  return raw;
};

const optionalUrl = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!URL.canParse(raw) || !/^https?:/.test(raw)) throw new Error(`${name} must be an SQS queue URL, got "${raw}"`);
  return raw;
};

/** Reads the configuration table of the README from `env`; a bad value fails the cold start loudly. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): ServiceConfig => ({
  mixinApiUrl: mixinOrigin(env.MIXIN_API_URL),
  keystoreCacheTtlMs: integer(env, 'KEYSTORE_CACHE_TTL_SECONDS', D.keystoreCacheTtlSeconds, 1, 86_400) * 1000,
  keystoreRetryAfterFailureMs:
    integer(env, 'KEYSTORE_RETRY_AFTER_FAILURE_SECONDS', D.keystoreRetryAfterFailureSeconds, 1, 3_600) * 1000,
  keystoreRefreshWaitMs: integer(env, 'KEYSTORE_REFRESH_WAIT_MS', D.keystoreRefreshWaitMs, 10, 60_000),
  attemptTimeoutMs: integer(env, 'MIXIN_ATTEMPT_TIMEOUT_MS', D.attemptTimeoutMs, 100, 60_000),
  maxAttempts: integer(env, 'MIXIN_MAX_ATTEMPTS', D.maxAttempts, 1, 10),
  // At least 100 ms: below it middy's own early timeout (5 ms before the Lambda's) could fire first and fail a whole
  // queue batch instead of answering with a partial batch response.
  deadlineMarginMs: integer(env, 'DEADLINE_MARGIN_MS', D.deadlineMarginMs, 100, 60_000),
  queueConcurrency: integer(env, 'QUEUE_CONCURRENCY', D.queueConcurrency, 1, 100),
  deadLetterQueueUrl: optionalUrl(env, 'DEAD_LETTER_QUEUE_URL'),
  batchEndReserveMs: integer(env, 'BATCH_END_RESERVE_MS', D.batchEndReserveMs, 100, 20_000),
  mixinMaxCallsPerSecond: callsPerSecond(env, 'MIXIN_MAX_CALLS_PER_SECOND', D.mixinMaxCallsPerSecond),
  sourceQueueUrl: optionalUrl(env, 'SOURCE_QUEUE_URL'),
  maxReceiveCount: env.MAX_RECEIVE_COUNT ? integer(env, 'MAX_RECEIVE_COUNT', D.maxReceiveCount, 1, 1_000) : undefined,
  maxDeferredAgeMs: integer(env, 'MAX_DEFERRED_AGE_SECONDS', D.maxDeferredAgeSeconds, 60, 1_209_600) * 1000,
  // Checked after the others, so that a bad value elsewhere is named first.
  keystoreSecretId: required(
    env,
    'MIXIN_KEYSTORE_SECRET_ID',
    'the name or ARN of the Secrets Manager secret holding the bot keystore',
  ),
});

/** What Powertools' logger and metrics are built with (they are built when lib/observability.ts loads, before loadConfig). */
export const observabilityConfig = (
  env: NodeJS.ProcessEnv = process.env,
): { serviceName: string; namespace: string } => ({
  serviceName: env.POWERTOOLS_SERVICE_NAME || D.serviceName,
  namespace: env.POWERTOOLS_METRICS_NAMESPACE || D.metricsNamespace,
});
