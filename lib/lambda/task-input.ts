import { checkIdempotencyKey } from '../idempotency-key';
import { type CompiledValidator, validate } from '../validation';

/** A workflow task input split into the use-case input and the optional `idempotency_key`. */
export interface TaskInput {
  input: Record<string, unknown>;
  idempotencyKey: string | undefined;
}

/** Validates a Step Functions task input (with its `*Task` schema) and takes `idempotency_key` out of it. */
export const taskInput = (schema: CompiledValidator, event: unknown): TaskInput => {
  validate<{ idempotency_key?: string } & Record<string, unknown>>(schema, event);
  const { idempotency_key: key, ...input } = event;
  return { input, idempotencyKey: key === undefined ? undefined : checkIdempotencyKey(key, 'idempotency_key') };
};
