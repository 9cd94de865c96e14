/**
 * Lambda events and contexts as AWS delivers them, for driving the real handlers in-process: the tests, the load
 * script and the benchmark use these. A development tool, like the rest of infra/local/.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

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
export const httpEvent = (
  body: string | undefined,
  options: { path?: string; headers?: Record<string, string>; isBase64Encoded?: boolean } = {},
) => ({
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
    http: {
      method: 'POST',
      path: options.path ?? '/groups',
      protocol: 'HTTP/1.1',
      sourceIp: '127.0.0.1',
      userAgent: 'jest',
    },
    requestId: randomUUID(),
    routeKey: `POST ${options.path ?? '/groups'}`,
    stage: '$default',
    time: new Date().toISOString(),
    timeEpoch: Date.now(),
  },
  body,
  isBase64Encoded: options.isBase64Encoded ?? false,
});

/** An SQS event as the event source mapping delivers it; pass message IDs to model a redelivery. */
export const sqsEvent = (
  bodies: string[],
  messageIds: string[] = bodies.map(() => randomUUID()),
  receiveCount = 1,
) => ({
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
