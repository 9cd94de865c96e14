import { hash, randomUUID } from 'node:crypto';
import { IDEMPOTENCY_NAMESPACE } from './constants';
import { formatUuid, normaliseUuid, uuidV5 } from './uuid';

/** Mixin's `unique` on two already-normalised IDs: MD5 of the byte-wise smaller + larger, stamped as version 3. */
const unique = (a: string, b: string): string => {
  const [min, max] = a <= b ? [a, b] : [b, a];
  const digest = hash('md5', min + max, 'buffer');
  digest[6] = (digest[6]! & 0x0f) | 0x30;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  return formatUuid(digest);
};

/**
 * The CONTACT conversation ID of two users: order-independent, so bot and user derive the same one.
 * Inputs are lower-cased first (unlike the official SDKs, which give a wrong ID for upper-case input).
 * @throws InvalidRequestError naming `userId` or `recipientId` when it is not a UUID.
 */
export const uniqueConversationId = (userId: string, recipientId: string): string =>
  unique(normaliseUuid(userId, 'userId'), normaliseUuid(recipientId, 'recipientId'));

/**
 * The derived GROUP conversation ID (Mixin's Go SDK scheme): the same owner, name, participants and
 * `randomId` always give the same ID, which is what makes a retried create unable to fork a second group.
 * The name is hashed exactly as given; participants are sorted byte-wise after lower-casing.
 */
export const groupConversationId = (
  ownerId: string,
  name: string,
  participantIds: readonly string[],
  randomId: string,
): string => {
  const owner = normaliseUuid(ownerId, 'ownerId');
  const seed = normaliseUuid(randomId, 'randomId');
  const participants = participantIds.map((id, i) => normaliseUuid(id, `participantIds[${i}]`)).sort();
  let gid = unique(owner, name);
  gid = unique(gid, seed);
  for (const p of participants) gid = unique(gid, p);
  return gid;
};

/**
 * The GROUP conversation ID an idempotency key addresses for a bot: UUIDv5 of `<app_id>:<key>` under
 * {@link IDEMPOTENCY_NAMESPACE}. It depends on the bot and the key alone, never on the body, so the same key always
 * addresses the same group whatever else a retry changes (and a changed body is caught, not forked). Sent without
 * `random_id`: it is not derived from one.
 */
export const groupIdForKey = (appId: string, idempotencyKey: string): string =>
  uuidV5(IDEMPOTENCY_NAMESPACE, `${normaliseUuid(appId, 'appId')}:${idempotencyKey}`);

/** A fresh random `random_id`, for creates that carry no idempotency key. */
export const freshRandomId = (): string => randomUUID();
