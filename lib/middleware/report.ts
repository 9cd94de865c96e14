import { InvalidRequestError, MixinRequestError } from '../errors';
import { logger, METRIC, MetricUnit, metrics } from '../observability';

/** An error raised on purpose (ours, or an HTTP envelope error): it has a stable name and says whether to retry. */
interface KnownError extends Error {
  retryable: boolean;
  attempts?: number;
  conversationId?: string;
  randomId?: string;
}

const isKnown = (error: unknown): error is KnownError => error instanceof Error && typeof (error as { retryable?: unknown }).retryable === 'boolean';

const reported = new WeakSet<object>();

/**
 * Logs and counts one failure, once, wherever it surfaces (the use case, a middleware's `before`). A caller's
 * mistake is counted as InvalidRequests, apart from ConversationsFailed, so failure-rate alarms stay meaningful.
 * An error that is not ours is a bug: logged at ERROR with its stack.
 */
export const reportFailure = (error: unknown): void => {
  if (typeof error !== 'object' || error === null || reported.has(error)) return;
  reported.add(error);
  if (!isKnown(error)) {
    logger.error('unhandled error', { error: error as Error });
    return;
  }
  const mixinCode = error instanceof MixinRequestError ? error.code : undefined;
  logger.warn('conversation not created', {
    error_name: error.name,
    error_message: error.message,
    retryable: error.retryable,
    mixin_code: mixinCode,
    attempts: error.attempts,
    conversation_id: error.conversationId,
    random_id: error.randomId,
  });
  const callersMistake = error instanceof InvalidRequestError || error.name === 'HttpRequestError';
  metrics.addMetric(callersMistake ? METRIC.invalid : METRIC.failed, MetricUnit.Count, 1);
  if (mixinCode !== undefined) metrics.singleMetric().addDimension('mixin_code', String(mixinCode)).addMetric(METRIC.mixinError, MetricUnit.Count, 1);
};
