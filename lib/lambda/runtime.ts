import type { Context } from 'aws-lambda';
import { loadConfig } from '../config';
import { MixinUnavailableError } from '../errors';
import { initialRate, processRateLimiter } from '../mixin/rate-limiter';
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

/**
 * Longest delay of a re-sent copy: the instance's own wait can be long (it is one of several sharing the bot's
 * limit), and another instance may have room sooner; a copy seen too early only waits again, without calling Mixin.
 * (At R=2/s, N=300: 5 s drained in 1.17x N/R, 10 s in 1.27x.)
 */
const MAX_DEFER_SECONDS = 5;

/** How a queue function works through a batch: its settings, and its deadline from the invocation's remaining time. */
export const batchOptions = (context: Pick<Context, 'getRemainingTimeInMillis'>): BatchOptions => ({
  concurrency: config.queueConcurrency,
  deadLetterQueueUrl: config.deadLetterQueueUrl,
  sourceQueueUrl: config.sourceQueueUrl,
  maxReceiveCount: config.maxReceiveCount,
  maxDeferredAgeMs: config.maxDeferredAgeMs,
  maxDeferSeconds: MAX_DEFER_SECONDS,
  limiter: processRateLimiter({
    ceilingPerSecond: config.mixinMaxCallsPerSecond,
    initialPerSecond: initialRate(config.mixinMaxCallsPerSecond, 'queue'),
  }),
  deadline: Date.now() + context.getRemainingTimeInMillis() - config.deadlineMarginMs,
  endReserveMs: config.batchEndReserveMs,
});

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
