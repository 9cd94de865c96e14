/**
 * Deferral: a record the instance will not get to in this invocation (its rate limiter is paused or has no slot left
 * before the batch's end reserve, or Mixin kept answering 429) goes back on the function's own queue as a re-sent,
 * delayed copy, and the original is reported done. Every receive counts toward maxReceiveCount, so a record held back
 * by the rate limit must not stay in the queue as a failure: the copy starts a fresh receive count, and carries what
 * must survive the trip (README "Queues"):
 *   - the key: `IdempotencyKey` as the producer set it, or the original messageId (a group copy addresses the same group);
 *   - `FailureCount`: real failures (5xx, timeouts) so far, so that a failing record still reaches the DLQ after
 *     maxReceiveCount of them, counted across copies;
 *   - `FirstSentAt`: when the original was first sent, so that a record still deferred after MAX_DEFERRED_AGE_SECONDS
 *     is dead-lettered instead of being re-sent forever.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { IDEMPOTENCY_KEY_ATTRIBUTE } from './sqs-record';
import {
  MAX_ATTRIBUTES,
  MAX_BYTES,
  messageBytes,
  type OutgoingMessage,
  originalAttributes,
  sendMessages,
} from './sqs-send';

export const FAILURE_COUNT_ATTRIBUTE = 'FailureCount';
export const FIRST_SENT_AT_ATTRIBUTE = 'FirstSentAt';

/** The bookkeeping of a copy: ours, never carried past a dead letter or re-sent as the producer's. */
const BOOKKEEPING: ReadonlySet<string> = new Set([FAILURE_COUNT_ATTRIBUTE, FIRST_SENT_AT_ATTRIBUTE]);

/** The record's attributes as its producer set them (Binary ones as bytes): a copy's bookkeeping left out. */
export const producerAttributes = (record: SQSRecord): [string, MessageAttributeValue][] =>
  Object.entries(originalAttributes(record)).filter(([name]) => !BOOKKEEPING.has(name));

/** SQS's longest DelaySeconds. */
const MAX_DELAY_SECONDS = 900;

/** A record to re-send, and how long SQS should keep it out of sight. */
export interface Deferral {
  record: SQSRecord;
  delaySeconds: number;
}

export const receiveCount = (record: SQSRecord): number => {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count >= 1 ? count : 1;
};

/** Real failures carried by a copy (0 for an original, or for a value that is not a count). */
const carriedFailures = (record: SQSRecord): number => {
  const count = Number(record.messageAttributes?.[FAILURE_COUNT_ATTRIBUTE]?.stringValue);
  return Number.isInteger(count) && count >= 0 ? count : 0;
};

/**
 * Real failures of this record before this receive: those its copy carries, plus every earlier receive of this
 * message (a receive that ended in anything but a real failure deletes the message: success, dead letter or a copy).
 */
export const failuresBefore = (record: SQSRecord): number => carriedFailures(record) + receiveCount(record) - 1;

/** The time a copy carries, as Date#toISOString writes it: Date.parse alone would read "1" as the year 2001. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

/**
 * When the record was first sent (epoch ms): a copy's `FirstSentAt`, else this message's SentTimestamp. Never later
 * than this message was sent: a `FirstSentAt` in the future (a producer's own attribute of that name, a skewed clock)
 * would otherwise keep the record from ever reaching MAX_DEFERRED_AGE_SECONDS.
 */
export const firstSentAt = (record: SQSRecord, now = Date.now()): number => {
  const sentTimestamp = Number(record.attributes?.SentTimestamp);
  const sent = Number.isFinite(sentTimestamp) && sentTimestamp > 0 ? sentTimestamp : now;
  const raw = record.messageAttributes?.[FIRST_SENT_AT_ATTRIBUTE]?.stringValue ?? '';
  const carried = ISO_TIME.test(raw) ? Date.parse(raw) : Number.NaN;
  return Number.isFinite(carried) ? Math.min(carried, sent) : sent;
};

/** DelaySeconds for a wait of `ms`: whole seconds, within SQS's 0 to 900 (a local SQS takes 901: not us). */
export const delaySecondsFor = (ms: number): number => Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(ms / 1000)));

/**
 * The copy of a deferred record: its body byte for byte, its attributes (Binary ones as bytes), the key, the failure
 * count and the first-sent time; or undefined when that is more than SQS's 10 attributes or 1 MiB (the record is then
 * reported for redelivery instead: one receive spent, nothing lost).
 */
const copyOf = ({ record, delaySeconds }: Deferral, now = Date.now()): OutgoingMessage | undefined => {
  const string = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
  const attributes = producerAttributes(record);
  if (!attributes.some(([name]) => name === IDEMPOTENCY_KEY_ATTRIBUTE))
    attributes.push([IDEMPOTENCY_KEY_ATTRIBUTE, string(record.messageId)]);
  attributes.push([FAILURE_COUNT_ATTRIBUTE, { DataType: 'Number', StringValue: String(failuresBefore(record)) }]);
  attributes.push([FIRST_SENT_AT_ATTRIBUTE, string(new Date(firstSentAt(record, now)).toISOString())]);
  const bytes = messageBytes(record.body, attributes);
  if (attributes.length > MAX_ATTRIBUTES || bytes > MAX_BYTES) return undefined;
  return {
    record,
    entry: { MessageBody: record.body, MessageAttributes: Object.fromEntries(attributes), DelaySeconds: delaySeconds },
    bytes,
  };
};

/** Whether a copy of `record` fits SQS's limits (10 attributes, 1 MiB): else it cannot be deferred. */
export const fitsAsCopy = (record: SQSRecord): boolean => copyOf({ record, delaySeconds: 0 }) !== undefined;

/**
 * Re-sends `deferrals` to the function's own queue (lib/lambda/sqs-send.ts: 10 and 1 MiB a call, until `signal`
 * aborts). Resolves with the messageIds that were NOT re-sent (no room for the attributes, refused, failed): the
 * caller reports those in `batchItemFailures`.
 */
export const sendCopies = async (
  queueUrl: string,
  deferrals: Deferral[],
  signal?: AbortSignal,
): Promise<Set<string>> => {
  const now = Date.now();
  const unsent = new Set<string>();
  const copies: OutgoingMessage[] = [];
  for (const deferral of deferrals) {
    const copy = copyOf(deferral, now);
    if (copy) copies.push(copy);
    else unsent.add(deferral.record.messageId);
  }
  for (const id of await sendMessages(queueUrl, copies, 're-send', signal)) unsent.add(id);
  return unsent;
};
