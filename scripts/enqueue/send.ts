/**
 * Sends entries to a queue with SendMessageBatch: 10 messages (and at most 1 MiB) a call, several calls in flight.
 * An entry SQS refuses (in `Failed`, or a call that fails whole) is reported with its line, never silently dropped.
 */
import { type SendMessageBatchRequestEntry, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Entry, Refusal } from './lines';

/** SQS's limits on one SendMessageBatch call. */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 1024 * 1024;

export interface SendOutcome {
  sent: number;
  failed: Refusal[];
}

/** The SQS entry of one line: the body, and the IdempotencyKey attribute of a group. */
const sqsEntry = (entry: Entry, id: number): SendMessageBatchRequestEntry => ({
  Id: String(id),
  MessageBody: entry.body,
  ...(entry.idempotencyKey !== undefined && {
    MessageAttributes: { IdempotencyKey: { DataType: 'String', StringValue: entry.idempotencyKey } },
  }),
});

const sizeOf = (entry: Entry): number =>
  Buffer.byteLength(entry.body) +
  (entry.idempotencyKey === undefined
    ? 0
    : Buffer.byteLength(entry.idempotencyKey) + 'IdempotencyKey'.length + 'String'.length);

/** Entries in file order, cut into batches of at most 10 and 1 MiB. */
export const batchesOf = (entries: Entry[]): Entry[][] => {
  const batches: Entry[][] = [];
  let batch: Entry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = sizeOf(entry);
    if (batch.length === MAX_ENTRIES || (batch.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
};

/**
 * Sends every entry, `inFlight` calls at once; `onProgress` after each call with the entries done so far (sent or
 * failed).
 */
export const sendEntries = async (
  sqs: SQSClient,
  queueUrl: string,
  entries: Entry[],
  inFlight: number,
  onProgress: (done: number, outcome: SendOutcome) => void = () => undefined,
): Promise<SendOutcome> => {
  const outcome: SendOutcome = { sent: 0, failed: [] };
  const batches = batchesOf(entries);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      try {
        const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map(sqsEntry) }));
        outcome.sent += out.Successful?.length ?? 0;
        for (const failed of out.Failed ?? [])
          outcome.failed.push({
            line: batch[Number(failed.Id)]!.line,
            reason: `${failed.Code ?? 'refused'}: ${failed.Message ?? ''}`.trim(),
          });
      } catch (error) {
        const reason = `${(error as Error).name}: ${(error as Error).message}`.split('\n')[0]!;
        for (const entry of batch) outcome.failed.push({ line: entry.line, reason });
      }
      done += batch.length;
      onProgress(done, outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(inFlight, batches.length)) }, worker));
  outcome.failed.sort((a, b) => a.line - b.line);
  return outcome;
};
