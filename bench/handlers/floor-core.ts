/**
 * The floor's work for one `POST /contacts`, with Node built-ins only: conversation ID (MD5), EdDSA token
 * (node:crypto), one node:http POST. No validation, no retries, no logs. The floor handlers differ only in where the
 * keystore comes from (bench/handlers/floor.ts: the environment; floor-secret.ts: Secrets Manager at init).
 */
import { createHash, createPrivateKey, randomUUID, sign } from 'node:crypto';
import { request } from 'node:http';
import { contactUser, created, type DashboardKeystore, type HttpEvent, type HttpResult, postText } from './shared';

const HEADER = Buffer.from('{"alg":"EdDSA","typ":"JWT"}').toString('base64url');

export const uniqueId = (a: string, b: string): string => {
  const d = createHash('md5')
    .update(a < b ? a + b : b + a)
    .digest();
  d[6] = (d[6]! & 0x0f) | 0x30;
  d[8] = (d[8]! & 0x3f) | 0x80;
  const h = d.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** The floor for one keystore: `buildRequest` (ID + token + request, everything before the bytes go on the wire) and the handler. */
export const contactFloor = (keystore: DashboardKeystore) => {
  const key = createPrivateKey({
    key: Buffer.concat([
      Buffer.from('302e020100300506032b657004220420', 'hex'),
      Buffer.from(keystore.session_private_key, 'hex'),
    ]),
    format: 'der',
    type: 'pkcs8',
  });
  const url = new URL('/conversations', process.env.MIXIN_API_URL);

  const buildRequest = (userId: string) => {
    const body = JSON.stringify({
      category: 'CONTACT',
      conversation_id: uniqueId(keystore.app_id, userId),
      participants: [{ user_id: userId }],
    });
    const jti = randomUUID();
    const iat = Math.floor(Date.now() / 1000);
    const sig = createHash('sha256').update(`POST${url.pathname}${body}`).digest('hex');
    const claims = Buffer.from(
      JSON.stringify({ uid: keystore.app_id, sid: keystore.session_id, iat, exp: iat + 300, jti, sig, scp: 'FULL' }),
    ).toString('base64url');
    const input = `${HEADER}.${claims}`;
    const token = `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
    return {
      body,
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        'X-Request-Id': jti,
        'Content-Length': String(Buffer.byteLength(body)),
      },
    };
  };

  const handler = async (event: HttpEvent): Promise<HttpResult> => {
    const { body, headers } = buildRequest(contactUser(event));
    const answer = JSON.parse(await postText(request, url, headers, body)) as { data?: unknown; error?: unknown };
    if (!answer.data) throw new Error(`Mixin answered ${JSON.stringify(answer.error)}`);
    return created(answer.data);
  };

  return { buildRequest, handler };
};
