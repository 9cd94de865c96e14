/**
 * The two use cases, whatever the trigger: input in, Mixin conversation or typed error out.
 * They know nothing of Lambda events; handlers know nothing of Mixin's wire format.
 */
import { freshRandomId, groupConversationId, randomIdFor, uniqueConversationId } from './conversation-id';
import { ConversationError, InvalidRequestError, MixinRequestError } from './errors';
import type { Conversation, ConversationRequest } from './mixin/conversation';
import { createConversation } from './mixin/conversation';
import type { Keystore } from './mixin/keystore';
import type { MixinCallOptions } from './mixin/request';
import { validate as contactSchema } from './schemas/generated/contact.js';
import { validate as groupSchema } from './schemas/generated/group.js';
import { validate } from './validation';

/** `POST /groups` body (also a queue record body, or a workflow input without `idempotency_key`). */
export interface GroupInput {
  name: string;
  participants: { user_id: string; role?: '' | 'ADMIN' }[];
  announcement?: string;
  random_id?: string;
  conversation_id?: string;
}

/** `POST /contacts` body. */
export interface ContactInput {
  participants: [{ user_id: string }];
}

/** What a use case needs from its trigger. */
export interface UseCaseContext {
  keystore: Keystore;
  /** Called once after Mixin refused `stale` with a 401: the keystore to try again with (a rotated key heals). */
  reloadKeystore?: (stale: Keystore) => Promise<Keystore>;
  /** Seeds `random_id` when the body has none: the same key always gives the same group. */
  idempotencyKey?: string;
  mixin: MixinCallOptions;
}

/** A created (or already existing) conversation and what it took. */
export interface CreateResult {
  conversation: Conversation;
  attempts: number;
}

const distinctUsers = (participants: { user_id: string }[]): string[] => {
  const first = new Map<string, number>();
  return participants.map((p, i) => {
    const id = p.user_id.toLowerCase();
    const earlier = first.get(id);
    if (earlier !== undefined) throw InvalidRequestError.field(`participants[${i}].user_id`, `duplicates participants[${earlier}].user_id`);
    first.set(id, i);
    return id;
  });
};

/** The Mixin request for a group: bot's own ID dropped (Mixin makes it the owner), ID derived unless given. */
export const buildGroupRequest = (input: GroupInput, appId: string, idempotencyKey?: string): ConversationRequest => {
  const users = distinctUsers(input.participants);
  const participants = input.participants
    .map((p, i) => ({ user_id: users[i]!, role: p.role ?? '' }))
    .filter((p) => p.user_id !== appId);
  if (participants.length === 0) throw InvalidRequestError.field('participants', 'must name at least one user other than the bot');
  if (input.conversation_id && input.random_id) {
    throw InvalidRequestError.field('conversation_id', 'cannot be combined with random_id: give one or the other');
  }
  const request: ConversationRequest = { category: 'GROUP', conversation_id: '', name: input.name, participants };
  if (input.announcement !== undefined) request.announcement = input.announcement;
  if (input.conversation_id) {
    request.conversation_id = input.conversation_id.toLowerCase();
    return request;
  }
  const randomId = input.random_id?.toLowerCase() ?? (idempotencyKey !== undefined ? randomIdFor(idempotencyKey) : freshRandomId());
  request.random_id = randomId;
  request.conversation_id = groupConversationId(appId, input.name, participants.map((p) => p.user_id), randomId);
  return request;
};

/** The Mixin request for a contact: the one participant, under the unique ID of bot and user. */
export const buildContactRequest = (input: ContactInput, appId: string): ConversationRequest => {
  const userId = input.participants[0].user_id.toLowerCase();
  if (userId === appId) throw InvalidRequestError.field('participants[0].user_id', 'must not be the bot itself');
  return { category: 'CONTACT', conversation_id: uniqueConversationId(appId, userId), participants: [{ user_id: userId }] };
};

const keyChanged = (a: Keystore, b: Keystore) => a.appId !== b.appId || a.sessionId !== b.sessionId || a.publicKeyHex !== b.publicKeyHex;

/** Sends one request, naming its conversation in whatever error it ends with. */
const sendAs = async (keystore: Keystore, request: ConversationRequest, ctx: UseCaseContext): Promise<CreateResult> => {
  try {
    const { data, attempts } = await createConversation(keystore, request, ctx.mixin);
    return { conversation: data, attempts };
  } catch (error) {
    if (error instanceof ConversationError) {
      error.conversationId = request.conversation_id;
      if (request.random_id) error.randomId = request.random_id;
    }
    throw error;
  }
};

/** Sends the request; after a 401, re-reads the keystore once and, if it changed, tries again with it. */
const send = async (build: (appId: string) => ConversationRequest, ctx: UseCaseContext): Promise<CreateResult> => {
  try {
    return await sendAs(ctx.keystore, build(ctx.keystore.appId), ctx);
  } catch (error) {
    if (!(error instanceof MixinRequestError && error.code === 401 && ctx.reloadKeystore)) throw error;
    const fresh = await ctx.reloadKeystore(ctx.keystore);
    if (!keyChanged(ctx.keystore, fresh)) throw error;
    const result = await sendAs(fresh, build(fresh.appId), ctx);
    return { ...result, attempts: result.attempts + error.attempts };
  }
};

/**
 * Creates a GROUP conversation. Validates first (nothing invalid reaches Mixin); the group ID is derived from
 * `random_id`, else from the idempotency key, else a fresh one; a given `conversation_id` is used as is.
 * @throws InvalidRequestError | MixinRateLimitError | MixinUnavailableError | MixinRequestError
 */
export const createGroup = async (input: unknown, ctx: UseCaseContext): Promise<CreateResult> => {
  validate<GroupInput>(groupSchema, input);
  const request = buildGroupRequest(input, ctx.keystore.appId, ctx.idempotencyKey);
  // A rotated key keeps the bot's app ID, so the rebuilt request is the same group.
  return send((appId) => (appId === ctx.keystore.appId ? request : buildGroupRequest(input, appId, ctx.idempotencyKey)), ctx);
};

/**
 * Opens the CONTACT conversation between the bot and one user (the same ID every time: naturally idempotent).
 * @throws InvalidRequestError | MixinRateLimitError | MixinUnavailableError | MixinRequestError
 */
export const createContact = async (input: unknown, ctx: UseCaseContext): Promise<CreateResult> => {
  validate<ContactInput>(contactSchema, input);
  return send((appId) => buildContactRequest(input, appId), ctx);
};
