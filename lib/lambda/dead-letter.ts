/**
 * Records that can never succeed go straight to the function's own dead-letter queue, with the reason, instead of
 * being received again and again until SQS moves them there (aws-powertools/powertools-lambda-typescript#4478).
 */
import type { MessageAttributeValue, SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { type ConversationError, ConversationError as Base, KeystoreError, MixinRequestError } from '../errors';
import { logger } from '../observability';

/** A record to dead-letter and why. */
export interface DeadLetter {
  record: SQSRecord;
  error: ConversationError;
}

/** SQS's limits: entries per SendMessageBatch, attributes per message. */
const MAX_BATCH_ENTRIES = 10;
const MAX_ATTRIBUTES = 10;
const MAX_ERROR_MESSAGE = 256;

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
    ['ErrorMessage', string(error.message.slice(0, MAX_ERROR_MESSAGE))],
    ['MixinCode', error instanceof MixinRequestError ? number(error.code) : undefined],
    ['SourceMessageId', string(record.messageId)],
    ['SourceQueue', record.eventSourceARN ? string(record.eventSourceARN) : undefined],
    ['ReceiveCount', record.attributes?.ApproximateReceiveCount ? number(record.attributes.ApproximateReceiveCount) : undefined],
    ['FailedAt', string(failedAt)],
  ];
  return reason.filter((entry): entry is [string, MessageAttributeValue] => entry[1] !== undefined);
};

/** One SendMessageBatch entry: the body byte for byte, every original attribute, then the reason. */
const entry = (letter: DeadLetter, id: string, failedAt: string): SendMessageBatchRequestEntry => {
  const reason = reasonAttributes(letter, failedAt);
  const ours = new Set(reason.map(([name]) => name));
  const kept = Object.entries(originalAttributes(letter.record)).filter(([name]) => !ours.has(name));
  return { Id: id, MessageBody: letter.record.body, MessageAttributes: Object.fromEntries([...kept, ...reason.slice(0, Math.max(0, MAX_ATTRIBUTES - kept.length))]) };
};

/**
 * Sends `letters` to `queueUrl` with SendMessageBatch (10 a call). Resolves with the messageIds that could NOT be
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
  for (let start = 0; start < letters.length; start += MAX_BATCH_ENTRIES) {
    const chunk = letters.slice(start, start + MAX_BATCH_ENTRIES);
    const ids = chunk.map((_, i) => `record-${start + i}`);
    try {
      const out = await sender.client.send(new sender.SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((l, i) => entry(l, ids[i]!, failedAt)) }));
      for (const failed of out.Failed ?? []) {
        unsent.add(chunk[ids.indexOf(failed.Id ?? '')]?.record.messageId ?? '');
        logger.error('dead-letter send refused', { code: failed.Code, sender_fault: failed.SenderFault });
      }
    } catch (error) {
      for (const letter of chunk) unsent.add(letter.record.messageId);
      logger.error('dead-letter send failed', { reason: (error as Error).name, queue_url: queueUrl });
    }
  }
  return unsent;
};
