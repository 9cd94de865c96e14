import type { Context } from 'aws-lambda';
import type { ServiceConfig } from '../config';
import type { UseCase, UseCaseContext, UseCaseResult } from '../conversations';
import type { AttemptReport } from '../mixin/request';
import { logger, METRIC, MetricUnit, metrics } from '../observability';
import type { KeystoreContext } from './middleware/keystore';

const reportAttempt = (attempt: AttemptReport): void => {
  if (attempt.outcome === 'success') return;
  logger.warn('Mixin attempt failed', { attempt: attempt.attempt, request_id: attempt.requestId, outcome: attempt.outcome, mixin_code: attempt.code, reason: attempt.reason, duration_ms: attempt.durationMs, next_delay_ms: attempt.nextDelayMs });
  if (attempt.nextDelayMs !== undefined) metrics.addMetric(METRIC.retries, MetricUnit.Count, 1);
};

/**
 * Runs one use case for one input with the loaded keystore and a deadline taken from the Lambda's remaining
 * time, so that we answer before Lambda kills us. Logs a success and counts it with the use case's own metric;
 * rethrows failures as they are (they are reported where the trigger ends them: observe, processBatch).
 */
export const runUseCase = async <R extends UseCaseResult>(
  useCase: UseCase<R>,
  input: unknown,
  context: Context & KeystoreContext,
  config: ServiceConfig,
  idempotencyKey?: string,
): Promise<R> => {
  const remaining = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  const ctx: UseCaseContext = {
    keys: { keystore: context.keystore, reload: context.reloadKeystore },
    mixin: {
      baseUrl: config.mixinApiUrl,
      attemptTimeoutMs: config.attemptTimeoutMs,
      maxAttempts: config.maxAttempts,
      deadline: remaining === undefined ? undefined : Date.now() + remaining - config.deadlineMarginMs,
      onAttempt: reportAttempt,
    },
  };
  if (idempotencyKey !== undefined) ctx.idempotencyKey = idempotencyKey;
  const result = await useCase(input, ctx);
  const conversationId = (result as { conversation?: { conversation_id?: string } }).conversation?.conversation_id;
  logger.info('use case succeeded', { success_metric: useCase.successMetric, conversation_id: conversationId, attempts: result.attempts });
  metrics.addMetric(useCase.successMetric, MetricUnit.Count, 1);
  return result;
};
