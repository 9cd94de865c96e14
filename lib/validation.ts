import { type FieldProblem, InvalidRequestError } from './errors';
import { fieldPath, type PathPart } from './field-path';
import { EXCLUSIVE_FIELDS, PATTERN_MESSAGES } from './schemas/patterns.mjs';

/** The subset of an ajv error that we turn into a message. */
interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
}

/** A validator compiled at build time from lib/schemas/definitions.mjs (import it from lib/schemas/generated/<name>.js). */
export type CompiledValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

/** At most this many problems are reported: enough to fix a request, bounded for a hostile one. */
const MAX_DETAILS = 20;

/**
 * `/participants/3/user_id` → `participants[3].user_id`. A JSON Pointer does not say whether `3` is an index
 * or a key, so the data is walked alongside it.
 */
const fieldName = (data: unknown, instancePath: string, child?: unknown): string => {
  const parts: PathPart[] = [];
  let node = data;
  for (const raw of instancePath.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    const part = Array.isArray(node) ? Number(key) : key;
    parts.push(part);
    node = (node as Record<string, unknown> | undefined)?.[key];
  }
  if (typeof child === 'string') parts.push(child);
  return fieldPath(parts);
};

const TYPE_NAMES: Record<string, string> = { object: 'an object', array: 'an array', string: 'a string' };

const describe = (data: unknown, error: SchemaError): FieldProblem => {
  const { instancePath, keyword, params } = error;
  const at = (child?: unknown) => fieldName(data, instancePath, child);
  switch (keyword) {
    case 'required':
      return { field: at(params.missingProperty), message: 'is required' };
    case 'additionalProperties':
      return { field: at(params.additionalProperty), message: 'is not an allowed field' };
    case 'type':
      return { field: at(), message: `must be ${TYPE_NAMES[String(params.type)] ?? String(params.type)}` };
    case 'minLength':
      return { field: at(), message: `must be at least ${String(params.limit)} character(s) long` };
    case 'maxLength':
      return { field: at(), message: `must be at most ${String(params.limit)} characters long` };
    case 'minItems':
      return { field: at(), message: `must have at least ${String(params.limit)} item(s)` };
    case 'maxItems':
      return { field: at(), message: `must have at most ${String(params.limit)} item(s)` };
    case 'pattern':
      return { field: at(), message: PATTERN_MESSAGES[String(params.pattern)] ?? 'has a form that is not accepted' };
    case 'not':
      if (error.schemaPath === EXCLUSIVE_FIELDS.schemaPath)
        return { field: at(EXCLUSIVE_FIELDS.field), message: EXCLUSIVE_FIELDS.message };
      return { field: at(), message: 'is invalid (not)' };
    case 'enum':
      return {
        field: at(),
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    default:
      return { field: at(), message: `is invalid (${keyword})` };
  }
};

/**
 * Checks `input` against a compiled schema and narrows its type, or throws an {@link InvalidRequestError}
 * listing each offending field and why. Nothing invalid ever reaches Mixin.
 */
export function validate<T>(validator: CompiledValidator, input: unknown): asserts input is T {
  if (validator(input)) return;
  const seen = new Set<string>();
  const details: FieldProblem[] = [];
  for (const error of validator.errors ?? []) {
    const problem = describe(input, error);
    // One problem per field, the first found (a length before a form): enough to fix it, and no field named twice.
    if (seen.has(problem.field)) continue;
    seen.add(problem.field);
    details.push(problem);
    if (details.length === MAX_DETAILS) break;
  }
  throw new InvalidRequestError(details);
}
