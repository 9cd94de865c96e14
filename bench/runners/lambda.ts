/**
 * The Lambda side of a run: an API Gateway HTTP API (payload 2.0) `POST /contacts` event or an SQS batch of one
 * contact record, and a context.
 */
import type { Context } from 'aws-lambda';
import { httpEvent, sqsEvent } from '../../infra/local/lambda-events';

export { lambdaContext } from '../../infra/local/lambda-events';

const contactBody = (userId: string) => JSON.stringify({ participants: [{ user_id: userId }] });

export const contactEvent = (userId: string) => httpEvent(contactBody(userId), { path: '/contacts' });

/** An SQS batch of one valid contact record, as the event source mapping delivers it. */
export const contactQueueEvent = (userId: string) => sqsEvent([contactBody(userId)]);

export type Handler = (event: unknown, context: Context) => Promise<{ statusCode?: number; body?: string }>;
export type QueueHandler = (
  event: unknown,
  context: Context,
) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
