/** ID + token + request as the official SDK does them per call: its uniqueConversationID, a v4 request ID, its token. */
import { getUuid, signAuthenticationToken, uniqueConversationID } from '@mixin.dev/mixin-node-sdk';
import { keystoreFromEnv } from '../handlers/shared';

const keystore = keystoreFromEnv();

export const buildRequest = (userId: string) => {
  const data = {
    category: 'CONTACT',
    conversation_id: uniqueConversationID(keystore.app_id, userId),
    participants: [{ user_id: userId }],
  };
  const requestId = getUuid();
  // The SDK's axios request interceptor signs the request object (serialised with serialize-javascript)...
  const token = signAuthenticationToken('post', '/conversations', data, requestId, keystore);
  // ...and axios then serialises it again for the wire.
  const body = JSON.stringify(data);
  return {
    body,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'X-Request-Id': requestId },
  };
};
