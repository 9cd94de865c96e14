import { hash, randomUUID, sign } from 'node:crypto';
import type { Keystore } from './keystore-parser';

/** Token lifetime: a few minutes, enough for clock skew, short enough that a leaked token soon dies. */
const TOKEN_TTL_SECONDS = 300;

// base64url of {"alg":"EdDSA","typ":"JWT"}: the header never changes.
const HEADER = Buffer.from('{"alg":"EdDSA","typ":"JWT"}').toString('base64url');

/** What a token authorises: exactly one request. */
export interface RequestToSign {
  method: string;
  /** Path plus query string, no scheme or host: `/conversations`. */
  uri: string;
  /** The exact body sent on the wire (`''` when none). */
  body: string;
}

export interface TokenOptions {
  /** Unix seconds; defaults to now. */
  iat?: number;
  /** Defaults to {@link TOKEN_TTL_SECONDS}. */
  ttlSeconds?: number;
  /** Defaults to a fresh UUIDv4; send the same value as `X-Request-Id`. */
  jti?: string;
}

/** Lower-case hex SHA-256 of METHOD + URI + BODY: the `sig` claim binding a token to one request. */
export const requestSignature = ({ method, uri, body }: RequestToSign): string =>
  hash('sha256', method.toUpperCase() + uri + body, 'hex');

/**
 * Mints Mixin's EdDSA JWT for one request with node:crypto. Mint a new one for every attempt:
 * Mixin refuses a reused `jti`.
 */
export const signAuthenticationToken = (
  keystore: Pick<Keystore, 'appId' | 'sessionId' | 'privateKey'>,
  request: RequestToSign,
  options: TokenOptions = {},
): string => {
  const iat = options.iat ?? Math.floor(Date.now() / 1000);
  // Key order matters for reproducibility: uid, sid, iat, exp, jti, sig, scp.
  const payload = {
    uid: keystore.appId,
    sid: keystore.sessionId,
    iat,
    exp: iat + (options.ttlSeconds ?? TOKEN_TTL_SECONDS),
    jti: options.jti ?? randomUUID(),
    sig: requestSignature(request),
    scp: 'FULL',
  };
  const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${signingInput}.${sign(null, Buffer.from(signingInput), keystore.privateKey).toString('base64url')}`;
};
