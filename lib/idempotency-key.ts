import { InvalidRequestError } from './errors';

const UNPAIRED_SURROGATE = /[\uD800-\uDFFF]/u;

/** Longest idempotency key, in characters (Unicode code points, as every length in this service is counted). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

/**
 * A key in double quotes: a Structured Field String (RFC 8941), as the IETF draft sends the `Idempotency-Key`
 * header, with `\"` and `\\` escapes. Anything else (a lone quote, quotes inside, an unescaped quote) is a key as
 * it stands.
 */
export const QUOTED_KEY = /^"((?:[^"\\]|\\["\\])*)"$/;

/** The key a value names: the quoted form is the key without its quotes and escapes. */
const unquotedKey = (value: string): string => {
  const quoted = QUOTED_KEY.exec(value);
  return quoted ? quoted[1]!.replace(/\\(["\\])/g, '$1') : value;
};

/**
 * The one idempotency-key rule of every trigger (the HTTP `Idempotency-Key` header, the SQS `IdempotencyKey`
 * message attribute, the workflow `idempotency_key`): a key in double quotes is the same key as without them
 * ({@link unquotedKey}: a producer may forward the header value as it came); then 1 to 256 characters, no
 * unpaired surrogate. Returns the key, or throws an {@link InvalidRequestError} naming `field`.
 */
export const checkIdempotencyKey = (value: string, field: string): string => {
  const key = unquotedKey(value);
  let length = 0;
  for (const _ of key) if (++length > MAX_IDEMPOTENCY_KEY_LENGTH) break;
  if (length === 0 || length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw InvalidRequestError.field(field, `must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  // Hashed as UTF-8, every unpaired surrogate would become U+FFFD: two different keys, one group.
  if (UNPAIRED_SURROGATE.test(key)) throw InvalidRequestError.field(field, 'must not hold an unpaired surrogate');
  return key;
};
