import { type FieldProblem, InvalidRequestError } from '../errors';
import { checkIdempotencyKey } from '../idempotency-key';
import { validate as contactTaskSchema } from '../schemas/generated/contactTask.js';
import { validate as groupTaskSchema } from '../schemas/generated/groupTask.js';
import { type CompiledValidator, validate } from '../validation';

/** A workflow task input split into the use-case input and the optional `idempotency_key`. */
export interface TaskInput {
  input: Record<string, unknown>;
  idempotencyKey: string | undefined;
}

/** The problems `check` finds, as field problems (none when it passes). */
const problemsOf = (check: () => void): FieldProblem[] => {
  try {
    check();
    return [];
  } catch (error) {
    if (error instanceof InvalidRequestError) return error.details;
    throw error;
  }
};

/**
 * Validates a Step Functions task input (its `*Task` schema, and the one idempotency-key rule for
 * `idempotency_key`), naming every bad field at once, and takes `idempotency_key` out of it.
 */
const taskInput = (schema: CompiledValidator, event: unknown): TaskInput => {
  const value = (event as { idempotency_key?: unknown } | null)?.idempotency_key;
  let idempotencyKey: string | undefined;
  const problems = [
    ...problemsOf(() => validate(schema, event)),
    ...(typeof value === 'string'
      ? problemsOf(() => (idempotencyKey = checkIdempotencyKey(value, 'idempotency_key')))
      : []),
  ];
  if (problems.length > 0) throw new InvalidRequestError(problems);
  const { idempotency_key: _key, ...input } = event as Record<string, unknown>;
  return { input, idempotencyKey };
};

/** A `createGroupWorkflow` task input: the `POST /groups` body plus an optional `idempotency_key`. */
export const groupTaskInput = (event: unknown): TaskInput => taskInput(groupTaskSchema, event);

/** A `createContactWorkflow` task input: the `POST /contacts` body plus an optional `idempotency_key`. */
export const contactTaskInput = (event: unknown): TaskInput => taskInput(contactTaskSchema, event);
