/**
 * Records that can never succeed go straight to the function's own dead-letter queue, with the reason, instead of
 * being received again and again until SQS moves them there (aws-powertools/powertools-lambda-typescript#4478).
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { type ConversationError, ConversationError as Base, KeystoreError, MixinRequestError } from '../errors';
import { shortMessage } from '../text';
import { producerAttributes } from './deferral';
import { IDEMPOTENCY_KEY_ATTRIBUTE } from './sqs-record';
import {
  attributeBytes,
  MAX_ATTRIBUTES,
  MAX_BYTES,
  messageBytes,
  type OutgoingMessage,
  sendMessages,
} from './sqs-send';

/** A record to dead-letter and why. */
export interface DeadLetter {
  record: SQSRecord;
  error: ConversationError;
}

/**
 * True for a failure that no redelivery can fix: not retryable, and not about our own key (a Mixin 401/403 or a
 * keystore error heals once the secret is fixed, so those records stay for redelivery).
 */
export const isDeadLetter = (error: unknown): error is ConversationError =>
  error instanceof Base &&
  !error.retryable &&
  !(error instanceof KeystoreError) &&
  !(error instanceof MixinRequestError && error.credentialsRejected);

/** Why the record is here, most useful first: what fits beside the original attributes (10 at most) goes. */
const reasonAttributes = ({ record, error }: DeadLetter, failedAt: string): [string, MessageAttributeValue][] => {
  const string = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
  const number = (value: number | string): MessageAttributeValue => ({
    DataType: 'Number',
    StringValue: String(value),
  });
  const keyless = record.messageAttributes?.[IDEMPOTENCY_KEY_ATTRIBUTE] === undefined;
  const reason: [string, MessageAttributeValue | undefined][] = [
    ['ErrorName', string(error.name)],
    // A record without a key was keyed by its messageId, which a redrive replaces: the dead letter carries it as the
    // key, so that the redriven record addresses the same group (one that a timed-out attempt may have created).
    [IDEMPOTENCY_KEY_ATTRIBUTE, keyless ? string(record.messageId) : undefined],
    ['ErrorMessage', string(shortMessage(error.message))],
    ['MixinCode', error instanceof MixinRequestError ? number(error.code) : undefined],
    ['SourceMessageId', string(record.messageId)],
    ['SourceQueue', record.eventSourceARN ? string(record.eventSourceARN) : undefined],
    [
      'ReceiveCount',
      record.attributes?.ApproximateReceiveCount ? number(record.attributes.ApproximateReceiveCount) : undefined,
    ],
    ['FailedAt', string(failedAt)],
  ];
  return reason.filter((entry): entry is [string, MessageAttributeValue] => entry[1] !== undefined);
};

/**
 * One SendMessageBatch entry and its size: the body byte for byte and every original attribute (as SQS took them
 * once, they fit), then as many reasons as fit within SQS's attribute count and message size, most useful first.
 */
const entry = (letter: DeadLetter, failedAt: string): OutgoingMessage => {
  const reason = reasonAttributes(letter, failedAt);
  const ours = new Set(reason.map(([name]) => name));
  // A copy's bookkeeping stays behind: a redriven dead letter starts afresh (no old failures, no old age).
  const attributes = producerAttributes(letter.record).filter(([name]) => !ours.has(name));
  let bytes = messageBytes(letter.record.body, attributes);
  for (const attribute of reason) {
    if (attributes.length === MAX_ATTRIBUTES) break;
    if (bytes + attributeBytes(attribute) > MAX_BYTES) continue;
    attributes.push(attribute);
    bytes += attributeBytes(attribute);
  }
  return {
    record: letter.record,
    entry: { MessageBody: letter.record.body, MessageAttributes: Object.fromEntries(attributes) },
    bytes,
  };
};

/**
 * Sends `letters` to `queueUrl` (lib/lambda/sqs-send.ts: 10 and 1 MiB a call, until `signal` aborts). Resolves with
 * the messageIds that could NOT be sent (the queue refused, throttled or was unreachable, or the batch's reserve ran
 * out): the caller leaves those to redelivery and, in the end, SQS's own redrive.
 */
export const sendToDeadLetterQueue = async (
  queueUrl: string,
  letters: DeadLetter[],
  signal?: AbortSignal,
): Promise<Set<string>> => {
  const failedAt = new Date().toISOString();
  return sendMessages(
    queueUrl,
    letters.map((letter) => entry(letter, failedAt)),
    'dead-letter',
    signal,
  );
};
