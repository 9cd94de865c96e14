import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { MixinSandbox } from '../../infra/local/mixin-sandbox';
import { LocalSecretsManager } from '../../infra/local/secrets-manager';
import { makeBot, type TestBot } from './keys';

/** A Mixin sandbox and a local Secrets Manager on 127.0.0.1 holding a throwaway bot's keystore, and the env that points the real handlers at them. */
export interface Harness {
  sandbox: MixinSandbox;
  secrets: LocalSecretsManager;
  bot: TestBot;
  secretId: string;
  /** Loads a module with a fresh module registry (fresh config, fresh keystore cache). */
  load: <T>(path: string) => T;
  stop: () => Promise<void>;
}

export const startHarness = async (env: Record<string, string> = {}): Promise<Harness> => {
  const bot = makeBot();
  const sandbox = await new MixinSandbox({ apps: [bot.app] }).start();
  const secrets = await new LocalSecretsManager().start();
  const secretId = `mixin/bot-${randomUUID()}`;
  secrets.put(secretId, JSON.stringify(bot.json));
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    MIXIN_API_URL: sandbox.url,
    MIXIN_KEYSTORE_SECRET_ID: secretId,
    MIXIN_ATTEMPT_TIMEOUT_MS: '300',
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...env,
  });
  const clearers: (() => void)[] = [];
  const load = <T>(path: string): T => {
    let mod: T | undefined;
    jest.isolateModules(() => {
      // A fresh registry per load needs a synchronous require.
      /* eslint-disable @typescript-eslint/no-require-imports */
      mod = require(path) as T;
      const { clearCache } = require('@middy/util') as { clearCache: () => void };
      /* eslint-enable @typescript-eslint/no-require-imports */
      clearers.push(clearCache);
    });
    return mod!;
  };
  return {
    sandbox,
    secrets,
    bot,
    secretId,
    load,
    stop: async () => {
      for (const clear of clearers) clear();
      process.env = saved;
      await Promise.all([sandbox.stop(), secrets.stop()]);
    },
  };
};

/** A Lambda context whose deadline is `remainingMs` from now. */
export const lambdaContext = (remainingMs = 10_000): Context => {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

/** An API Gateway HTTP API (payload 2.0) event. */
export const httpEvent = (body: string | undefined, options: { path?: string; headers?: Record<string, string>; isBase64Encoded?: boolean } = {}) => ({
  version: '2.0',
  routeKey: `POST ${options.path ?? '/groups'}`,
  rawPath: options.path ?? '/groups',
  rawQueryString: '',
  headers: { 'content-type': 'application/json', ...options.headers },
  requestContext: {
    accountId: '000000000000',
    apiId: 'local',
    domainName: 'localhost',
    domainPrefix: 'localhost',
    http: { method: 'POST', path: options.path ?? '/groups', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
    requestId: randomUUID(),
    routeKey: `POST ${options.path ?? '/groups'}`,
    stage: '$default',
    time: new Date().toISOString(),
    timeEpoch: Date.now(),
  },
  body,
  isBase64Encoded: options.isBase64Encoded ?? false,
});

/** A handler as the Lambda runtime calls it. */
export type LambdaHandler<E = unknown, R = unknown> = (event: E, context: Context) => Promise<R>;

/** An SQS event as the event source mapping delivers it; pass message IDs to model a redelivery. */
export const sqsEvent = (bodies: string[], messageIds: string[] = bodies.map(() => randomUUID()), receiveCount = 1) => ({
  Records: bodies.map((body, i) => ({
    messageId: messageIds[i]!,
    receiptHandle: `handle-${messageIds[i]}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:create-group',
    awsRegion: 'us-east-1',
  })),
});
