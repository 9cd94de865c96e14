/** Helpers for tests that watch a local SQS settle. */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Polls `condition` until it holds; fails naming `what` after `timeoutMs`. */
export const waitFor = async (what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const DEPTH_ATTRIBUTES = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;

/** Messages in a queue: visible, in flight and delayed. */
export const queueDepth = async (client: SQSClient, url: string): Promise<number> => {
  const { Attributes: a } = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...DEPTH_ATTRIBUTES] }));
  return DEPTH_ATTRIBUTES.reduce((sum, name) => sum + Number(a![name]), 0);
};
