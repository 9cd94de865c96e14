/** The Lambda side of a run: an API Gateway HTTP API (payload 2.0) `POST /contacts` event and a context. */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

export const contactEvent = (userId: string): APIGatewayProxyEventV2 => {
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: 'POST /contacts',
    rawPath: '/contacts',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'api.example.com', 'user-agent': 'bench' },
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: 'POST', path: '/contacts', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: randomUUID(),
      routeKey: 'POST /contacts',
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    body: JSON.stringify({ participants: [{ user_id: userId }] }),
    isBase64Encoded: false,
  };
};

export const lambdaContext = (remainingMs = 10_000): Context => {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/bench',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

export type Handler = (event: unknown, context: Context) => Promise<{ statusCode?: number; body?: string }>;
