import { ConversationConflictError } from '../errors';
import { type KeystoreSource, type MixinCallOptions, type MixinResult, signedRequest } from './request';

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

/** A 2xx must carry the conversation asked for: another ID (or none) is Mixin misbehaving, retried as a bad response. */
const sameConversationId = (request: ConversationRequest) => (data: Record<string, unknown>): string | undefined => {
  const id = data.conversation_id;
  if (typeof id !== 'string') return 'a conversation without conversation_id';
  return id.toLowerCase() === request.conversation_id ? undefined : `conversation ${id.slice(0, 36)} for ${request.conversation_id}`;
};

/**
 * `POST /conversations`: creates a GROUP or CONTACT conversation, or returns the existing one with that
 * `conversation_id`. The body is serialised once, signed and resent byte for byte on retries. The answer must be
 * the conversation asked for: another ID is retried as a bad response; the same ID in another category is a
 * {@link ConversationConflictError} (Mixin returns the existing conversation whatever the category asked).
 */
export const createConversation = async (
  keys: KeystoreSource,
  request: ConversationRequest,
  options?: MixinCallOptions,
): Promise<MixinResult<Conversation>> => {
  const result = await signedRequest<Conversation>(
    keys,
    { method: 'POST', path: '/conversations', body: JSON.stringify(request), check: sameConversationId(request) },
    options,
  );
  if (result.data.category !== request.category) {
    const conflict = new ConversationConflictError(request.category, String(result.data.category), request.conversation_id);
    conflict.attempts = result.attempts;
    throw conflict;
  }
  return result;
};
