import { InvalidRequestError } from './errors';

const UNPAIRED_SURROGATE = /[\uD800-\uDFFF]/u;

/** Longest idempotency key, in characters (Unicode code points, as every length in this service is counted). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

/**
 * The one idempotency-key rule of every trigger (the HTTP `Idempotency-Key` header, the SQS `IdempotencyKey`
 * message attribute, the workflow `idempotency_key`): 1 to 256 characters. Returns the key, or throws an
 * {@link InvalidRequestError} naming `field`.
 */
export const checkIdempotencyKey = (key: string, field: string): string => {
  let length = 0;
  for (const _ of key) if (++length > MAX_IDEMPOTENCY_KEY_LENGTH) break;
  if (length === 0 || length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw InvalidRequestError.field(field, `must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  // Hashed as UTF-8, every unpaired surrogate would become U+FFFD: two different keys, one group.
  if (UNPAIRED_SURROGATE.test(key)) throw InvalidRequestError.field(field, 'must not hold an unpaired surrogate');
  return key;
};
