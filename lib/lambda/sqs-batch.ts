import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ConversationError, MixinRateLimitError, MixinUnavailableError } from '../errors';
import type { RateLimiter } from '../mixin/rate-limiter';
import { logger, METRIC, MetricUnit, metrics } from '../observability';
import { type DeadLetter, isDeadLetter, sendToDeadLetterQueue } from './dead-letter';
import {
  type Deferral,
  delaySecondsFor,
  failuresBefore,
  firstSentAt,
  fitsAsCopy,
  receiveCount,
  sendCopies,
} from './deferral';
import { reportFailure } from './report';
import { conversationIdOf, type RecordBudget } from './use-case';

/** What happens to one record: resolves when it succeeded, rejects when it failed. Its Mixin calls end by `budget.deadline`. */
export type RecordProcessor = (record: SQSRecord, budget: RecordBudget) => Promise<unknown>;

export interface BatchOptions {
  /** Records processed at once. */
  concurrency: number;
  /** The function's own dead-letter queue: records that can never succeed go there at once. Without it, every failure is reported. */
  deadLetterQueueUrl?: string | undefined;
  /** The function's own queue: records held back by the rate limit are re-sent there, delayed. Without it, they are reported. */
  sourceQueueUrl?: string | undefined;
  /** The queue's maxReceiveCount: a record dead-letters itself, with its reason, after this many real failures across copies. */
  maxReceiveCount?: number | undefined;
  /** A record still deferred this long after it was first sent is dead-lettered (MixinRateLimitError). */
  maxDeferredAgeMs?: number;
  /** Longest DelaySeconds of a copy: another instance may have room sooner than this one's own wait. */
  maxDeferSeconds?: number;
  /** Epoch ms by which the batch must have answered (the Lambda's deadline less DEADLINE_MARGIN_MS). */
  deadline?: number | undefined;
  /** Time kept at the end of the batch for its sends, at most a quarter of the batch's: no Mixin call runs into it (BATCH_END_RESERVE_MS). */
  endReserveMs?: number;
  /** The instance's rate limiter, for its rate metric (once per batch). */
  limiter?: RateLimiter | undefined;
}

/** Deferrals decided within this long of each other go out in one SendMessageBatch. */
const DEFERRAL_FLUSH_MS = 100;

/** Below this, a record is not worth starting: the reserve would cut its first attempt anyway. */
const MIN_RECORD_MS = 50;

const keysOf = (record: SQSRecord) => ({
  message_id: record.messageId,
  receive_count: record.attributes?.ApproximateReceiveCount,
});

/** Held back by the rate limit (or by the end reserve before it started): nothing failed, the record only has to wait. */
const waitsForRateLimit = (error: unknown): error is MixinRateLimitError | MixinUnavailableError =>
  error instanceof MixinRateLimitError ||
  (error instanceof MixinUnavailableError && error.reason === 'batch-reserve' && error.attempts === 0);

/**
 * Processes a batch with at most `concurrency` records in flight, as a partial batch response. Each record ends one
 * way, and no record is ever dropped:
 * - succeeded: done;
 * - can never succeed ({@link isDeadLetter}): sent to the dead-letter queue with its reason, done;
 * - held back by the rate limit (MixinRateLimitError, or not started before the end reserve): re-sent to the own
 *   queue as a delayed copy (lib/lambda/deferral.ts), done; after MAX_DEFERRED_AGE_SECONDS it is dead-lettered instead;
 * - failed for real (5xx, timeouts, keystore): reported in `batchItemFailures` for redelivery, or, at the
 *   maxReceiveCount-th real failure counted across copies, dead-lettered with its reason;
 * - and whatever of the above could not be sent is reported in `batchItemFailures`.
 *
 * The batch keeps `endReserveMs` (at most a quarter of its time) before its deadline for its end: records stop
 * starting Mixin calls where the reserve begins, and the sends get the reserve and an abort signal at the deadline.
 */
export const processBatch = async (
  event: SQSEvent,
  processRecord: RecordProcessor,
  options: BatchOptions,
): Promise<SQSBatchResponse> => {
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  // A short invocation keeps at most a quarter of its time: the reserve must not eat the work it is for.
  const reserve = Math.min(options.endReserveMs ?? 0, Math.max(0, (deadline - Date.now()) / 4));
  const budget: RecordBudget = { deadline: deadline - reserve };
  const failed = new Set<string>();
  const letters: DeadLetter[] = [];
  const deferrals: (Deferral & { error: ConversationError })[] = [];
  const signal = endSignal(deadline);
  // Copies go out as soon as they are decided (another instance may have room now), a few at a time, not at the
  // batch's end: the same send path, the same abort at the deadline.
  const sends: Promise<Set<string>>[] = [];
  let pending: Deferral[] = [];
  const flush = () => {
    if (pending.length > 0 && options.sourceQueueUrl) sends.push(sendCopies(options.sourceQueueUrl, pending, signal));
    pending = [];
  };
  const fail = (record: SQSRecord, error: unknown) => {
    failed.add(record.messageId);
    reportFailure(error, 'record failed', keysOf(record));
  };
  const handle = (record: SQSRecord, error: unknown) => {
    if (options.deadLetterQueueUrl && isDeadLetter(error)) return void letters.push({ record, error });
    if (options.sourceQueueUrl && waitsForRateLimit(error)) {
      const age = Date.now() - firstSentAt(record);
      // No room for a copy's attributes: it can only be reported, and at its last receive SQS would move it to the
      // DLQ without a reason. It goes there now, with one.
      const lastReceive =
        options.maxReceiveCount !== undefined && receiveCount(record) >= options.maxReceiveCount && !fitsAsCopy(record);
      if (
        options.deadLetterQueueUrl &&
        (lastReceive || (options.maxDeferredAgeMs !== undefined && age > options.maxDeferredAgeMs))
      ) {
        const tooOld = error instanceof MixinRateLimitError ? error : new MixinRateLimitError(0, 1, 'paused');
        return void letters.push({ record, error: tooOld });
      }
      const waitMs = error instanceof MixinRateLimitError ? error.retryAfterSeconds * 1000 : 0;
      const deferral = {
        record,
        error,
        delaySeconds: Math.min(options.maxDeferSeconds ?? Number.POSITIVE_INFINITY, delaySecondsFor(waitMs)),
      };
      deferrals.push(deferral);
      pending.push(deferral);
      if (pending.length === 1) setTimeout(flush, DEFERRAL_FLUSH_MS);
      return;
    }
    const realFailures = failuresBefore(record) + 1;
    if (
      options.deadLetterQueueUrl &&
      options.maxReceiveCount !== undefined &&
      realFailures >= options.maxReceiveCount &&
      error instanceof ConversationError
    ) {
      return void letters.push({ record, error });
    }
    fail(record, error);
  };
  let next = 0;
  const worker = async () => {
    while (next < event.Records.length) {
      const record = event.Records[next++]!;
      try {
        if (budget.deadline - Date.now() < MIN_RECORD_MS) throw MixinUnavailableError.batchReserve(0);
        const result = await processRecord(record, budget);
        logger.info('record succeeded', { ...keysOf(record), conversation_id: conversationIdOf(result) });
      } catch (error) {
        handle(record, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, event.Records.length) }, worker));
  flush();

  const [unsentLetters, ...unsentCopySets] = await Promise.all([
    letters.length > 0 ? sendToDeadLetterQueue(options.deadLetterQueueUrl!, letters, signal) : new Set<string>(),
    ...sends,
  ]);
  const unsentCopies = new Set(unsentCopySets.flatMap((set) => [...set]));
  for (const { record, error } of letters) {
    if (unsentLetters.has(record.messageId)) {
      failed.add(record.messageId);
      reportFailure(error, 'record failed', { ...keysOf(record), dead_letter_send_failed: true });
      continue;
    }
    reportFailure(error, 'record dead-lettered', {
      ...keysOf(record),
      real_failures: failuresBefore(record) + (waitsForRateLimit(error) ? 0 : 1),
    });
    metrics.singleMetric().addDimension('error_name', error.name).addMetric(METRIC.deadLettered, MetricUnit.Count, 1);
  }
  let deferred = 0;
  for (const { record, error, delaySeconds } of deferrals) {
    if (unsentCopies.has(record.messageId)) {
      failed.add(record.messageId);
      reportFailure(error, 'record failed', { ...keysOf(record), deferral_send_failed: true });
      continue;
    }
    deferred++;
    logger.info('record deferred', {
      ...keysOf(record),
      delay_seconds: delaySeconds,
      failure_count: failuresBefore(record),
    });
  }
  if (deferred > 0) metrics.addMetric(METRIC.deferred, MetricUnit.Count, deferred);
  if (options.limiter) metrics.addMetric(METRIC.callRate, MetricUnit.CountPerSecond, options.limiter.rate);
  // Each record's IDs are on its own line: the batch's metrics line names none of them.
  metrics.clearMetadata();
  // Report in batch order: easier to read in logs and tests.
  return {
    batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({
      itemIdentifier: r.messageId,
    })),
  };
};

/** Aborts the end sends at the batch's deadline: what is not sent by then is reported, never waited for. */
const endSignal = (deadline: number): AbortSignal | undefined =>
  Number.isFinite(deadline) ? AbortSignal.timeout(Math.max(0, deadline - Date.now())) : undefined;
