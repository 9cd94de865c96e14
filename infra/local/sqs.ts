/**
 * A local SQS on 127.0.0.1 for `npm start` and the tests: the fauxqs emulator (SQS JSON protocol, as the AWS SDK
 * and CLI speak it; ApproximateReceiveCount; redrive to a DLQ after maxReceiveCount) holding the template's queues
 * (infra/queues.yml) under the names a stage gives them, with their redrive policy. Only the visibility timeout
 * differs: shorter, with the queue functions' timeout shortened to keep the deployed ratio, so that a failed record
 * comes back while you watch.
 */
import { plainNumber } from '../../lib/config';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type TemplateQueue, templateQueues } from './template';

const HOST = '127.0.0.1';
/** The template's service name: queue names start with it. */
export const SERVICE = 'mixin-conversations';
/**
 * Seconds a received message stays hidden locally, unless LOCAL_QUEUE_VISIBILITY_TIMEOUT says otherwise: six times
 * the local queue functions' timeout (infra/local/queue-settings.ts), the deployed ratio (190 s for 30 s).
 */
export const DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 30;

/** A template queue as created locally. */
export interface LocalQueue extends TemplateQueue {
  url: string;
  arn: string;
}

export interface LocalSqsOptions {
  /** 0 (default) lets the kernel pick a free port. */
  port?: number;
  region?: string;
  stage?: string;
  visibilityTimeoutSeconds?: number;
}

/** LOCAL_QUEUE_VISIBILITY_TIMEOUT (whole seconds, 0 to 43200, SQS's range), or the default. */
export const visibilityTimeoutFrom = (env: NodeJS.ProcessEnv): number => {
  const seconds = plainNumber(env, 'LOCAL_QUEUE_VISIBILITY_TIMEOUT');
  if (seconds === undefined) return DEFAULT_VISIBILITY_TIMEOUT_SECONDS;
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200)
    throw new Error(
      `LOCAL_QUEUE_VISIBILITY_TIMEOUT must be whole seconds (0-43200), got "${env.LOCAL_QUEUE_VISIBILITY_TIMEOUT}"`,
    );
  return seconds;
};

/** An SDK client for an endpoint that checks no signature (the SDK still wants something to sign with). */
export const localSqsClient = (endpoint: string, region: string): SQSClient =>
  new SQSClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

/** Operations whose answers carry queue URLs. */
const QUEUE_URL_ANSWERS = new Set([
  'AmazonSQS.CreateQueue',
  'AmazonSQS.GetQueueUrl',
  'AmazonSQS.ListQueues',
  'AmazonSQS.ListDeadLetterSourceQueues',
]);
/** fauxqs's own queue URL host, `sqs.<region>.localhost:<port>`, which Node's resolver does not know. */
const FAUXQS_QUEUE_URL_ORIGIN = /http:\/\/sqs\.[a-z0-9-]+\.localhost(?::\d+)?\//g;

/** fauxqs listening on 127.0.0.1 only (its `startFauxqs` would listen on every interface). */
const listen = async (port: number) => {
  // fauxqs is ESM only: a dynamic import loads it from CommonJS (tsx) as well.
  const { buildApp } = await import('fauxqs');
  const app = buildApp({ logger: false });
  // fauxqs finds a queue by the name in its URL whatever the host: hand out 127.0.0.1 URLs, which the SDK
  // (it sends to the queue URL's host) and the CLI reach as they are.
  app.addHook(
    'onSend',
    async (request: { headers: NodeJS.Dict<string | string[]> }, _reply: unknown, payload: unknown) => {
      if (typeof payload !== 'string' || !QUEUE_URL_ANSWERS.has(String(request.headers['x-amz-target'])))
        return payload;
      return payload.replace(FAUXQS_QUEUE_URL_ORIGIN, `http://${request.headers.host}/`);
    },
  );
  const address = await app.listen({ host: HOST, port });
  return { app, endpoint: address.replace('localhost', HOST) };
};

/** Creates the queues, dead-letter queues first so that the others can name them in their redrive policy. */
const createQueues = async (
  sqs: SQSClient,
  queues: TemplateQueue[],
  visibilityTimeoutSeconds: number,
): Promise<LocalQueue[]> => {
  const created = new Map<string, LocalQueue>();
  const ordered = [...queues.filter((q) => !q.redrive), ...queues.filter((q) => q.redrive)];
  for (const queue of ordered) {
    const attributes: Record<string, string> = { VisibilityTimeout: String(visibilityTimeoutSeconds) };
    if (queue.redrive) {
      const deadLetter = created.get(queue.redrive.deadLetterLogicalId);
      if (!deadLetter)
        throw new Error(
          `${queue.logicalId}: its dead-letter queue ${queue.redrive.deadLetterLogicalId} is not in infra/queues.yml`,
        );
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: deadLetter.arn,
        maxReceiveCount: queue.redrive.maxReceiveCount,
      });
    }
    const { QueueUrl: url } = await sqs.send(new CreateQueueCommand({ QueueName: queue.name, Attributes: attributes }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
    );
    created.set(queue.logicalId, { ...queue, url: url!, arn: Attributes!.QueueArn! });
  }
  return queues.map((q) => created.get(q.logicalId)!);
};

export class LocalSqs {
  private constructor(
    /** http://127.0.0.1:<port>: what AWS_ENDPOINT_URL_SQS and `aws --endpoint-url` take. */
    readonly endpoint: string,
    readonly region: string,
    /** The template's queues, in infra/queues.yml order. */
    readonly queues: LocalQueue[],
    private readonly closeServer: () => Promise<void>,
  ) {}

  /** Starts fauxqs on 127.0.0.1 and creates the template's queues for the stage (default `local`). */
  static async start(options: LocalSqsOptions = {}): Promise<LocalSqs> {
    const region = options.region ?? 'us-east-1';
    const { app, endpoint } = await listen(options.port ?? 0);
    const sqs = localSqsClient(endpoint, region);
    try {
      const queues = await createQueues(
        sqs,
        templateQueues(SERVICE, options.stage ?? 'local'),
        options.visibilityTimeoutSeconds ?? DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
      );
      return new LocalSqs(endpoint, region, queues, () => app.close());
    } catch (error) {
      await app.close();
      throw error;
    } finally {
      sqs.destroy();
    }
  }

  /** The queue with that logical ID (e.g. CreateGroupDeadLetterQueue). */
  queue(logicalId: string): LocalQueue {
    const queue = this.queues.find((q) => q.logicalId === logicalId);
    if (!queue) throw new Error(`no queue ${logicalId} in infra/queues.yml`);
    return queue;
  }

  /** The dead-letter queue of a queue (by logical ID). */
  deadLetterQueueOf(logicalId: string): LocalQueue {
    const redrive = this.queue(logicalId).redrive;
    if (!redrive) throw new Error(`${logicalId} has no dead-letter queue`);
    return this.queue(redrive.deadLetterLogicalId);
  }

  /** An SDK client for this SQS. */
  client(): SQSClient {
    return localSqsClient(this.endpoint, this.region);
  }

  /** Closes the server and every open connection (long polls included). */
  stop(): Promise<void> {
    return this.closeServer();
  }
}
