// The string patterns of lib/schemas/definitions.mjs and what each means, in one place: the schemas use the patterns,
// lib/validation.ts names a failed one with its message. ajv compiles them with the `u` flag, so a class such as
// [\uD800-\uDFFF] matches an unpaired surrogate only (a pair is one code point).

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

// A group name Mixin stores as sent: a visible character at least (not white space, a format character such as U+200B,
// a lone combining mark or a blank filler), no control character, no unpaired surrogate (Mixin's Go JSON decoder would
// store U+FFFD in its place, and the group would no longer match the name its key was used with). Needs the `u` flag.
export const NAME_PATTERN =
  '^(?=[\\s\\S]*[^\\s\\p{Cf}\\p{M}\\u115F\\u1160\\u3164\\uFFA0\\u2800])[^\\u0000-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF]*$';

// Free text (an announcement): tabs and line breaks allowed, other control characters and unpaired surrogates not.
export const TEXT_PATTERN = '^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF]*$';

export const PATTERN_MESSAGES = {
  [UUID_PATTERN]: 'must be a UUID (8-4-4-4-12 hex digits)',
  [NAME_PATTERN]: 'must have a visible character, and no control character or unpaired surrogate',
  [TEXT_PATTERN]: 'must have no control character (but tab and line breaks) and no unpaired surrogate',
};

// The group schemas' `not: { required: [field, other] }`: ajv reports it at `schemaPath`, lib/validation.ts names
// `field` with this message (the message the handlers gave before the schema said it).
export const EXCLUSIVE_FIELDS = {
  schemaPath: '#/not',
  field: 'conversation_id',
  other: 'random_id',
  message: 'cannot be combined with random_id: give one or the other',
};
