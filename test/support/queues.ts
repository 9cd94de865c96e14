/** Helpers for tests that watch a local SQS settle. */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** Polls `condition` until it holds; fails naming `what` after `timeoutMs`. */
export const waitFor = async (
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const DEPTH_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
] as const;

/** Messages in a queue: visible, in flight and delayed. */
export const queueDepth = async (client: SQSClient, url: string): Promise<number> => {
  const { Attributes: a } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...DEPTH_ATTRIBUTES] }),
  );
  return DEPTH_ATTRIBUTES.reduce((sum, name) => sum + Number(a![name]), 0);
};

/** Receives and deletes everything in a queue now (with every attribute), until a receive comes back empty. */
export const takeAll = async (client: SQSClient, url: string): Promise<Message[]> => {
  const taken: Message[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return taken;
    taken.push(...Messages);
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
};

/** An SQS record's message attributes, as a Lambda event carries them. */
export type RecordAttributes = Record<
  string,
  {
    dataType: string;
    stringValue?: string;
    binaryValue?: string;
    stringListValues: string[];
    binaryListValues: string[];
  }
>;
