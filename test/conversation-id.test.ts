import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { validate } from 'uuid';
import { IDEMPOTENCY_NAMESPACE } from '../lib/constants';
import { groupConversationId, groupIdForKey, uniqueConversationId } from '../lib/conversation-id';
import { InvalidRequestError } from '../lib/errors';
import { isUuid, uuidV5 } from '../lib/uuid';

import { type ContactVector, type GroupVector, loadVector } from './support/vectors';

const contactVectors = loadVector<ContactVector[]>('contact');
const groupVectors = loadVector<GroupVector[]>('group');

describe('uniqueConversationId', () => {
  it.each(contactVectors)('matches the official SDK vector $user_id + $recipient_id', (v) => {
    expect(uniqueConversationId(v.user_id, v.recipient_id)).toBe(v.conversation_id);
  });

  it('is order independent', () => {
    for (const v of contactVectors) {
      expect(uniqueConversationId(v.recipient_id, v.user_id)).toBe(uniqueConversationId(v.user_id, v.recipient_id));
    }
  });

  it('lower-cases inputs, so upper-case IDs give the same conversation', () => {
    const v = contactVectors[0]!;
    expect(uniqueConversationId(v.user_id.toUpperCase(), v.recipient_id.toUpperCase())).toBe(v.conversation_id);
  });

  it('gives a version-3 RFC 4122 UUID, also for a self pair and the nil UUID', () => {
    const nil = '00000000-0000-0000-0000-000000000000';
    const self = uniqueConversationId(contactVectors[0]!.user_id, contactVectors[0]!.user_id);
    const withNil = uniqueConversationId(nil, contactVectors[0]!.user_id);
    for (const id of [self, withNil])
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(self).not.toBe(withNil);
  });

  it('rejects what is not a UUID with a typed error naming the field', () => {
    const good = contactVectors[0]!.user_id;
    const bad = () => uniqueConversationId(good, good.slice(0, -1) + 'g');
    expect(bad).toThrow(InvalidRequestError);
    try {
      bad();
    } catch (error) {
      expect((error as InvalidRequestError).details).toEqual([
        { field: 'recipientId', message: expect.stringContaining('UUID') },
      ]);
    }
    expect(() => uniqueConversationId('', good)).toThrow(/userId/);
  });
});

describe('groupConversationId', () => {
  it.each(groupVectors)('matches the official SDK vector for "$group_name"', (v) => {
    expect(groupConversationId(v.owner_id, v.group_name, v.participants, v.random_id)).toBe(v.conversation_id);
  });

  it('does not depend on participant order or case', () => {
    const v = groupVectors[0]!;
    const shuffled = [...v.participants].reverse().map((p) => p.toUpperCase());
    expect(groupConversationId(v.owner_id.toUpperCase(), v.group_name, shuffled, v.random_id.toUpperCase())).toBe(
      v.conversation_id,
    );
  });

  it('changes with the name, the random_id and the participants', () => {
    const v = groupVectors[0]!;
    const ids = new Set([
      groupConversationId(v.owner_id, v.group_name, v.participants, v.random_id),
      groupConversationId(v.owner_id, `${v.group_name}!`, v.participants, v.random_id),
      groupConversationId(v.owner_id, v.group_name, v.participants.slice(1), v.random_id),
      groupConversationId(v.owner_id, v.group_name, v.participants, uuidV5(IDEMPOTENCY_NAMESPACE, 'other')),
    ]);
    expect(ids.size).toBe(4);
  });

  it('names the bad participant', () => {
    const v = groupVectors[0]!;
    expect(() => groupConversationId(v.owner_id, v.group_name, [v.participants[0]!, 'nope'], v.random_id)).toThrow(
      /participantIds\[1\]/,
    );
    expect(() => groupConversationId(v.owner_id, v.group_name, v.participants, 'nope')).toThrow(/randomId/);
  });
});

describe('groupIdForKey', () => {
  const bot = '6e1f4b02-8f3a-4b49-9a4e-1f6b2a7d5c11';
  it('is stable per bot and key, and differs between keys and between bots', () => {
    expect(groupIdForKey(bot, 'order-42')).toBe(groupIdForKey(bot.toUpperCase(), 'order-42'));
    expect(groupIdForKey(bot, 'order-42')).not.toBe(groupIdForKey(bot, 'order-43'));
    expect(groupIdForKey(bot, 'order-42')).not.toBe(groupIdForKey('0c0b3f2e-3c4e-4a7e-b1f8-2d5c9e1a4b77', 'order-42'));
    expect(groupIdForKey(bot, 'order-42')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('implements RFC 9562 UUIDv5 (the RFC example: DNS namespace, www.example.com)', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });
});

describe('uuidV5 (the uuid package underneath)', () => {
  /** RFC 9562 section 5.5 written out with node:crypto: the hand-rolled version this project shipped before. */
  const reference = (namespace: string, name: string): string => {
    const digest = createHash('sha1')
      .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
      .update(name, 'utf8')
      .digest();
    digest[6] = (digest[6]! & 0x0f) | 0x50;
    digest[8] = (digest[8]! & 0x3f) | 0x80;
    const hex = digest.subarray(0, 16).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  };
  // Every UTF-16 string, lone surrogates included (a workflow's idempotency_key is whatever JSON carried).
  const anyKey = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  );

  it('gives every idempotency key the group ID it had before (changing one would fork a group)', () => {
    const bot = '6e1f4b02-8f3a-4b49-9a4e-1f6b2a7d5c11';
    fc.assert(
      fc.property(anyKey, (key) => groupIdForKey(bot, key) === reference(IDEMPOTENCY_NAMESPACE, `${bot}:${key}`)),
      { numRuns: 2000 },
    );
  });

  it('accepts a lone surrogate, hashed as U+FFFD (uuid alone would throw a URIError on a string name)', () => {
    expect(uuidV5(IDEMPOTENCY_NAMESPACE, 'key-\ud800')).toBe(uuidV5(IDEMPOTENCY_NAMESPACE, 'key-\ufffd'));
    expect(uuidV5(IDEMPOTENCY_NAMESPACE, 'key-\ud800')).toBe(reference(IDEMPOTENCY_NAMESPACE, 'key-\ud800'));
  });

  it('rejects a namespace that is not an RFC UUID instead of hashing its garbage', () => {
    expect(() => uuidV5('not-a-uuid', 'x')).toThrow(TypeError);
  });
});

describe('isUuid', () => {
  it('accepts any 8-4-4-4-12 hex, also versions and variants that uuid.validate rejects', () => {
    const wider = [
      '00000000-0000-0000-0000-000000000001',
      'a0b1c2d3-e4f5-0a6b-7c8d-9e0f1a2b3c4d',
      'a0b1c2d3-e4f5-9a6b-cc8d-9e0f1a2b3c4d',
    ];
    for (const id of wider) {
      expect(isUuid(id)).toBe(true);
      expect(validate(id)).toBe(false);
    }
  });

  it('rejects what is not 8-4-4-4-12 hex', () => {
    for (const bad of [
      '',
      'a0b1c2d3e4f54a6b7c8d9e0f1a2b3c4d',
      'a0b1c2d3-e4f5-4a6b-8c8d-9e0f1a2b3c4g',
      ' a0b1c2d3-e4f5-4a6b-8c8d-9e0f1a2b3c4d',
      42,
    ]) {
      expect(isUuid(bad)).toBe(false);
    }
  });
});
