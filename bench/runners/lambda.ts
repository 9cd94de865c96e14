/** The Lambda side of a run: an API Gateway HTTP API (payload 2.0) `POST /contacts` event and a context. */
import type { Context } from 'aws-lambda';
import { httpEvent } from '../../infra/local/lambda-events';

export { lambdaContext } from '../../infra/local/lambda-events';

export const contactEvent = (userId: string) => httpEvent(JSON.stringify({ participants: [{ user_id: userId }] }), { path: '/contacts' });

export type Handler = (event: unknown, context: Context) => Promise<{ statusCode?: number; body?: string }>;
