import {
  ConversationError,
  HttpRequestError,
  IdempotencyKeyReusedError,
  InvalidRequestError,
  KeystoreError,
  MixinRequestError,
} from '../errors';
import { ALARM_METRIC, countForAlarm, logger, METRIC, MetricUnit, metrics } from '../observability';

/**
 * Logs and counts one failure where its trigger ends it: a request or task in `observe`, a queue record in
 * `processBatch` (which adds the record's keys). A caller's mistake is counted as InvalidRequests, apart from
 * ConversationsFailed, so failure-rate alarms stay meaningful. An error that is not ours is a bug: logged at ERROR.
 */
export const reportFailure = (
  error: unknown,
  message = 'conversation not created',
  keys: Record<string, unknown> = {},
): void => {
  if (!(error instanceof ConversationError)) {
    logger.error('unhandled error', { ...keys, error: error as Error });
    return;
  }
  const mixinCode = error instanceof MixinRequestError ? error.code : undefined;
  logger.warn(message, {
    ...keys,
    error_name: error.name,
    error_message: error.message,
    retryable: error.retryable,
    details:
      error instanceof InvalidRequestError || error instanceof IdempotencyKeyReusedError ? error.details : undefined,
    mixin_code: mixinCode,
    attempts: error.attempts,
    conversation_id: error.conversationId,
    random_id: error.randomId,
  });
  const callersMistake =
    error instanceof InvalidRequestError ||
    error instanceof HttpRequestError ||
    error instanceof IdempotencyKeyReusedError;
  metrics.addMetric(callersMistake ? METRIC.invalid : METRIC.failed, MetricUnit.Count, 1);
  if (mixinCode !== undefined)
    metrics
      .singleMetric()
      .addDimension('mixin_code', String(mixinCode))
      .addMetric(METRIC.mixinError, MetricUnit.Count, 1);
  if (error instanceof MixinRequestError && error.credentialsRejected) countForAlarm(ALARM_METRIC.credentialsRejected);
  if (error instanceof KeystoreError) countForAlarm(ALARM_METRIC.keystoreInvalid);
};
