/**
 * The official SDK baseline: POST /contacts with @mixin.dev/mixin-node-sdk, as its README shows it
 * (`MixinApi({ keystore, requestConfig })`, `conversation.create`), keystore from the environment.
 */
import { MixinApi, uniqueConversationID } from '@mixin.dev/mixin-node-sdk';
import { contactUser, created, type HttpEvent, type HttpResult, keystoreFromEnv } from './shared';

const keystore = keystoreFromEnv();
const client = MixinApi({ keystore, requestConfig: { baseURL: process.env.MIXIN_API_URL, timeout: 5_000 } });

export const handler = async (event: HttpEvent): Promise<HttpResult> => {
  const userId = contactUser(event);
  const conversation = await client.conversation.create({
    category: 'CONTACT',
    conversation_id: uniqueConversationID(keystore.app_id, userId),
    participants: [{ user_id: userId }],
  });
  return created(conversation);
};
