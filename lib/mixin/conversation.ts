import type { Keystore } from './keystore';
import { type MixinCallOptions, type MixinResult, postSigned } from './request';

/** A participant as Mixin takes it. */
export interface ParticipantRequest {
  user_id: string;
  role?: '' | 'ADMIN' | 'OWNER';
}

/** The body of `POST /conversations`, keys as Mixin names them. */
export interface ConversationRequest {
  category: 'GROUP' | 'CONTACT';
  conversation_id: string;
  name?: string;
  participants: ParticipantRequest[];
  announcement?: string;
  random_id?: string;
}

/** Mixin's conversation object, keys as Mixin sends them (only those we read are typed). */
export interface Conversation {
  type?: string;
  conversation_id: string;
  category: string;
  creator_id?: string;
  name?: string;
  participants?: { user_id: string; role: string }[];
  [key: string]: unknown;
}

/**
 * `POST /conversations`: creates a GROUP or CONTACT conversation, or returns the existing one with
 * that `conversation_id`. The body is serialised once, signed and resent byte for byte on retries.
 */
export const createConversation = (
  keystore: Keystore,
  request: ConversationRequest,
  options?: MixinCallOptions,
): Promise<MixinResult<Conversation>> =>
  postSigned<Conversation>(keystore, '/conversations', JSON.stringify(request), options);
