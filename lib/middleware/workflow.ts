import type middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { MixinUnavailableError } from '../errors';
import { type CompiledValidator, validate } from '../validation';

/** A workflow task input split into the use-case input and the optional `idempotency_key`. */
export interface TaskInput {
  input: Record<string, unknown>;
  idempotencyKey: string | undefined;
}

/** Validates a Step Functions task input (with its `*Task` schema) and takes `idempotency_key` out of it. */
export const taskInput = (schema: CompiledValidator, event: unknown): TaskInput => {
  validate<{ idempotency_key?: string } & Record<string, unknown>>(schema, event);
  const { idempotency_key: idempotencyKey, ...input } = event;
  return { input, idempotencyKey };
};

/**
 * Lets our typed errors reach Step Functions with their stable `name` (States Retry/Catch match on it),
 * and turns middy's own early timeout into a retryable MixinUnavailableError.
 */
export const workflowErrors = (): middy.MiddlewareObj<unknown, unknown, Error, Context> => ({
  onError: (request) => {
    if (request.error?.name === 'TimeoutError') {
      request.error = new MixinUnavailableError('deadline', 'the function ran out of time', 0);
    }
  },
});
