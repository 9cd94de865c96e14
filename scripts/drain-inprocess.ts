/**
 * A bulk drain measured without serverless-offline: N contact messages in the local SQS (fauxqs), five function
 * instances of create-contact/queue (each a worker thread with its own memory, as Lambda gives each instance its own)
 * polling the queue like the event source mapping, and the Mixin sandbox limited to R creations per second.
 * A development measurement of the rate limiter and the deferral (README "Queues"); `npm run load` is the full one.
 *
 *   npx tsx scripts/drain-inprocess.ts              # R=2/s, N=100, 5 instances
 *   DRAIN_RATE=20 DRAIN_RECORDS=1000 npx tsx scripts/drain-inprocess.ts
 *
 * Prints one JSON line: drain time (first message sent to last conversation created) against N/R, Mixin calls per
 * record, the share answered 429, deferred copies, records in the DLQ, lost and duplicated. Exit 1 when a record is
 * lost or in the DLQ, 2 on the time limit (DRAIN_TIME_LIMIT_S, default 5 x N/R + 60).
 */
import { randomUUID } from 'node:crypto';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { EventSourceMapping } from '../infra/local/event-source-mapping';
import { makeBot } from '../infra/local/keys';
import { lambdaContext } from '../infra/local/lambda-events';
import { MixinSandbox } from '../infra/local/mixin-sandbox';
import { LocalSecretsManager } from '../infra/local/secrets-manager';
import { LocalSqs } from '../infra/local/sqs';
import { uniqueConversationId } from '../lib/conversation-id';

interface InstanceData {
  env: Record<string, string>;
  queueUrl: string;
  queueArn: string;
  region: string;
  endpoint: string;
}

const num = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};

/** One function instance: the real handler, fed by its own poller (one batch at a time, as one Lambda instance). */
const instance = async ({ env, queueUrl, queueArn, region, endpoint }: InstanceData): Promise<void> => {
  Object.assign(process.env, env);
  const { handler } = (await import('../functions/create-contact/queue')) as unknown as {
    handler: (e: SQSEvent, c: unknown) => Promise<SQSBatchResponse>;
  };
  const { localSqsClient } = await import('../infra/local/sqs');
  const sqs = localSqsClient(endpoint, region);
  const mapping = new EventSourceMapping({
    sqs,
    queueUrl,
    queueArn,
    region,
    pollers: 1,
    waitTimeSeconds: 1,
    invoke: (event) => handler(event, lambdaContext(30_000)),
  });
  mapping.start();
  parentPort!.on('message', async () => {
    await mapping.stop();
    sqs.destroy();
    parentPort!.postMessage('stopped');
  });
};

const main = async (): Promise<number> => {
  const rate = num('DRAIN_RATE', 2);
  const records = num('DRAIN_RECORDS', 100);
  const instances = num('DRAIN_INSTANCES', 5);
  const limitS = num('DRAIN_TIME_LIMIT_S', (5 * records) / rate + 60);
  const bot = makeBot();
  const sandbox = await new MixinSandbox({
    apps: [bot.app],
    rateLimitPerSecond: rate,
    latencyMs: num('DRAIN_LATENCY_MS', 20),
  }).start();
  const secrets = await new LocalSecretsManager().start();
  const secretId = `mixin/drain-${randomUUID()}`;
  secrets.put(secretId, JSON.stringify(bot.json));
  // The deployed ratio: visibility timeout well over six times the function's 30 s, so no batch is handed out twice.
  const sqs = await LocalSqs.start({ visibilityTimeoutSeconds: 190 });
  const client = sqs.client();
  const queue = sqs.queue('CreateContactQueue');
  const dlq = sqs.deadLetterQueueOf('CreateContactQueue');
  const env = {
    AWS_REGION: sqs.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    MIXIN_API_URL: sandbox.url,
    MIXIN_KEYSTORE_SECRET_ID: secretId,
    DEAD_LETTER_QUEUE_URL: dlq.url,
    SOURCE_QUEUE_URL: queue.url,
    MAX_RECEIVE_COUNT: String(queue.redrive?.maxReceiveCount ?? 5),
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const users = Array.from({ length: records }, () => randomUUID());
  const started = performance.now();
  for (let i = 0; i < users.length; i += 10) {
    const entries = users
      .slice(i, i + 10)
      .map((user, j) => ({ Id: String(j), MessageBody: JSON.stringify({ participants: [{ user_id: user }] }) }));
    const out = await client.send(new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: entries }));
    if ((out.Failed ?? []).length > 0) throw new Error('the local queue refused a message');
  }
  const workers = Array.from(
    { length: instances },
    () =>
      new Worker(__filename, {
        execArgv: ['--import', 'tsx'],
        workerData: { env, queueUrl: queue.url, queueArn: queue.arn, region: sqs.region, endpoint: sqs.endpoint },
      }),
  );
  let lastCreatedAt = started;
  let seen = 0;
  let timedOut = false;
  while (sandbox.created < records) {
    if (sandbox.created > seen) [seen, lastCreatedAt] = [sandbox.created, performance.now()];
    if (performance.now() - started > limitS * 1000) {
      timedOut = true;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (sandbox.created > seen) lastCreatedAt = performance.now();
  await Promise.all(
    workers.map(
      (w) =>
        new Promise((resolve) => {
          w.once('message', resolve);
          w.postMessage('stop');
        }),
    ),
  );
  await Promise.all(workers.map((w) => w.terminate()));
  const dead: unknown[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: dlq.url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 600,
      }),
    );
    if (Messages.length === 0) break;
    dead.push(...Messages);
  }
  const app = bot.keystore.appId;
  const lost = users.filter((u) => !sandbox.conversations.has(uniqueConversationId(app, u))).length - dead.length;
  const posts = sandbox.postCount;
  const drainS = (lastCreatedAt - started) / 1000;
  const result = {
    rate,
    records,
    instances,
    drainSeconds: Number(drainS.toFixed(1)),
    idealSeconds: records / rate,
    drainOverIdeal: Number((drainS / (records / rate)).toFixed(3)),
    callsPerRecord: Number((posts / records).toFixed(3)),
    share429: Number((sandbox.rateLimited / Math.max(1, posts)).toFixed(3)),
    deadLettered: dead.length,
    lost,
    duplicated: 0, // contacts: one ID per user, so a second create returns the same conversation (sandbox.created counts new ones)
    created: sandbox.created,
    timedOut,
  };
  console.log(JSON.stringify(result));
  client.destroy();
  await Promise.all([sandbox.stop(), secrets.stop(), sqs.stop()]);
  if (timedOut) return 2;
  return dead.length > 0 || lost > 0 ? 1 : 0;
};

if (isMainThread) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else {
  void instance(workerData as InstanceData);
}
