import type { Context } from 'aws-lambda';
import type { ServiceConfig } from '../config';
import type { UseCase, UseCaseContext, UseCaseResult } from '../conversations';
import { initialRate, processRateLimiter } from '../mixin/rate-limiter';
import type { AttemptReport } from '../mixin/request';
import { WHEN_PAUSED } from '../mixin/retry';
import { logger, METRIC, MetricUnit, metrics } from '../observability';
import { deadlineOf } from './deadline';
import type { KeystoreContext } from './middleware/keystore';

/**
 * Mixin's latency, every answered attempt, written in groups: at most every 10 s (or 100 values), as one metric with
 * many values in the invocation's metrics line. One value per request cost about a third of a warm invocation
 * (`npm run bench`, warm p50); a frozen or reclaimed instance may take its last 10 s of values with it.
 */
const latencies: number[] = [];
let latenciesWrittenAt = Number.NEGATIVE_INFINITY;
const reportLatency = (ms: number): void => {
  latencies.push(ms);
  const now = Date.now();
  if (latencies.length < 100 && now - latenciesWrittenAt < 10_000) return;
  for (const value of latencies) metrics.addMetric(METRIC.latency, MetricUnit.Milliseconds, value);
  latencies.length = 0;
  latenciesWrittenAt = now;
};

const reportAttempt = (attempt: AttemptReport): void => {
  if (attempt.answered) reportLatency(attempt.durationMs);
  if (attempt.outcome === 'rate-limited') metrics.addMetric(METRIC.rateLimited, MetricUnit.Count, 1);
  if (attempt.outcome === 'success') return;
  logger.warn('Mixin attempt failed', {
    attempt: attempt.attempt,
    request_id: attempt.requestId,
    outcome: attempt.outcome,
    mixin_code: attempt.code,
    reason: attempt.reason,
    duration_ms: attempt.durationMs,
    next_delay_ms: attempt.nextDelayMs,
  });
  if (attempt.nextDelayMs !== undefined) metrics.addMetric(METRIC.retries, MetricUnit.Count, 1);
};

let lastCallRate: { rate: number; at: number } | undefined;

/**
 * A request instance's call rate (a gauge): when it changed, else once a minute. Per request it cost about a third
 * of a warm invocation (`npm run bench`, warm p50), and a rate that does not change says nothing new.
 */
const reportCallRate = (rate: number): void => {
  const now = Date.now();
  if (lastCallRate && lastCallRate.rate === rate && now - lastCallRate.at < 60_000) return;
  lastCallRate = { rate, at: now };
  metrics.addMetric(METRIC.callRate, MetricUnit.CountPerSecond, rate);
};

/** The conversation a use case's result is about, if it is about one. */
export const conversationIdOf = (result: unknown): string | undefined =>
  (result as { conversation?: { conversation_id?: string } } | undefined)?.conversation?.conversation_id;

/** A tighter limit than the function's own deadline: a queue record stops where its batch's end reserve begins. */
export interface RecordBudget {
  /** Epoch ms by which the record's Mixin calls must have ended. */
  deadline: number;
}

/**
 * Runs one use case for one input with the loaded keystore and a deadline taken from the Lambda's remaining
 * time (or the record's `budget`, when it ends sooner), so that we answer before Lambda kills us. Counts a success with the use case's own metric;
 * rethrows failures as they are (they are reported where the trigger ends them: observe, processBatch).
 */
export const runUseCase = async <R extends UseCaseResult>(
  useCase: UseCase<R>,
  input: unknown,
  context: Context & KeystoreContext,
  config: ServiceConfig,
  idempotencyKey?: string,
  budget?: RecordBudget,
): Promise<R> => {
  const ownDeadline = deadlineOf(context, config.deadlineMarginMs);
  const byReserve = budget !== undefined && (ownDeadline === undefined || budget.deadline < ownDeadline);
  const ctx: UseCaseContext = {
    keys: { keystore: context.keystore, reload: context.reloadKeystore },
    mixin: {
      baseUrl: config.mixinApiUrl,
      attemptTimeoutMs: config.attemptTimeoutMs,
      maxAttempts: config.maxAttempts,
      deadline: byReserve ? budget.deadline : ownDeadline,
      deadlineReason: byReserve ? 'batch-reserve' : 'deadline',
      onAttempt: reportAttempt,
      limiter: processRateLimiter({
        ceilingPerSecond: config.mixinMaxCallsPerSecond,
        initialPerSecond: initialRate(config.mixinMaxCallsPerSecond, budget ? 'queue' : 'request'),
        paceBeforeFirst429: budget !== undefined,
      }),
      whenPaused: budget ? WHEN_PAUSED.queue : WHEN_PAUSED.request,
    },
  };
  // A queue batch reports the instance's rate once, at its end (processBatch).
  if (!budget) reportCallRate(ctx.mixin.limiter!.rate);
  if (idempotencyKey !== undefined) ctx.idempotencyKey = idempotencyKey;
  const result = await useCase(input, ctx);
  // A success is one line, the EMF line of its metric, which carries what an operator looks for: no separate log line
  // (it cost about a tenth of a warm invocation). Queue records add their own line (processBatch).
  const conversationId = conversationIdOf(result);
  if (conversationId !== undefined) metrics.addMetadata('conversation_id', conversationId);
  metrics.addMetadata('attempts', String(result.attempts));
  metrics.addMetadata('request_id', context.awsRequestId);
  metrics.addMetric(useCase.successMetric, MetricUnit.Count, 1);
  return result;
};
