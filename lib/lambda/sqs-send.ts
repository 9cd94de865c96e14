/**
 * The one SendMessageBatch path of the queue functions: dead letters (lib/lambda/dead-letter.ts) and re-sent copies
 * of deferred records (lib/lambda/deferral.ts) go through it, within SQS's limits and the time a batch keeps for its end.
 */
import type { MessageAttributeValue, SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { logger } from '../observability';

/**
 * SQS's limits: entries per SendMessageBatch, attributes per message, bytes per message and per batch (1 MiB each,
 * the default of a queue since 2025; a queue set smaller refuses the send, and the record stays for redelivery).
 * A local SQS may be looser (fauxqs takes 12 attributes): these are enforced here, whatever the queue accepts.
 */
const MAX_BATCH_ENTRIES = 10;
export const MAX_ATTRIBUTES = 10;
export const MAX_BYTES = 1_048_576;

/** One message to send for a record: the entry without its batch `Id`, and its size as SQS counts it. */
export interface OutgoingMessage {
  record: SQSRecord;
  entry: Omit<SendMessageBatchRequestEntry, 'Id'>;
  bytes: number;
}

// Loaded on the first send only: the SQS client stays out of the cold start.
let sqs:
  | Promise<{
      client: SQSClient;
      SendMessageBatchCommand: typeof import('@aws-sdk/client-sqs').SendMessageBatchCommand;
    }>
  | undefined;
const sqsClient = () =>
  (sqs ??= import('@aws-sdk/client-sqs').then(({ SQSClient, SendMessageBatchCommand }) => ({
    // Bounded like the Secrets Manager client. AWS_REGION and AWS_ENDPOINT_URL_SQS apply as usual; the endpoint wins
    // over the queue URL's host (the queues are in the function's own region, and a local SQS names its queues by path).
    client: new SQSClient({
      maxAttempts: 3,
      useQueueUrlAsEndpoint: false,
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
    }),
    SendMessageBatchCommand,
  })));

/** The record's own message attributes, as SendMessage takes them (Binary values as bytes). */
export const originalAttributes = (record: SQSRecord): Record<string, MessageAttributeValue> => {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
    const attribute: MessageAttributeValue = { DataType: value.dataType };
    if (value.stringValue !== undefined) attribute.StringValue = value.stringValue;
    if (value.binaryValue !== undefined) attribute.BinaryValue = Buffer.from(value.binaryValue, 'base64');
    out[name] = attribute;
  }
  return out;
};

/** An attribute's size as SQS counts it: name, data type and value. */
export const attributeBytes = ([name, value]: [string, MessageAttributeValue]): number =>
  Buffer.byteLength(name) +
  Buffer.byteLength(value.DataType ?? '') +
  Buffer.byteLength(value.StringValue ?? '') +
  (value.BinaryValue?.length ?? 0);

/** A message's size as SQS counts it: its body and every attribute. */
export const messageBytes = (body: string, attributes: [string, MessageAttributeValue][]): number =>
  attributes.reduce((sum, attribute) => sum + attributeBytes(attribute), Buffer.byteLength(body));

/** The messages in SendMessageBatch calls: at most 10 entries and 1 MiB each. */
const batches = (
  messages: OutgoingMessage[],
): { messages: OutgoingMessage[]; entries: SendMessageBatchRequestEntry[]; bytes: number }[] => {
  const out: { messages: OutgoingMessage[]; entries: SendMessageBatchRequestEntry[]; bytes: number }[] = [];
  messages.forEach((message, i) => {
    const entry = { ...message.entry, Id: `record-${i}` };
    const last = out.at(-1);
    if (last && last.entries.length < MAX_BATCH_ENTRIES && last.bytes + message.bytes <= MAX_BYTES) {
      last.messages.push(message);
      last.entries.push(entry);
      last.bytes += message.bytes;
    } else {
      out.push({ messages: [message], entries: [entry], bytes: message.bytes });
    }
  });
  return out;
};

/** What a send is for, in its log lines (`dead-letter send failed`, `re-send send refused`, ...). */
export type SendPurpose = 'dead-letter' | 're-send';

/**
 * Sends `messages` to `queueUrl` with SendMessageBatch (10 and 1 MiB a call at most), until `signal` aborts (the end
 * of the batch's reserve). Resolves with the messageIds of the records whose message was NOT sent (refused entry,
 * failed or aborted call, unreachable queue): the caller reports those in `batchItemFailures`.
 */
export const sendMessages = async (
  queueUrl: string,
  messages: OutgoingMessage[],
  purpose: SendPurpose,
  signal?: AbortSignal,
): Promise<Set<string>> => {
  const unsent = new Set<string>();
  if (messages.length === 0) return unsent;
  let sender: Awaited<ReturnType<typeof sqsClient>>;
  try {
    sender = await sqsClient();
  } catch (error) {
    logger.error(`${purpose} queue client unavailable`, { error: error as Error });
    return new Set(messages.map((m) => m.record.messageId));
  }
  for (const batch of batches(messages)) {
    if (signal?.aborted) {
      for (const message of batch.messages) unsent.add(message.record.messageId);
      logger.error(`${purpose} send failed`, { reason: 'batch-reserve', queue_url: queueUrl });
      continue;
    }
    try {
      const out = await sender.client.send(
        new sender.SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.entries }),
        { abortSignal: signal },
      );
      for (const failed of out.Failed ?? []) {
        const message = batch.messages[batch.entries.findIndex((e) => e.Id === failed.Id)];
        unsent.add(message?.record.messageId ?? '');
        logger.error(`${purpose} send refused`, {
          message_id: message?.record.messageId,
          code: failed.Code,
          sender_fault: failed.SenderFault,
        });
      }
    } catch (error) {
      for (const message of batch.messages) unsent.add(message.record.messageId);
      const reason = signal?.aborted ? 'batch-reserve' : (error as Error).name;
      logger.error(`${purpose} send failed`, { reason, queue_url: queueUrl });
    }
  }
  return unsent;
};
