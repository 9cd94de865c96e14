/**
 * Records that can never succeed go straight to the function's own dead-letter queue, with the reason, instead of
 * being received again and again until SQS moves them there (aws-powertools/powertools-lambda-typescript#4478).
 */
import type { MessageAttributeValue, SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { type ConversationError, ConversationError as Base, KeystoreError, MixinRequestError } from '../errors';
import { logger } from '../observability';
import { shortMessage } from '../text';

/** A record to dead-letter and why. */
export interface DeadLetter {
  record: SQSRecord;
  error: ConversationError;
}

/**
 * SQS's limits: entries per SendMessageBatch, attributes per message, bytes per message and per batch (1 MiB each,
 * the default of a queue since 2025; a DLQ set smaller refuses the send, and the record stays for SQS's own redrive).
 */
const MAX_BATCH_ENTRIES = 10;
const MAX_ATTRIBUTES = 10;
const MAX_BYTES = 1_048_576;

/**
 * True for a failure that no redelivery can fix: not retryable, and not about our own key (a Mixin 401/403 or a
 * keystore error heals once the secret is fixed, so those records stay for redelivery).
 */
export const isDeadLetter = (error: unknown): error is ConversationError =>
  error instanceof Base && !error.retryable && !(error instanceof KeystoreError) && !(error instanceof MixinRequestError && error.credentialsRejected);

// Loaded on the first dead letter only: the SQS client stays out of the cold start.
let sqs: Promise<{ client: SQSClient; SendMessageBatchCommand: typeof import('@aws-sdk/client-sqs').SendMessageBatchCommand }> | undefined;
const sqsClient = () =>
  (sqs ??= import('@aws-sdk/client-sqs').then(({ SQSClient, SendMessageBatchCommand }) => ({
    // Bounded like the Secrets Manager client. AWS_REGION and AWS_ENDPOINT_URL_SQS apply as usual; the endpoint wins
    // over the queue URL's host (the DLQ is in the function's own region, and a local SQS names its queues by path).
    client: new SQSClient({ maxAttempts: 3, useQueueUrlAsEndpoint: false, requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 } }),
    SendMessageBatchCommand,
  })));

/** The record's own message attributes, as SendMessage takes them. */
const originalAttributes = (record: SQSRecord): Record<string, MessageAttributeValue> => {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
    const attribute: MessageAttributeValue = { DataType: value.dataType };
    if (value.stringValue !== undefined) attribute.StringValue = value.stringValue;
    if (value.binaryValue !== undefined) attribute.BinaryValue = Buffer.from(value.binaryValue, 'base64');
    out[name] = attribute;
  }
  return out;
};

/** Why the record is here, most useful first: what fits beside the original attributes (10 at most) goes. */
const reasonAttributes = ({ record, error }: DeadLetter, failedAt: string): [string, MessageAttributeValue][] => {
  const string = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
  const number = (value: number | string): MessageAttributeValue => ({ DataType: 'Number', StringValue: String(value) });
  const reason: [string, MessageAttributeValue | undefined][] = [
    ['ErrorName', string(error.name)],
    ['ErrorMessage', string(shortMessage(error.message))],
    ['MixinCode', error instanceof MixinRequestError ? number(error.code) : undefined],
    ['SourceMessageId', string(record.messageId)],
    ['SourceQueue', record.eventSourceARN ? string(record.eventSourceARN) : undefined],
    ['ReceiveCount', record.attributes?.ApproximateReceiveCount ? number(record.attributes.ApproximateReceiveCount) : undefined],
    ['FailedAt', string(failedAt)],
  ];
  return reason.filter((entry): entry is [string, MessageAttributeValue] => entry[1] !== undefined);
};

/** An attribute's size as SQS counts it: name, data type and value. */
const attributeBytes = ([name, value]: [string, MessageAttributeValue]): number =>
  Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(value.StringValue ?? '') + (value.BinaryValue?.length ?? 0);

/**
 * One SendMessageBatch entry and its size: the body byte for byte and every original attribute (as SQS took them
 * once, they fit), then as many reasons as fit within SQS's attribute count and message size, most useful first.
 */
const entry = (letter: DeadLetter, id: string, failedAt: string): { entry: SendMessageBatchRequestEntry; bytes: number } => {
  const reason = reasonAttributes(letter, failedAt);
  const ours = new Set(reason.map(([name]) => name));
  const attributes = Object.entries(originalAttributes(letter.record)).filter(([name]) => !ours.has(name));
  let bytes = Buffer.byteLength(letter.record.body) + attributes.reduce((sum, a) => sum + attributeBytes(a), 0);
  for (const attribute of reason) {
    if (attributes.length === MAX_ATTRIBUTES) break;
    if (bytes + attributeBytes(attribute) > MAX_BYTES) continue;
    attributes.push(attribute);
    bytes += attributeBytes(attribute);
  }
  return { entry: { Id: id, MessageBody: letter.record.body, MessageAttributes: Object.fromEntries(attributes) }, bytes };
};

/** The letters in SendMessageBatch calls: at most 10 entries and 1 MiB each. */
const batches = (letters: DeadLetter[], failedAt: string): { letters: DeadLetter[]; entries: SendMessageBatchRequestEntry[] }[] => {
  const out: { letters: DeadLetter[]; entries: SendMessageBatchRequestEntry[]; bytes: number }[] = [];
  letters.forEach((letter, i) => {
    const next = entry(letter, `record-${i}`, failedAt);
    const last = out.at(-1);
    if (last && last.entries.length < MAX_BATCH_ENTRIES && last.bytes + next.bytes <= MAX_BYTES) {
      last.letters.push(letter);
      last.entries.push(next.entry);
      last.bytes += next.bytes;
    } else {
      out.push({ letters: [letter], entries: [next.entry], bytes: next.bytes });
    }
  });
  return out;
};

/**
 * Sends `letters` to `queueUrl` with SendMessageBatch (10 and 1 MiB a call at most). Resolves with the messageIds that could NOT be
 * sent (the queue refused, throttled or was unreachable): the caller leaves those to SQS's own redrive.
 */
export const sendToDeadLetterQueue = async (queueUrl: string, letters: DeadLetter[]): Promise<Set<string>> => {
  const unsent = new Set<string>();
  const failedAt = new Date().toISOString();
  let sender: Awaited<ReturnType<typeof sqsClient>>;
  try {
    sender = await sqsClient();
  } catch (error) {
    logger.error('dead-letter queue client unavailable', { error: error as Error });
    return new Set(letters.map((l) => l.record.messageId));
  }
  for (const batch of batches(letters, failedAt)) {
    try {
      const out = await sender.client.send(new sender.SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.entries }));
      for (const failed of out.Failed ?? []) {
        unsent.add(batch.letters[batch.entries.findIndex((e) => e.Id === failed.Id)]?.record.messageId ?? '');
        logger.error('dead-letter send refused', { code: failed.Code, sender_fault: failed.SenderFault });
      }
    } catch (error) {
      for (const letter of batch.letters) unsent.add(letter.record.messageId);
      logger.error('dead-letter send failed', { reason: (error as Error).name, queue_url: queueUrl });
    }
  }
  return unsent;
};
