/**
 * The two use cases, whatever the trigger: input in, Mixin conversation or typed error out.
 * They know nothing of Lambda events; handlers know nothing of Mixin's wire format.
 */
import { freshRandomId, groupConversationId, groupIdForKey, uniqueConversationId } from './conversation-id';
import { ConversationError, InvalidRequestError } from './errors';
import type { Conversation, ConversationRequest } from './mixin/conversation';
import { createConversation } from './mixin/conversation';

/** Mixin's conversation object, as every use case returns it: handlers take the type from here, not from lib/mixin/. */
export type { Conversation };
import type { KeystoreSource, MixinCallOptions } from './mixin/request';
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
  /** The bot keystore, and how to read it again after Mixin refused it. */
  keys: KeystoreSource;
  /** The trigger's idempotency key: the same key always addresses the same group. */
  idempotencyKey?: string;
  mixin: MixinCallOptions;
}

/** What every use case returns: its result and the calls to Mixin it took. */
export interface UseCaseResult {
  attempts: number;
}

/** A created (or already existing) conversation and what it took. */
export interface CreateResult extends UseCaseResult {
  conversation: Conversation;
}

/** A use case as the triggers run it: the work, and the metric that counts its successes (README "Operations"). */
export interface UseCase<R extends UseCaseResult = UseCaseResult> {
  (input: unknown, ctx: UseCaseContext): Promise<R>;
  readonly successMetric: string;
}

const useCase = <R extends UseCaseResult>(
  successMetric: string,
  run: (input: unknown, ctx: UseCaseContext) => Promise<R>,
): UseCase<R> => Object.assign(run, { successMetric });

const distinctUsers = (participants: { user_id: string }[]): string[] => {
  const first = new Map<string, number>();
  return participants.map((p, i) => {
    const id = p.user_id.toLowerCase();
    const earlier = first.get(id);
    if (earlier !== undefined)
      throw InvalidRequestError.field(`participants[${i}].user_id`, `duplicates participants[${earlier}].user_id`);
    first.set(id, i);
    return id;
  });
};

/**
 * The Mixin request for a group, bot's own ID dropped (Mixin makes it the owner). Its ID, first rule that applies:
 * `conversation_id` as given; the ID derived from `random_id` (the Go SDK's scheme, sent with it); the ID of the
 * idempotency key for this bot ({@link groupIdForKey}, sent without `random_id`); a fresh derived one.
 */
export const buildGroupRequest = (input: GroupInput, appId: string, idempotencyKey?: string): ConversationRequest => {
  const users = distinctUsers(input.participants);
  const participants = input.participants
    .map((p, i) => ({ user_id: users[i]!, role: p.role ?? '' }))
    .filter((p) => p.user_id !== appId);
  if (participants.length === 0)
    throw InvalidRequestError.field('participants', 'must name at least one user other than the bot');
  const request: ConversationRequest = { category: 'GROUP', conversation_id: '', name: input.name, participants };
  if (input.announcement !== undefined) request.announcement = input.announcement;
  if (input.conversation_id) {
    request.conversation_id = input.conversation_id.toLowerCase();
  } else if (input.random_id === undefined && idempotencyKey !== undefined) {
    request.conversation_id = groupIdForKey(appId, idempotencyKey);
  } else {
    const randomId = input.random_id?.toLowerCase() ?? freshRandomId();
    request.random_id = randomId;
    request.conversation_id = groupConversationId(
      appId,
      input.name,
      participants.map((p) => p.user_id),
      randomId,
    );
  }
  return request;
};

/** The Mixin request for a contact: the one participant, under the unique ID of bot and user. */
export const buildContactRequest = (input: ContactInput, appId: string): ConversationRequest => {
  const userId = input.participants[0].user_id.toLowerCase();
  if (userId === appId) throw InvalidRequestError.field('participants[0].user_id', 'must not be the bot itself');
  return {
    category: 'CONTACT',
    conversation_id: uniqueConversationId(appId, userId),
    participants: [{ user_id: userId }],
  };
};

/** Sends one request, naming its conversation in whatever error it ends with. */
const askMixin = async (request: ConversationRequest, ctx: UseCaseContext, keyed: boolean): Promise<CreateResult> => {
  try {
    const { data, attempts } = await createConversation(ctx.keys, request, ctx.mixin, { keyed });
    return { conversation: data, attempts };
  } catch (error) {
    if (error instanceof ConversationError) {
      error.conversationId = request.conversation_id;
      if (request.random_id) error.randomId = request.random_id;
    }
    throw error;
  }
};

/**
 * Creates a GROUP conversation (or finds the one its ID names). Validates first: nothing invalid reaches Mixin.
 * @throws InvalidRequestError | IdempotencyKeyReusedError | ConversationConflictError | MixinRateLimitError |
 *   MixinUnavailableError | MixinRequestError
 */
export const createGroup = useCase('ConversationsCreated', async (input, ctx): Promise<CreateResult> => {
  validate<GroupInput>(groupSchema, input);
  const request = buildGroupRequest(input, ctx.keys.keystore.appId, ctx.idempotencyKey);
  // Under a key (no conversation_id, no random_id), the group found must also be the one made with that key.
  return askMixin(request, ctx, !input.conversation_id && request.random_id === undefined);
});

/**
 * Opens the CONTACT conversation between the bot and one user (the same ID every time: naturally idempotent).
 * @throws InvalidRequestError | ConversationConflictError | MixinRateLimitError | MixinUnavailableError | MixinRequestError
 */
export const createContact = useCase('ConversationsCreated', async (input, ctx): Promise<CreateResult> => {
  validate<ContactInput>(contactSchema, input);
  return askMixin(buildContactRequest(input, ctx.keys.keystore.appId), ctx, false);
});
