// The JSON Schemas of every input, in one place. `npm run build:schemas` compiles them to
// lib/schemas/generated/ with ajv standalone, so no schema is compiled at cold start.
// Limits come from Mixin: at most 256 participants, group names of at most 512 code points.

import { EXCLUSIVE_FIELDS, NAME_PATTERN, TEXT_PATTERN, UUID_PATTERN } from './patterns.mjs';

const uuid = { type: 'string', pattern: UUID_PATTERN };

// Its length rule (1 to 256 characters) is checked by lib/idempotency-key.ts, the one rule of all three triggers.
const idempotencyKey = { type: 'string' };

// The patterns use \p{...} and code-point classes: JSON Schema 2020-12 regexes, which a JavaScript client must compile
// with the `u` flag (ajv does). Without it they are other rules, silently: emoji refused, a lone zero-width space taken.
const U_FLAG =
  'The pattern is a JSON Schema (ECMA-262 Unicode) regex: compiled as JavaScript, it needs the `u` flag, without which it silently means other rules (emoji refused, a lone zero-width space accepted).';

const groupProperties = {
  name: {
    type: 'string',
    minLength: 1,
    maxLength: 512,
    pattern: NAME_PATTERN,
    description: `1 to 512 characters (code points), at least one visible; no control character or unpaired surrogate. ${U_FLAG}`,
  },
  participants: {
    type: 'array',
    minItems: 1,
    maxItems: 256,
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['user_id'],
      properties: { user_id: uuid, role: { enum: ['', 'ADMIN'] } },
    },
  },
  announcement: {
    type: 'string',
    maxLength: 4096,
    pattern: TEXT_PATTERN,
    description: `At most 4,096 characters; tab and line breaks allowed, no other control character or unpaired surrogate. ${U_FLAG}`,
  },
  random_id: uuid,
  conversation_id: uuid,
};

const contactProperties = {
  participants: {
    type: 'array',
    minItems: 1,
    maxItems: 1,
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['user_id'],
      properties: { user_id: uuid },
    },
  },
};

const object = (properties, required) => ({ type: 'object', additionalProperties: false, required, properties });

// conversation_id and random_id exclude each other: ajv reports it at EXCLUSIVE_FIELDS_PATH (patterns.mjs says how).
const group = (properties) => ({
  ...object(properties, ['name', 'participants']),
  not: {
    description: `\`${EXCLUSIVE_FIELDS.field}\` and \`${EXCLUSIVE_FIELDS.other}\` exclude each other (400 naming \`${EXCLUSIVE_FIELDS.field}\`).`,
    type: 'object',
    required: [EXCLUSIVE_FIELDS.field, EXCLUSIVE_FIELDS.other],
    properties: { [EXCLUSIVE_FIELDS.field]: true, [EXCLUSIVE_FIELDS.other]: true },
  },
});

/** Validators by export name: HTTP and queue bodies, and workflow task inputs (which may carry idempotency_key). */
export const schemas = {
  group: group(groupProperties),
  contact: object(contactProperties, ['participants']),
  groupTask: group({ ...groupProperties, idempotency_key: idempotencyKey }),
  contactTask: object({ ...contactProperties, idempotency_key: idempotencyKey }, ['participants']),
};
