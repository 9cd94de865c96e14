import type middy from '@middy/core';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { httpErrorResponse } from '../http-status';

/** Answers every error with its HTTP status and stable code (the table is lib/lambda/http-status.ts). */
export const httpErrorResponses = (): middy.MiddlewareObj<
  unknown,
  APIGatewayProxyStructuredResultV2,
  Error,
  Context
> => {
  const httpErrorResponsesOnError: middy.MiddlewareFn<unknown, APIGatewayProxyStructuredResultV2, Error, Context> = (
    request,
  ) => {
    request.response = httpErrorResponse(request.error);
  };
  return { onError: httpErrorResponsesOnError };
};
