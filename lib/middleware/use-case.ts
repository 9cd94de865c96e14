import type { Context } from 'aws-lambda';
import type { ServiceConfig } from '../config';
import type { CreateResult, UseCaseContext } from '../conversations';
import type { AttemptReport } from '../mixin/request';
import { logger, METRIC, MetricUnit, metrics } from '../observability';
import type { KeystoreContext } from './keystore';

export type UseCase = (input: unknown, ctx: UseCaseContext) => Promise<CreateResult>;

const reportAttempt = (attempt: AttemptReport): void => {
  if (attempt.outcome === 'success') return;
  logger.warn('Mixin attempt failed', { attempt: attempt.attempt, request_id: attempt.requestId, outcome: attempt.outcome, mixin_code: attempt.code, reason: attempt.reason, duration_ms: attempt.durationMs, next_delay_ms: attempt.nextDelayMs });
  if (attempt.nextDelayMs !== undefined) metrics.addMetric(METRIC.retries, MetricUnit.Count, 1);
};

/**
 * Runs one use case for one input with the loaded keystore and a deadline taken from the Lambda's remaining
 * time, so that we answer before Lambda kills us. Logs and counts a success; rethrows failures as they are.
 */
export const runUseCase = async (
  useCase: UseCase,
  input: unknown,
  context: Context & KeystoreContext,
  config: ServiceConfig,
  idempotencyKey?: string,
): Promise<CreateResult> => {
  const remaining = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
  const ctx: UseCaseContext = {
    keystore: context.keystore,
    reloadKeystore: context.reloadKeystore,
    mixin: {
      baseUrl: config.mixinApiUrl,
      attemptTimeoutMs: config.attemptTimeoutMs,
      maxAttempts: config.maxAttempts,
      deadline: remaining === undefined ? undefined : Date.now() + remaining - config.deadlineMarginMs,
      onAttempt: reportAttempt,
    },
  };
  if (idempotencyKey !== undefined) ctx.idempotencyKey = idempotencyKey;
  // Failures are reported where the trigger ends them (observe, processBatch), with the trigger's own keys.
  const result = await useCase(input, ctx);
  logger.info('conversation ready', { conversation_id: result.conversation.conversation_id, attempts: result.attempts });
  metrics.addMetric(METRIC.created, MetricUnit.Count, 1);
  return result;
};
