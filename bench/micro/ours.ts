/**
 * ID + token + request as our handler does them per call, with the library code itself: the compiled schema check,
 * buildContactRequest (ID), JSON body, URL, request ID and EdDSA token (what postSigned does before each send).
 */
import { randomUUID } from 'node:crypto';
import { buildContactRequest, type ContactInput } from '../../lib/conversations';
import { parseKeystore } from '../../lib/mixin/keystore-parser';
import { signAuthenticationToken } from '../../lib/mixin/token';
import { validate as contactSchema } from '../../lib/schemas/generated/contact.js';
import { validate } from '../../lib/validation';

const keystore = parseKeystore(process.env.BENCH_KEYSTORE_JSON ?? '');
const base = process.env.MIXIN_API_URL ?? 'https://api.mixin.one';

export const buildRequest = (userId: string) => {
  const input: unknown = { participants: [{ user_id: userId }] };
  validate<ContactInput>(contactSchema, input);
  const body = JSON.stringify(buildContactRequest(input, keystore.appId));
  const url = new URL('/conversations', base.endsWith('/') ? base : `${base}/`);
  const requestId = randomUUID();
  const token = signAuthenticationToken(
    keystore,
    { method: 'POST', uri: url.pathname + url.search, body },
    { jti: requestId },
  );
  return {
    body,
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      'X-Request-Id': requestId,
      'Content-Length': String(Buffer.byteLength(body)),
    },
  };
};
