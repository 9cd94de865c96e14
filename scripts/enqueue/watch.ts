/**
 * `npm run enqueue -- --watch`: a backlog draining, from the queues' own numbers, so that it reads the same locally
 * and on AWS: per queue the messages visible, delayed (deferred copies waiting out their DelaySeconds) and in flight,
 * the dead-letter queue's depth, and creations per second. There is no creation counter on a queue: a message that
 * leaves the queue without entering the dead-letter queue was handled, so creations are the drop in the queue's
 * messages minus the growth of its DLQ (a deferral deletes its original and sends a copy: no drop, no creation).
 * Messages sent while watching lower the figure; SQS's numbers are approximate. A watch that begins during a drain
 * may count twice a record in flight whose copy (or dead letter) was already sent: the summary then gives a range.
 * At the end (the queues empty, or Ctrl-C), created against failed by reason: the DLQ's `ErrorName` attributes, read
 * without taking a message.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface WatchedQueue {
  name: string;
  url: string;
  dlqUrl?: string;
}

export interface Depth {
  visible: number;
  delayed: number;
  inFlight: number;
  dlq: number;
}

const total = (d: Depth) => d.visible + d.delayed + d.inFlight;

/** The queue at `url`, with its dead-letter queue from its RedrivePolicy (same account and region). */
export const watchedQueue = async (sqs: SQSClient, url: string): Promise<WatchedQueue> => {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn', 'RedrivePolicy'] }),
  );
  const name = a.QueueArn?.split(':').pop() ?? url.split('/').pop()!;
  const target = a.RedrivePolicy
    ? (JSON.parse(a.RedrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn
    : undefined;
  if (!target) return { name, url };
  const [, , , , account, dlqName] = target.split(':');
  const { QueueUrl } = await sqs.send(
    new GetQueueUrlCommand({ QueueName: dlqName, ...(account && { QueueOwnerAWSAccountId: account }) }),
  );
  return { name, url, dlqUrl: QueueUrl };
};

const count = (attributes: Record<string, string>, name: string) => Number(attributes[name] ?? 0);

export const depthOf = async (sqs: SQSClient, queue: WatchedQueue): Promise<Depth> => {
  const names = [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesDelayed',
    'ApproximateNumberOfMessagesNotVisible',
  ] as const;
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: [...names] }),
  );
  let dlq = 0;
  if (queue.dlqUrl) {
    const { Attributes: d = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.dlqUrl, AttributeNames: [...names] }),
    );
    dlq = names.reduce((sum, n) => sum + count(d, n), 0);
  }
  return { visible: count(a, names[0]), delayed: count(a, names[1]), inFlight: count(a, names[2]), dlq };
};

/**
 * The DLQ's messages by `ErrorName` (those SQS moved itself after maxReceiveCount carry none). Each message is
 * received once (hidden while the scan runs, so none is counted twice) and made visible again at once: nothing is
 * taken. Up to `limit` messages.
 */
export const deadLettersByReason = async (
  sqs: SQSClient,
  dlqUrl: string,
  limit = 10_000,
): Promise<Map<string, number>> => {
  const reasons = new Map<string, number>();
  const seen: Message[] = [];
  try {
    while (seen.length < limit) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 60,
          MessageAttributeNames: ['ErrorName'],
        }),
      );
      if (Messages.length === 0) break;
      for (const m of Messages) {
        const reason =
          m.MessageAttributes?.ErrorName?.StringValue ?? 'no ErrorName (moved by SQS after maxReceiveCount receives)';
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
      seen.push(...Messages);
    }
  } finally {
    for (let i = 0; i < seen.length; i += 10) {
      const entries = seen
        .slice(i, i + 10)
        .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }));
      await sqs
        .send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: dlqUrl, Entries: entries }))
        .catch(() => undefined);
    }
  }
  return reasons;
};

export interface WatchOptions {
  intervalMs: number;
  write: (line: string) => void;
  /** Stops early (Ctrl-C); the summary is still printed. */
  signal?: AbortSignal;
}

const pad = (value: string | number, width: number) => String(value).padStart(width);

/** One line per queue and tick. */
const tickLine = (elapsedSeconds: number, queue: WatchedQueue, d: Depth, perSecond: number) =>
  `${pad(Math.round(elapsedSeconds), 5)} s  ${queue.name.padEnd(40)} visible ${pad(d.visible, 7)}  delayed (deferred) ${pad(d.delayed, 6)}  in flight ${pad(d.inFlight, 5)}  created ${pad(perSecond.toFixed(1), 6)}/s  DLQ ${pad(d.dlq, 6)}`;

/** Watches until every queue is empty (or the signal aborts), then prints created against failed by reason. */
export const watch = async (
  sqs: SQSClient,
  queues: WatchedQueue[],
  options: WatchOptions,
): Promise<{ created: number[]; deadLettered: number[] }> => {
  const sleep = () =>
    new Promise((done) => {
      const timer = setTimeout(done, options.intervalMs);
      options.signal?.addEventListener('abort', () => (clearTimeout(timer), done(undefined)), { once: true });
    });
  const first = await Promise.all(queues.map((q) => depthOf(sqs, q)));
  const started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;
  queues.forEach((q, i) => options.write(tickLine(0, q, first[i]!, 0)));
  let last = first;
  let lastAt = Date.now();
  while (!last.every((d) => total(d) === 0) && !options.signal?.aborted) {
    await sleep();
    const depths = await Promise.all(queues.map((q) => depthOf(sqs, q)));
    const seconds = Math.max(0.001, (Date.now() - lastAt) / 1000);
    queues.forEach((q, i) => {
      const handled = total(last[i]!) - total(depths[i]!) - (depths[i]!.dlq - last[i]!.dlq);
      options.write(tickLine(elapsed(), q, depths[i]!, Math.max(0, handled) / seconds));
    });
    last = depths;
    lastAt = Date.now();
  }
  const created = queues.map((_, i) =>
    Math.max(0, total(first[i]!) - total(last[i]!) - (last[i]!.dlq - first[i]!.dlq)),
  );
  const deadLettered = queues.map((_, i) => last[i]!.dlq - first[i]!.dlq);
  options.write('');
  for (const [i, q] of queues.entries()) {
    // A deferred record's copy is sent before its batch ends and deletes the original, and a dead letter before its
    // original goes: a watch that begins with messages in flight counts each such pair twice in its first figure.
    const overcount = Math.min(first[i]!.inFlight, created[i]!);
    const createdText = overcount > 0 ? `between ${created[i]! - overcount} and ${created[i]}` : `${created[i]}`;
    options.write(
      `${q.name}: created ${createdText} while watched (left the queue, not dead-lettered), dead-lettered ${deadLettered[i]}, ${total(last[i]!)} still queued`,
    );
    if (overcount > 0)
      options.write(
        `  (the watch began with ${first[i]!.inFlight} in flight: a deferred copy or a dead letter sent before its original was deleted counts twice)`,
      );
    if (!q.dlqUrl) continue;
    const reasons = await deadLettersByReason(sqs, q.dlqUrl);
    const listed = [...reasons.entries()].sort((a, b) => b[1] - a[1]);
    options.write(`  in its DLQ now: ${last[i]!.dlq}${listed.length ? ', by reason:' : ''}`);
    for (const [reason, n] of listed) options.write(`    ${pad(n, 7)}  ${reason}`);
  }
  return { created, deadLettered };
};
