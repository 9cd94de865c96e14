import { verify, createPublicKey } from 'node:crypto';
import { ed25519KeyFromSeed, ed25519PublicKeyBytes } from '../lib/mixin/keystore-parser';
import { requestSignature, signAuthenticationToken } from '../lib/mixin/token';
import { makeBot } from '../infra/local/keys';
import { loadVector, type TokenVector } from './support/vectors';

const vector = loadVector<TokenVector>('token');
const request = { method: vector.method, uri: vector.uri, body: vector.body };

describe('signAuthenticationToken', () => {
  const privateKey = ed25519KeyFromSeed(Buffer.from(vector.seed_hex, 'hex'));

  it('derives the vector public key from the seed', () => {
    expect(ed25519PublicKeyBytes(privateKey).toString('hex')).toBe(vector.public_key_hex);
  });

  it('computes the sig claim over METHOD + URI + BODY', () => {
    expect(requestSignature(request)).toBe(vector.payload.sig);
  });

  it('reproduces the golden token exactly', () => {
    const { uid, sid, iat, exp, jti } = vector.payload;
    const token = signAuthenticationToken({ appId: uid, sessionId: sid, privateKey }, request, {
      iat,
      ttlSeconds: exp - iat,
      jti,
    });
    expect(token).toBe(vector.token);
  });

  it('mints a fresh jti, a verifiable signature and an expiry minutes away', () => {
    const bot = makeBot();
    const before = Math.floor(Date.now() / 1000);
    const a = signAuthenticationToken(bot.keystore, request);
    const b = signAuthenticationToken(bot.keystore, request);
    const claims = (t: string) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString());
    expect(claims(a).jti).not.toBe(claims(b).jti);
    expect(claims(a).exp - claims(a).iat).toBe(300); // the README's 5-minute expiry, within Mixin's limit
    expect(claims(a).iat).toBeGreaterThanOrEqual(before);
    const [h, p, s] = a.split('.');
    const publicKey = createPublicKey(bot.keystore.privateKey);
    expect(verify(null, Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s!, 'base64url'))).toBe(true);
  });
});
