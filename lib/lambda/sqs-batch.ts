import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MixinUnavailableError } from '../errors';
import { logger, METRIC, MetricUnit, metrics } from '../observability';
import { type DeadLetter, isDeadLetter, sendToDeadLetterQueue } from './dead-letter';
import { reportFailure } from './report';
import { conversationIdOf, type RecordBudget } from './use-case';

/** What happens to one record: resolves when it succeeded, rejects when it failed. Its Mixin calls end by `budget.deadline`. */
export type RecordProcessor = (record: SQSRecord, budget: RecordBudget) => Promise<unknown>;

export interface BatchOptions {
  /** Records processed at once. */
  concurrency: number;
  /** The function's own dead-letter queue: records that can never succeed go there at once. Without it, every failure is reported. */
  deadLetterQueueUrl?: string | undefined;
  /** Epoch ms by which the batch must have answered (the Lambda's deadline less DEADLINE_MARGIN_MS). */
  deadline?: number | undefined;
  /** Time kept at the end of the batch for its sends, at most a quarter of the batch's: no Mixin call runs into it (BATCH_END_RESERVE_MS). */
  endReserveMs?: number;
}

/** Below this, a record is not worth starting: the reserve would cut its first attempt anyway. */
const MIN_RECORD_MS = 50;

const keysOf = (record: SQSRecord) => ({ message_id: record.messageId, receive_count: record.attributes?.ApproximateReceiveCount });

/**
 * Processes a batch with at most `concurrency` records in flight, as a partial batch response. A record that can
 * never succeed ({@link isDeadLetter}) is sent to the dead-letter queue with its reason and counts as handled; every
 * other failure, and a dead letter the queue would not take, is reported in `batchItemFailures` for SQS to
 * redeliver (and, after maxReceiveCount, to move to the DLQ itself). No record is ever dropped.
 *
 * The batch keeps `endReserveMs` (at most a quarter of its time) before its deadline for its end: records stop starting Mixin calls where the
 * reserve begins (a call running then is cut, a record not started is not started: both are reported, reason
 * `batch-reserve`), and the dead-letter send gets the reserve and an abort signal at the deadline.
 */
export const processBatch = async (event: SQSEvent, process: RecordProcessor, options: BatchOptions): Promise<SQSBatchResponse> => {
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  // A short invocation keeps at most a quarter of its time: the reserve must not eat the work it is for.
  const reserve = Math.min(options.endReserveMs ?? 0, Math.max(0, (deadline - Date.now()) / 4));
  const budget: RecordBudget = { deadline: deadline - reserve };
  const failed = new Set<string>();
  const letters: DeadLetter[] = [];
  let next = 0;
  const worker = async () => {
    while (next < event.Records.length) {
      const record = event.Records[next++]!;
      try {
        if (budget.deadline - Date.now() < MIN_RECORD_MS) throw MixinUnavailableError.batchReserve(0);
        const result = await process(record, budget);
        logger.info('record succeeded', { ...keysOf(record), conversation_id: conversationIdOf(result) });
      } catch (error) {
        if (options.deadLetterQueueUrl && isDeadLetter(error)) {
          letters.push({ record, error });
          continue;
        }
        failed.add(record.messageId);
        reportFailure(error, 'record failed', keysOf(record));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, event.Records.length) }, worker));
  if (letters.length > 0 && options.deadLetterQueueUrl) {
    const unsent = await sendToDeadLetterQueue(options.deadLetterQueueUrl, letters, endSignal(deadline));
    for (const { record, error } of letters) {
      if (unsent.has(record.messageId)) {
        failed.add(record.messageId);
        reportFailure(error, 'record failed', { ...keysOf(record), dead_letter_send_failed: true });
        continue;
      }
      reportFailure(error, 'record dead-lettered', keysOf(record));
      metrics.singleMetric().addDimension('error_name', error.name).addMetric(METRIC.deadLettered, MetricUnit.Count, 1);
    }
  }
  // Each record's IDs are on its own line: the batch's metrics line names none of them.
  metrics.clearMetadata();
  // Report in batch order: easier to read in logs and tests.
  return { batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({ itemIdentifier: r.messageId })) };
};

/** Aborts the end sends at the batch's deadline: what is not sent by then is reported, never waited for. */
const endSignal = (deadline: number): AbortSignal | undefined =>
  Number.isFinite(deadline) ? AbortSignal.timeout(Math.max(0, deadline - Date.now())) : undefined;
