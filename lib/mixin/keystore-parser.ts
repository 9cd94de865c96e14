import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { KeystoreError } from '../errors';
import { isUuid } from '../uuid';

/** A parsed, validated bot keystore. Holds the key as a non-exportable-by-accident KeyObject, never as text. */
export interface Keystore {
  /** The bot's user ID (`app_id`, or `client_id` in the legacy format). */
  readonly appId: string;
  readonly sessionId: string;
  /** Ed25519 session private key. */
  readonly privateKey: KeyObject;
  /** Hex of the Ed25519 session public key: safe to log, useful to tell two keys apart. */
  readonly publicKeyHex: string;
}

// PKCS#8 DER prefix for a raw 32-byte Ed25519 seed (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const HEX_64 = /^[0-9a-f]{64}$/i;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/** Builds an Ed25519 private key from its 32-byte seed. */
export const ed25519KeyFromSeed = (seed: Buffer): KeyObject =>
  createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });

/** The raw 32-byte public key of an Ed25519 key. */
export const ed25519PublicKeyBytes = (key: KeyObject): Buffer =>
  createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32);

const requireUuid = (raw: Record<string, unknown>, field: string): string => {
  const value = raw[field];
  if (value === undefined || value === null || value === '') throw new KeystoreError('is missing', field);
  if (!isUuid(value)) throw new KeystoreError('must be a UUID', field);
  return value.toLowerCase();
};

const build = (appId: string, sessionId: string, privateKey: KeyObject): Keystore => {
  const keystore: Keystore = {
    appId,
    sessionId,
    privateKey,
    publicKeyHex: ed25519PublicKeyBytes(privateKey).toString('hex'),
  };
  // A keystore that reaches a log line or JSON response shows who it is, never its key.
  Object.defineProperty(keystore, 'toJSON', {
    enumerable: false,
    value: () => ({ appId, sessionId, publicKeyHex: keystore.publicKeyHex }),
  });
  return Object.freeze(keystore);
};

const parseDashboard = (raw: Record<string, unknown>): Keystore => {
  const appId = requireUuid(raw, 'app_id');
  const sessionId = requireUuid(raw, 'session_id');
  const seedHex = raw.session_private_key;
  if (typeof seedHex !== 'string' || seedHex === '') throw new KeystoreError('is missing', 'session_private_key');
  if (!HEX_64.test(seedHex)) {
    throw new KeystoreError('must be 64 hex characters (a 32-byte Ed25519 seed)', 'session_private_key');
  }
  const serverKey = raw.server_public_key;
  if (serverKey !== undefined && (typeof serverKey !== 'string' || !HEX_64.test(serverKey))) {
    throw new KeystoreError('must be 64 hex characters', 'server_public_key');
  }
  return build(appId, sessionId, ed25519KeyFromSeed(Buffer.from(seedHex, 'hex')));
};

const parseLegacy = (raw: Record<string, unknown>): Keystore => {
  const appId = requireUuid(raw, 'client_id');
  const sessionId = requireUuid(raw, 'session_id');
  const encoded = raw.private_key;
  if (typeof encoded !== 'string' || encoded === '') throw new KeystoreError('is missing', 'private_key');
  if (encoded.includes('BEGIN RSA PRIVATE KEY') || encoded.includes('BEGIN PRIVATE KEY')) {
    throw new KeystoreError(
      'RSA session keys are not supported; create an Ed25519 session in the dashboard',
      'private_key',
    );
  }
  if (!BASE64URL.test(encoded)) throw new KeystoreError('must be base64url of a 64-byte Ed25519 key', 'private_key');
  const bytes = Buffer.from(encoded, 'base64url');
  if (bytes.length !== 64) throw new KeystoreError('must be base64url of a 64-byte Ed25519 key', 'private_key');
  const privateKey = ed25519KeyFromSeed(bytes.subarray(0, 32));
  if (!ed25519PublicKeyBytes(privateKey).equals(bytes.subarray(32))) {
    throw new KeystoreError('its public half does not match its seed', 'private_key');
  }
  return build(appId, sessionId, privateKey);
};

/**
 * Parses a keystore as the Mixin dashboard exports it (`app_id`, `session_id`, `session_private_key`,
 * `server_public_key`) or in the legacy format (`client_id`, `session_id`, base64url `private_key`).
 * A leading UTF-8 byte order mark is ignored. Fails loudly with a {@link KeystoreError} naming the field; the
 * message never contains key material.
 */
export const parseKeystore = (input: unknown): Keystore => {
  let raw: unknown = input;
  if (typeof input === 'string') {
    try {
      // A leading UTF-8 byte order mark (some editors save one) is not part of the JSON, as for request bodies.
      raw = JSON.parse(input.startsWith('\uFEFF') ? input.slice(1) : input);
    } catch {
      throw new KeystoreError('is not valid JSON');
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new KeystoreError('must be a JSON object');
  }
  const record = raw as Record<string, unknown>;
  if ('session_private_key' in record || 'app_id' in record) return parseDashboard(record);
  if ('private_key' in record || 'client_id' in record) return parseLegacy(record);
  throw new KeystoreError(
    'is neither the dashboard format (app_id, session_private_key) nor the legacy one (client_id, private_key)',
  );
};
