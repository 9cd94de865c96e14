import { DEFAULT_MIXIN_API_URL } from './constants';

/** Everything the functions read from the environment, parsed once per cold start. */
export interface ServiceConfig {
  /** Name or ARN of the Secrets Manager secret holding the keystore JSON. */
  keystoreSecretId: string;
  mixinApiUrl: string;
  keystoreCacheTtlMs: number;
  attemptTimeoutMs: number;
  maxAttempts: number;
  /** How long before the Lambda's own timeout we stop waiting for Mixin and answer. */
  deadlineMarginMs: number;
  queueConcurrency: number;
}

const positiveInt = (env: NodeJS.ProcessEnv, name: string, fallback: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
};

/** Reads the configuration table of the README from `env`; a bad value fails the cold start loudly. */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env): ServiceConfig => ({
  keystoreSecretId: env.MIXIN_KEYSTORE_SECRET_ID ?? '',
  mixinApiUrl: env.MIXIN_API_URL || DEFAULT_MIXIN_API_URL,
  keystoreCacheTtlMs: positiveInt(env, 'KEYSTORE_CACHE_TTL_SECONDS', 300) * 1000,
  attemptTimeoutMs: positiveInt(env, 'MIXIN_ATTEMPT_TIMEOUT_MS', 5_000),
  maxAttempts: Math.max(1, positiveInt(env, 'MIXIN_MAX_ATTEMPTS', 4)),
  deadlineMarginMs: positiveInt(env, 'DEADLINE_MARGIN_MS', 500),
  queueConcurrency: Math.max(1, positiveInt(env, 'QUEUE_CONCURRENCY', 5)),
});
