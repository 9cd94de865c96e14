// The JSON Schemas of every input, in one place. `npm run build:schemas` compiles them to
// lib/schemas/generated/ with ajv standalone, so no schema is compiled at cold start.
// Limits come from Mixin: at most 256 participants, group names of at most 512 code points.

import { NAME_PATTERN, TEXT_PATTERN, UUID_PATTERN } from './patterns.mjs';

const uuid = { type: 'string', pattern: UUID_PATTERN };

// Its length rule (1 to 256 characters) is checked by lib/idempotency-key.ts, the one rule of all three triggers.
const idempotencyKey = { type: 'string' };

const groupProperties = {
  name: { type: 'string', minLength: 1, maxLength: 512, pattern: NAME_PATTERN },
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
  announcement: { type: 'string', maxLength: 4096, pattern: TEXT_PATTERN },
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

/** Validators by export name: HTTP and queue bodies, and workflow task inputs (which may carry idempotency_key). */
export const schemas = {
  group: object(groupProperties, ['name', 'participants']),
  contact: object(contactProperties, ['participants']),
  groupTask: object({ ...groupProperties, idempotency_key: idempotencyKey }, ['name', 'participants']),
  contactTask: object({ ...contactProperties, idempotency_key: idempotencyKey }, ['participants']),
};
