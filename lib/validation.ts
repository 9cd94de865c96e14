import { type FieldProblem, InvalidRequestError } from './errors';
import * as generated from './schemas/generated/validators.js';

/** The subset of an ajv error that we turn into a message. */
interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
}

type CompiledValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

/** The inputs we validate, each compiled at build time from lib/schemas/definitions.mjs. */
export type SchemaName = 'group' | 'contact' | 'groupTask' | 'contactTask';

const validators = generated as unknown as Record<SchemaName, CompiledValidator>;

/** At most this many problems are reported: enough to fix a request, bounded for a hostile one. */
const MAX_DETAILS = 20;

/** `/participants/3/user_id` → `participants[3].user_id`. */
const fieldName = (instancePath: string, child?: unknown): string => {
  const parts = instancePath.split('/').slice(1).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (typeof child === 'string') parts.push(child);
  return parts.reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '') || 'body';
};

const TYPE_NAMES: Record<string, string> = { object: 'an object', array: 'an array', string: 'a string' };

const describe = (error: SchemaError): FieldProblem => {
  const { instancePath, keyword, params } = error;
  switch (keyword) {
    case 'required':
      return { field: fieldName(instancePath, params.missingProperty), message: 'is required' };
    case 'additionalProperties':
      return { field: fieldName(instancePath, params.additionalProperty), message: 'is not an allowed field' };
    case 'type':
      return { field: fieldName(instancePath), message: `must be ${TYPE_NAMES[String(params.type)] ?? String(params.type)}` };
    case 'minLength':
      return { field: fieldName(instancePath), message: `must be at least ${String(params.limit)} character(s) long` };
    case 'maxLength':
      return { field: fieldName(instancePath), message: `must be at most ${String(params.limit)} characters long` };
    case 'minItems':
      return { field: fieldName(instancePath), message: `must have at least ${String(params.limit)} item(s)` };
    case 'maxItems':
      return { field: fieldName(instancePath), message: `must have at most ${String(params.limit)} item(s)` };
    case 'pattern':
      return { field: fieldName(instancePath), message: 'must be a UUID (8-4-4-4-12 hex digits)' };
    case 'enum':
      return { field: fieldName(instancePath), message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    default:
      return { field: fieldName(instancePath), message: `is invalid (${keyword})` };
  }
};

/**
 * Checks `input` against a compiled schema and narrows its type, or throws an {@link InvalidRequestError}
 * listing each offending field and why. Nothing invalid ever reaches Mixin.
 */
export function validate<T>(schema: SchemaName, input: unknown): asserts input is T {
  const validator = validators[schema];
  if (validator(input)) return;
  const seen = new Set<string>();
  const details: FieldProblem[] = [];
  for (const error of validator.errors ?? []) {
    const problem = describe(error);
    const key = `${problem.field}\u0000${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    details.push(problem);
    if (details.length === MAX_DETAILS) break;
  }
  throw new InvalidRequestError(details);
}
