import { loadConfig } from '../config';
import { MixinUnavailableError } from '../errors';
import type { KeystoreLoaderOptions } from './middleware/keystore';
import type { BatchOptions } from './sqs-batch';

/** The configuration of this process, read once at cold start (README "Configuration"). */
export const config = loadConfig();

/** Where and for how long the keystore secret is read. */
export const keystoreOptions: KeystoreLoaderOptions = {
  secretId: config.keystoreSecretId,
  cacheTtlMs: config.keystoreCacheTtlMs,
  retryAfterFailureMs: config.keystoreRetryAfterFailureMs,
  refreshWaitMs: config.keystoreRefreshWaitMs,
  deadlineMarginMs: config.deadlineMarginMs,
};

/** How a queue function works through a batch. */
export const batchOptions: BatchOptions = { concurrency: config.queueConcurrency, deadLetterQueueUrl: config.deadLetterQueueUrl };

/**
 * middy's options for every handler. middy stops waiting for a handler a few milliseconds before the Lambda
 * timeout (before our own deadline when DEADLINE_MARGIN_MS is tiny) and throws its own `TimeoutError`: this is the
 * one place it becomes ours, a retryable MixinUnavailableError (`deadline`) that every trigger maps and counts.
 */
export const handlerOptions = {
  timeoutEarlyResponse: (): never => {
    throw MixinUnavailableError.deadlineBeforeMixin('the function ran out of time');
  },
};
