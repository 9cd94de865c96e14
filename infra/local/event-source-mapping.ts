/**
 * The local stand-in for Lambda's SQS event source mapping with `ReportBatchItemFailures`: receive up to 10
 * messages, hand them to the function as the SQS event Lambda builds, then delete the records that succeeded.
 * A thrown error (a function error), an invalid response or an `itemIdentifier` that is empty or not in the batch
 * fails the whole batch: nothing is deleted. What is not deleted comes back after the visibility timeout, and the
 * queue's redrive policy moves it to the dead-letter queue after maxReceiveCount receives, as in AWS.
 * Not modelled: the batching window (a batch is whatever one receive returns) and scaling beyond `pollers`.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttribute, SQSRecord } from 'aws-lambda';

/** Runs the function on one event; resolves with its response, rejects on a function error. */
export type Invoke = (event: SQSEvent, signal: AbortSignal) => Promise<unknown>;

export interface EventSourceMappingOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  invoke: Invoke;
  /** Records per event, 1 to 10 (a standard queue's ReceiveMessage limit). */
  batchSize?: number;
  /** false: like a mapping without FunctionResponseTypes, any response deletes the whole batch. */
  reportBatchItemFailures?: boolean;
  /** Batches in flight at once (Lambda scales its pollers; locally a fixed number). */
  pollers?: number;
  /** Long-poll wait per ReceiveMessage, in seconds. */
  waitTimeSeconds?: number;
  /** Told about failed receives, failed invocations and failed deletes (the mapping keeps going). */
  onError?: (error: unknown, what: 'receive' | 'invoke' | 'delete') => void;
}

const ERROR_BACKOFF_MS = 500;

/** A message attribute as Lambda writes it: lower camel case, binary as base64, the unused list fields empty. */
export const lambdaMessageAttribute = (attribute: MessageAttributeValue): SQSMessageAttribute => ({
  ...(attribute.StringValue !== undefined && { stringValue: attribute.StringValue }),
  ...(attribute.BinaryValue !== undefined && { binaryValue: Buffer.from(attribute.BinaryValue).toString('base64') }),
  stringListValues: [],
  binaryListValues: [],
  dataType: attribute.DataType!,
});

/** One received message as a record of Lambda's SQS event. */
export const lambdaRecord = (message: Message, queueArn: string, region: string): SQSRecord => ({
  messageId: message.MessageId!,
  receiptHandle: message.ReceiptHandle!,
  body: message.Body ?? '',
  attributes: message.Attributes as unknown as SQSRecord['attributes'],
  messageAttributes: Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, lambdaMessageAttribute(value)]),
  ),
  md5OfBody: message.MD5OfBody!,
  ...(message.MD5OfMessageAttributes !== undefined && { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
  eventSource: 'aws:sqs',
  eventSourceARN: queueArn,
  awsRegion: region,
});

/** How an invocation ended: the function's response, or its error. */
export type InvocationOutcome = { response: unknown } | { error: unknown };

/**
 * The records Lambda deletes after an invocation with ReportBatchItemFailures. A null or empty response, or a
 * null or empty `batchItemFailures`, is a complete success; an error, a response that is not an object, a
 * `batchItemFailures` that is not a list, or any entry without an `itemIdentifier` of this batch is a complete
 * failure; otherwise all but the reported records.
 */
export const recordsToDelete = (
  records: SQSRecord[],
  outcome: InvocationOutcome,
  reportBatchItemFailures = true,
): SQSRecord[] => {
  if ('error' in outcome) return [];
  const { response } = outcome;
  if (!reportBatchItemFailures || response === null || response === undefined) return records;
  if (typeof response !== 'object' || Array.isArray(response)) return [];
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return records;
  if (!Array.isArray(failures)) return [];
  const ids = new Set(records.map((r) => r.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !ids.has(id)) return [];
    failed.add(id);
  }
  return records.filter((r) => !failed.has(r.messageId));
};

/** Resolves after `ms`, or at once when the signal aborts. */
const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((done) => {
    const finish = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      done();
    };
    const timer = setTimeout(finish, ms);
    signal.addEventListener('abort', finish, { once: true });
  });

export class EventSourceMapping {
  private readonly options: Required<Omit<EventSourceMappingOptions, 'onError'>> &
    Pick<EventSourceMappingOptions, 'onError'>;
  private readonly abort = new AbortController();
  private running: Promise<void>[] = [];
  /** Invocations made, and records deleted after them. */
  readonly stats = { invocations: 0, deleted: 0 };

  constructor(options: EventSourceMappingOptions) {
    this.options = { batchSize: 10, reportBatchItemFailures: true, pollers: 1, waitTimeSeconds: 1, ...options };
    const { batchSize, pollers } = this.options;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10)
      throw new Error(`batchSize must be 1 to 10, got ${batchSize}`);
    if (!Number.isInteger(pollers) || pollers < 1)
      throw new Error(`pollers must be a positive integer, got ${pollers}`);
  }

  /** Starts polling. */
  start(): this {
    if (this.running.length === 0) this.running = Array.from({ length: this.options.pollers }, () => this.poll());
    return this;
  }

  /**
   * Stops polling. A receive under way is let finish (at most `waitTimeSeconds`: an abandoned long poll would
   * still take messages) and what it got is made visible again at once; an invocation under way is abandoned,
   * its messages come back after the visibility timeout.
   */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.running);
  }

  private report(error: unknown, what: 'receive' | 'invoke' | 'delete'): void {
    if (!this.abort.signal.aborted) this.options.onError?.(error, what);
  }

  private async poll(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const messages = await this.receive();
      if (messages === undefined) await pause(ERROR_BACKOFF_MS, signal);
      else if (signal.aborted) await this.release(messages);
      else if (messages.length > 0) await this.deliver(messages, signal);
    }
  }

  /** One ReceiveMessage: the messages (maybe none), or undefined when it failed. */
  private async receive(): Promise<Message[] | undefined> {
    const { sqs, queueUrl, batchSize, waitTimeSeconds } = this.options;
    try {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: batchSize,
          WaitTimeSeconds: waitTimeSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      return out.Messages ?? [];
    } catch (error) {
      this.report(error, 'receive');
      return undefined;
    }
  }

  /** Invokes the function with one batch and deletes what Lambda would delete. */
  private async deliver(messages: Message[], signal: AbortSignal): Promise<void> {
    const { queueArn, region, invoke, reportBatchItemFailures } = this.options;
    const records = messages.map((m) => lambdaRecord(m, queueArn, region));
    let outcome: InvocationOutcome;
    this.stats.invocations++;
    try {
      outcome = { response: await invoke({ Records: records }, signal) };
    } catch (error) {
      this.report(error, 'invoke');
      outcome = { error };
    }
    if (signal.aborted) return;
    await this.delete(recordsToDelete(records, outcome, reportBatchItemFailures));
  }

  /** Makes messages received while stopping visible again, for the next consumer. */
  private async release(messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    const { sqs, queueUrl } = this.options;
    try {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
        }),
      );
    } catch {
      // They come back after the visibility timeout anyway.
    }
  }

  private async delete(records: SQSRecord[]): Promise<void> {
    if (records.length === 0) return;
    const { sqs, queueUrl } = this.options;
    try {
      const out = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      this.stats.deleted += out.Successful?.length ?? 0;
      if (out.Failed?.length)
        this.report(
          new Error(
            `DeleteMessageBatch failed for ${out.Failed.map((f) => `${records[Number(f.Id)]?.messageId}: ${f.Code}`).join(', ')}`,
          ),
          'delete',
        );
    } catch (error) {
      this.report(error, 'delete');
    }
  }
}

/**
 * Invokes a function through a Lambda Invoke API (serverless-offline's `--lambdaPort`). A function error
 * (`X-Amz-Function-Error`, which serverless-offline sets for a thrown error) or a non-200 status rejects.
 */
export const invokeThroughLambdaApi =
  (endpoint: string, functionName: string): Invoke =>
  async (event, signal) => {
    const response = await fetch(`${endpoint}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`, {
      method: 'POST',
      body: JSON.stringify(event),
      signal,
    });
    const text = await response.text();
    const functionError = response.headers.get('x-amz-function-error') ?? response.headers.get('x-amzn-errortype');
    if (response.status !== 200 || functionError)
      throw new Error(`${functionName}: ${functionError ?? `HTTP ${response.status}`}: ${text.slice(0, 500)}`);
    return text === '' ? null : JSON.parse(text);
  };
