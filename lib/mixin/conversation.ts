import { ConversationConflictError, IdempotencyKeyReusedError } from '../errors';
import { shortMessage } from '../text';
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

/** Names compared as Mixin may store them: Unicode-normalised (NFC), without surrounding white space. */
const sameName = (stored: string, sent: string | undefined): boolean =>
  stored.normalize('NFC').trim() === (sent ?? '').normalize('NFC').trim();

/** What a 2xx answer is, measured against the request that got it. */
export type AnswerCheck =
  | { kind: 'asked-for' }
  | { kind: 'bad-response'; problem: string }
  | { kind: 'conflict'; existingCategory: string }
  | { kind: 'key-reused'; field: 'name' };

/**
 * "Is this the conversation I asked for?", answered once. The answer must carry the ID asked for and a string
 * category and, for a group keyed by an idempotency key (`keyed`), a string name: anything less is Mixin
 * misbehaving, a bad response retried like any other (never a conflict: this same request may have made the
 * group). Then, and only then: another category is a conflict (Mixin returns the existing conversation whatever
 * the category asked), and under a key another name means the key was reused for another request. Participants,
 * roles and the announcement are not compared: they change over a group's life, and a plain retry must still
 * succeed after members joined or left.
 */
const checkAnswer = (request: ConversationRequest, data: Record<string, unknown>, keyed: boolean): AnswerCheck => {
  const { conversation_id: id, category, name } = data;
  const bad = (problem: string): AnswerCheck => ({ kind: 'bad-response', problem });
  if (typeof id !== 'string') return bad('a conversation without conversation_id');
  if (id.toLowerCase() !== request.conversation_id)
    return bad(`conversation ${shortMessage(id, 36)} for ${request.conversation_id}`);
  if (typeof category !== 'string') return bad(`conversation ${request.conversation_id} without a category`);
  if (keyed && typeof name !== 'string') return bad(`group ${request.conversation_id} without a name`);
  if (category !== request.category) return { kind: 'conflict', existingCategory: shortMessage(category, 40) };
  if (keyed && !sameName(name as string, request.name)) return { kind: 'key-reused', field: 'name' };
  return { kind: 'asked-for' };
};

/** How {@link createConversation} checks its answer. */
export interface CreateOptions {
  /** The ID was derived from an idempotency key: the name must match too ({@link checkAnswer}). */
  keyed?: boolean;
}

/**
 * `POST /conversations`: creates a GROUP or CONTACT conversation, or returns the existing one with that
 * `conversation_id`. The body is serialised once, signed and resent byte for byte on retries. The answer is
 * checked by {@link checkAnswer}: a bad response is retried; a conflict is a {@link ConversationConflictError}, a
 * reused key an {@link IdempotencyKeyReusedError}, both final.
 */
export const createConversation = async (
  keys: KeystoreSource,
  request: ConversationRequest,
  options?: MixinCallOptions,
  { keyed = false }: CreateOptions = {},
): Promise<MixinResult<Conversation>> => {
  const check = (data: Record<string, unknown>) => {
    const verdict = checkAnswer(request, data, keyed);
    return verdict.kind === 'bad-response' ? verdict.problem : undefined;
  };
  const result = await signedRequest<Conversation>(
    keys,
    { method: 'POST', path: '/conversations', body: JSON.stringify(request), check },
    options,
  );
  const verdict = checkAnswer(request, result.data, keyed);
  if (verdict.kind === 'asked-for' || verdict.kind === 'bad-response') return result;
  const error =
    verdict.kind === 'conflict'
      ? new ConversationConflictError(request.category, verdict.existingCategory, request.conversation_id)
      : new IdempotencyKeyReusedError(
          [{ field: verdict.field, message: 'differs from the name of the group this key created' }],
          request.conversation_id,
        );
  error.attempts = result.attempts;
  throw error;
};
