import { inspect } from 'node:util';
import { KeystoreError } from '../lib/errors';
import { ed25519PublicKeyBytes, parseKeystore } from '../lib/mixin/keystore-parser';
import { makeBot } from '../infra/local/keys';

const bot = makeBot();
const dashboard = bot.json;
const legacyKey = Buffer.concat([Buffer.from(bot.seedHex, 'hex'), Buffer.from(bot.app.publicKeyHex, 'hex')]).toString(
  'base64url',
);
const legacy = {
  client_id: dashboard.app_id,
  session_id: dashboard.session_id,
  private_key: legacyKey,
  pin_token: 'x',
  pin: '123456',
};

const failure = (input: unknown): KeystoreError => {
  try {
    parseKeystore(input);
  } catch (error) {
    expect(error).toBeInstanceOf(KeystoreError);
    expect((error as Error).name).toBe('KeystoreError');
    return error as KeystoreError;
  }
  throw new Error('parseKeystore accepted a bad keystore');
};

describe('parseKeystore', () => {
  it('parses the dashboard format, from an object or a JSON string', () => {
    for (const input of [dashboard, JSON.stringify(dashboard)]) {
      const keystore = parseKeystore(input);
      expect(keystore.appId).toBe(dashboard.app_id);
      expect(keystore.sessionId).toBe(dashboard.session_id);
      expect(ed25519PublicKeyBytes(keystore.privateKey).toString('hex')).toBe(bot.app.publicKeyHex);
      expect(keystore.publicKeyHex).toBe(bot.app.publicKeyHex);
    }
  });

  it('parses the legacy format with a base64url 64-byte Ed25519 key', () => {
    const keystore = parseKeystore(legacy);
    expect(keystore.appId).toBe(dashboard.app_id);
    expect(keystore.publicKeyHex).toBe(bot.app.publicKeyHex);
  });

  it('accepts a keystore saved with a UTF-8 byte order mark, as text or as bytes decoded as UTF-8', () => {
    const json = JSON.stringify(dashboard);
    expect(parseKeystore(`\uFEFF${json}`).publicKeyHex).toBe(bot.app.publicKeyHex);
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]);
    expect(parseKeystore(bytes.toString('utf8')).appId).toBe(dashboard.app_id);
    // Only a leading one: a BOM inside the text is still not JSON.
    expect(failure(`${json.slice(0, 1)}\uFEFF${json.slice(1)}`).message).toMatch(/not valid JSON/);
  });

  it('lower-cases IDs', () => {
    expect(parseKeystore({ ...dashboard, app_id: dashboard.app_id.toUpperCase() }).appId).toBe(dashboard.app_id);
  });

  it.each([
    ['not JSON', '{nope', undefined, /not valid JSON/],
    ['an array', [], undefined, /JSON object/],
    ['neither format', { foo: 1 }, undefined, /neither/],
    ['app_id missing', { ...dashboard, app_id: undefined }, 'app_id', /missing/],
    ['app_id not a UUID', { ...dashboard, app_id: 'bot' }, 'app_id', /UUID/],
    ['session_id missing', { ...dashboard, session_id: '' }, 'session_id', /missing/],
    ['session_private_key missing', { ...dashboard, session_private_key: undefined }, 'session_private_key', /missing/],
    [
      'session_private_key short',
      { ...dashboard, session_private_key: bot.seedHex.slice(2) },
      'session_private_key',
      /64 hex/,
    ],
    [
      'session_private_key not hex',
      { ...dashboard, session_private_key: `zz${bot.seedHex.slice(2)}` },
      'session_private_key',
      /64 hex/,
    ],
    ['server_public_key bad', { ...dashboard, server_public_key: 'abc' }, 'server_public_key', /64 hex/],
    ['legacy client_id missing', { ...legacy, client_id: undefined }, 'client_id', /missing/],
    ['legacy key truncated', { ...legacy, private_key: legacyKey.slice(0, 40) }, 'private_key', /64-byte/],
    [
      'legacy key halves mismatch',
      {
        ...legacy,
        private_key: Buffer.concat([Buffer.from(bot.seedHex, 'hex'), Buffer.alloc(32)]).toString('base64url'),
      },
      'private_key',
      /does not match/,
    ],
    ['legacy RSA key', { ...legacy, private_key: '-----BEGIN RSA PRIVATE KEY-----\nMIIE...' }, 'private_key', /RSA/],
  ])('fails loudly on %s, naming the field', (_label, input, field, message) => {
    const error = failure(input);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('never echoes key material in errors or when logged', () => {
    const seed = bot.seedHex;
    const b64 = Buffer.from(seed, 'hex').toString('base64');
    const b64url = Buffer.from(seed, 'hex').toString('base64url');
    const messages = [
      failure({ ...dashboard, session_private_key: seed.slice(1) }).message,
      failure({ ...dashboard, app_id: seed }).message,
      failure({ ...legacy, private_key: legacyKey.slice(1) }).message,
      failure(`{"session_private_key": "${seed}"`).message,
      JSON.stringify(parseKeystore(dashboard)),
      inspect(parseKeystore(dashboard), { depth: 5, showHidden: true }),
    ];
    for (const text of messages) {
      for (const secret of [seed, b64, b64url, legacyKey]) expect(text).not.toContain(secret);
    }
  });
});
