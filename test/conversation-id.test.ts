import { groupConversationId, randomIdFor, uniqueConversationId } from '../lib/conversation-id';
import { InvalidRequestError } from '../lib/errors';
import { uuidV5 } from '../lib/uuid';

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
    for (const id of [self, withNil]) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(self).not.toBe(withNil);
  });

  it('rejects what is not a UUID with a typed error naming the field', () => {
    const good = contactVectors[0]!.user_id;
    const bad = () => uniqueConversationId(good, good.slice(0, -1) + 'g');
    expect(bad).toThrow(InvalidRequestError);
    try {
      bad();
    } catch (error) {
      expect((error as InvalidRequestError).details).toEqual([{ field: 'recipientId', message: expect.stringContaining('UUID') }]);
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
    expect(groupConversationId(v.owner_id.toUpperCase(), v.group_name, shuffled, v.random_id.toUpperCase())).toBe(v.conversation_id);
  });

  it('changes with the name, the random_id and the participants', () => {
    const v = groupVectors[0]!;
    const ids = new Set([
      groupConversationId(v.owner_id, v.group_name, v.participants, v.random_id),
      groupConversationId(v.owner_id, `${v.group_name}!`, v.participants, v.random_id),
      groupConversationId(v.owner_id, v.group_name, v.participants.slice(1), v.random_id),
      groupConversationId(v.owner_id, v.group_name, v.participants, randomIdFor('other')),
    ]);
    expect(ids.size).toBe(4);
  });

  it('names the bad participant', () => {
    const v = groupVectors[0]!;
    expect(() => groupConversationId(v.owner_id, v.group_name, [v.participants[0]!, 'nope'], v.random_id)).toThrow(/participantIds\[1\]/);
    expect(() => groupConversationId(v.owner_id, v.group_name, v.participants, 'nope')).toThrow(/randomId/);
  });
});

describe('randomIdFor', () => {
  it('is stable per key and differs between keys', () => {
    expect(randomIdFor('order-42')).toBe(randomIdFor('order-42'));
    expect(randomIdFor('order-42')).not.toBe(randomIdFor('order-43'));
    expect(randomIdFor('order-42')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('implements RFC 9562 UUIDv5 (the RFC example: DNS namespace, www.example.com)', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });
});
