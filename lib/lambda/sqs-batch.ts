import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger, METRIC, MetricUnit, metrics } from '../observability';
import { type DeadLetter, isDeadLetter, sendToDeadLetterQueue } from './dead-letter';
import { reportFailure } from './report';
import { conversationIdOf } from './use-case';

/** What happens to one record: resolves when it succeeded, rejects when it failed. */
export type RecordProcessor = (record: SQSRecord) => Promise<unknown>;

export interface BatchOptions {
  /** Records processed at once. */
  concurrency: number;
  /** The function's own dead-letter queue: records that can never succeed go there at once. Without it, every failure is reported. */
  deadLetterQueueUrl?: string | undefined;
}

const keysOf = (record: SQSRecord) => ({ message_id: record.messageId, receive_count: record.attributes?.ApproximateReceiveCount });

/**
 * Processes a batch with at most `concurrency` records in flight, as a partial batch response. A record that can
 * never succeed ({@link isDeadLetter}) is sent to the dead-letter queue with its reason and counts as handled; every
 * other failure, and a dead letter the queue would not take, is reported in `batchItemFailures` for SQS to
 * redeliver (and, after maxReceiveCount, to move to the DLQ itself). No record is ever dropped.
 */
export const processBatch = async (event: SQSEvent, process: RecordProcessor, options: BatchOptions): Promise<SQSBatchResponse> => {
  const failed = new Set<string>();
  const letters: DeadLetter[] = [];
  let next = 0;
  const worker = async () => {
    while (next < event.Records.length) {
      const record = event.Records[next++]!;
      try {
        const result = await process(record);
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
    const unsent = await sendToDeadLetterQueue(options.deadLetterQueueUrl, letters);
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
