import { v5 } from 'uuid';
import { InvalidRequestError } from './errors';
import { PATTERN_MESSAGES, UUID_PATTERN as UUID_SOURCE } from './schemas/patterns.mjs';

/**
 * Any 8-4-4-4-12 hex string. Deliberately wider than `uuid`'s `validate`, which accepts only versions 1-8
 * with the RFC variant (plus nil and max): the contract is "reject what is not a UUID", and an ID we accepted
 * yesterday (say a version-0 or non-RFC-variant one) must not turn into a 400 today.
 */
const UUID_PATTERN = new RegExp(UUID_SOURCE); // the schemas' own pattern: one rule for a UUID

/** True when `value` is a canonical 8-4-4-4-12 hex UUID (any version, any variant, any case). */
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_PATTERN.test(value);

/**
 * Lower-cases a UUID, or throws an {@link InvalidRequestError} naming `field`.
 * Mixin IDs are lower case; hashing an upper-case copy would give a different conversation.
 */
export const normaliseUuid = (value: unknown, field: string): string => {
  if (!isUuid(value)) throw InvalidRequestError.field(field, PATTERN_MESSAGES[UUID_SOURCE]!);
  return value.toLowerCase();
};

/**
 * Formats 16 bytes as a lower-case canonical UUID. Ours rather than `uuid`'s `stringify`, which throws
 * unless the bytes already carry a version 1-8 and the RFC variant.
 */
export const formatUuid = (bytes: Uint8Array): string => {
  const hex = Buffer.from(bytes.subarray(0, 16)).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

/**
 * Name-based UUID (RFC 9562 version 5: SHA-1 over namespace bytes + UTF-8 name), by `uuid`'s `v5`.
 * The name goes in as bytes: `uuid` encodes a string with `encodeURIComponent`, which throws on a lone
 * surrogate, while `Buffer` writes U+FFFD as this function always has, so every key keeps its random_id.
 * @throws TypeError when `namespace` is not an RFC UUID (`uuid` checks it).
 */
export const uuidV5 = (namespace: string, name: string): string => v5(Buffer.from(name, 'utf8'), namespace);
