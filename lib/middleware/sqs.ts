import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { InvalidRequestError } from '../errors';
import { parseJsonBody } from '../json';
import { reportFailure } from './report';

/** What happens to one record: resolves when it succeeded, rejects when it must be retried or dead-lettered. */
export type RecordProcessor = (record: SQSRecord) => Promise<unknown>;

/** A queue record body as JSON: a body that is not JSON can never succeed, and says so. */
export const recordBody = (record: SQSRecord): unknown => parseJsonBody(record.body);

/** The message attribute a producer sets to make resends and dead-letter redrives safe. */
export const IDEMPOTENCY_KEY_ATTRIBUTE = 'IdempotencyKey';

/**
 * A record's idempotency key: its `IdempotencyKey` message attribute, else its messageId. SQS keeps the messageId
 * across redeliveries, but a dead-letter redrive or a resend makes a new one; the attribute survives both.
 */
export const recordIdempotencyKey = (record: SQSRecord): string => {
  const attribute = record.messageAttributes?.[IDEMPOTENCY_KEY_ATTRIBUTE];
  if (attribute === undefined) return record.messageId;
  const key = attribute.stringValue;
  if (attribute.dataType !== 'String' || key === undefined || key.length === 0 || key.length > 256) {
    throw InvalidRequestError.field(`messageAttributes.${IDEMPOTENCY_KEY_ATTRIBUTE}`, 'must be a String of 1 to 256 characters');
  }
  return key;
};

/**
 * Processes a batch with at most `concurrency` records in flight and reports every record that did not
 * succeed in `batchItemFailures`: SQS redelivers temporary failures and, after maxReceiveCount, moves
 * the permanent ones to the dead-letter queue. No record is ever dropped.
 */
export const processBatch = async (event: SQSEvent, process: RecordProcessor, concurrency: number): Promise<SQSBatchResponse> => {
  const failed = new Set<string>();
  let next = 0;
  const worker = async () => {
    while (next < event.Records.length) {
      const record = event.Records[next++]!;
      try {
        await process(record);
      } catch (error) {
        failed.add(record.messageId);
        reportFailure(error, 'record failed', { message_id: record.messageId, receive_count: record.attributes?.ApproximateReceiveCount });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, event.Records.length) }, worker));
  // Report in batch order: easier to read in logs and tests.
  return { batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({ itemIdentifier: r.messageId })) };
};
