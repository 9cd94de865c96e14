import { createHash } from 'node:crypto';
import { InvalidRequestError } from './errors';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a canonical 8-4-4-4-12 hex UUID (any version, any case). */
export const isUuid = (value: unknown): value is string =>
  typeof value === 'string' && UUID_PATTERN.test(value);

/**
 * Lower-cases a UUID, or throws an {@link InvalidRequestError} naming `field`.
 * Mixin IDs are lower case; hashing an upper-case copy would give a different conversation.
 */
export const normaliseUuid = (value: unknown, field: string): string => {
  if (!isUuid(value)) throw InvalidRequestError.field(field, 'must be a UUID (8-4-4-4-12 hex digits)');
  return value.toLowerCase();
};

/** Formats 16 bytes as a lower-case canonical UUID. */
export const formatUuid = (bytes: Uint8Array): string => {
  const hex = Buffer.from(bytes.subarray(0, 16)).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

/** The 16 bytes of a canonical UUID string. */
export const uuidBytes = (uuid: string): Buffer => Buffer.from(uuid.replaceAll('-', ''), 'hex');

/** Name-based UUID (RFC 9562 version 5: SHA-1 over namespace bytes + UTF-8 name). */
export const uuidV5 = (namespace: string, name: string): string => {
  const digest = createHash('sha1').update(uuidBytes(namespace)).update(name, 'utf8').digest();
  digest[6] = (digest[6]! & 0x0f) | 0x50;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  return formatUuid(digest);
};
