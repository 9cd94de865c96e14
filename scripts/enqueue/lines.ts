/**
 * The lines of an `npm run enqueue` file as queue messages, each checked with the functions' own rules before it
 * may be sent: the compiled JSON Schemas (lib/schemas/generated), the idempotency-key rule and the request builders'
 * rules that need no keystore. A line that breaks one is refused with its line number and why, and never sent: the
 * function would only dead-letter it.
 */
import { randomUUID } from 'node:crypto';
import { buildContactRequest, buildGroupRequest, type ContactInput, type GroupInput } from '../../lib/conversations';
import { InvalidRequestError } from '../../lib/errors';
import { checkIdempotencyKey } from '../../lib/idempotency-key';
import { parseJsonBody } from '../../lib/json';
import { validate as contactSchema } from '../../lib/schemas/generated/contact.js';
import { validate as groupSchema } from '../../lib/schemas/generated/group.js';
import { validate } from '../../lib/validation';

export type Kind = 'contacts' | 'groups';

/** One message to send: its body and, for a group, its IdempotencyKey attribute. */
export interface Entry {
  line: number;
  body: string;
  idempotencyKey?: string;
}

/** A line that will not be sent, and why. */
export interface Refusal {
  line: number;
  reason: string;
}

export interface ReadLines {
  entries: Entry[];
  refused: Refusal[];
  /** How the file was read: `user IDs`, `CSV (user_id column N)` or `JSON lines`. */
  format: string;
}

/**
 * Stands in for the bot in the builders' checks: the only check that needs the real bot (a participant that is the
 * bot itself) cannot fire on a random ID, and every other check is the function's own.
 */
const SOME_BOT = randomUUID();

const why = (error: unknown): string =>
  error instanceof InvalidRequestError ? error.message : `${(error as Error).message}`;

/** The contact request of one user ID, checked as the function checks it. */
const contactBody = (input: unknown): ContactInput => {
  validate<ContactInput>(contactSchema, input);
  buildContactRequest(input, SOME_BOT);
  return input;
};

/** A contact JSON line: `{"user_id": ...}` or a full contact request `{"participants": [...]}`. */
const contactFromJson = (text: string): ContactInput => {
  const value = parseJsonBody(text);
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'user_id' in value) {
    const extra = Object.keys(value).filter((k) => k !== 'user_id');
    if (extra.length > 0)
      throw InvalidRequestError.field(
        extra[0]!.slice(0, 100),
        'is not allowed beside user_id (give {"user_id": ...} or a full contact request)',
      );
    return contactBody({ participants: [{ user_id: (value as { user_id: unknown }).user_id }] });
  }
  return contactBody(value);
};

/** One CSV line split on commas, honouring double quotes ("a ""b"""). */
const csvFields = (line: string): string[] => {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted && c === '"' && line[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === ',' && !quoted) {
      fields.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  // A field spanning lines, or a stray quote: what follows the quote is not the value the file meant.
  if (quoted) throw InvalidRequestError.field('user_id', 'the line has a quote that is never closed');
  fields.push(field);
  return fields.map((f) => f.trim());
};

/** A group JSON line: a group request with `idempotency_key` (the attribute), `random_id` or `conversation_id`. */
const groupFromJson = (text: string): Pick<Entry, 'body' | 'idempotencyKey'> & { checkedKey?: string } => {
  const value = parseJsonBody(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw InvalidRequestError.field('body', 'must be a JSON object (a group request)');
  const { idempotency_key: key, ...input } = value as Record<string, unknown>;
  if (key !== undefined && typeof key !== 'string')
    throw InvalidRequestError.field('idempotency_key', 'must be a string');
  // The key as the function reads it: "k8" in quotes is k8 (the one key rule), the same group.
  const checkedKey = key === undefined ? undefined : checkIdempotencyKey(key, 'idempotency_key');
  validate<GroupInput>(groupSchema, input);
  if (key === undefined && input.random_id === undefined && input.conversation_id === undefined) {
    throw InvalidRequestError.field(
      'idempotency_key',
      'is required unless random_id or conversation_id is given: without one, a re-run would create a second group',
    );
  }
  buildGroupRequest(input, SOME_BOT, key);
  return {
    body: JSON.stringify(input),
    ...(key !== undefined && { idempotencyKey: key }),
    ...(checkedKey !== undefined && { checkedKey }),
  };
};

/** Lines with their 1-based numbers, without blank ones; a leading byte order mark is dropped. */
const numberedLines = (text: string): { line: number; text: string }[] =>
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((t, i) => ({ line: i + 1, text: t.trim() }))
    .filter((l) => l.text !== '');

/**
 * Reads a contacts file: JSON lines when its first line is a JSON object, CSV when its first line is a header
 * naming a `user_id` column, otherwise one user ID per line.
 */
const readContacts = (lines: { line: number; text: string }[]): ReadLines => {
  const entries: Entry[] = [];
  const refused: Refusal[] = [];
  const first = lines[0]?.text ?? '';
  let format = 'user IDs, one per line';
  let toContact: (text: string) => ContactInput = (text) => contactBody({ participants: [{ user_id: text }] });
  let rows = lines;
  if (first.startsWith('{')) {
    format = 'JSON lines';
    toContact = contactFromJson;
  } else {
    let header: string[] = [];
    try {
      header = csvFields(first).map((h) => h.toLowerCase());
    } catch {
      // Not a CSV header: read as user IDs, where the line is refused with its own reason.
    }
    const column = header.indexOf('user_id');
    if (column >= 0) {
      format = `CSV (column ${column + 1}, user_id, of ${header.length})`;
      rows = lines.slice(1);
      toContact = (text) => {
        const fields = csvFields(text);
        if (fields.length !== header.length)
          throw InvalidRequestError.field(
            'user_id',
            `the line has ${fields.length} fields, the header ${header.length}`,
          );
        return contactBody({ participants: [{ user_id: fields[column] }] });
      };
    } else if (first.includes(',')) {
      return {
        entries,
        refused: [{ line: lines[0]!.line, reason: 'a CSV file needs a header line with a user_id column' }],
        format: 'CSV without a user_id column',
      };
    }
  }
  const lineOfUser = new Map<string, number>();
  for (const { line, text } of rows) {
    try {
      const input = toContact(text);
      // One contact per user (the conversation ID is the bot's and the user's): a second line would cost a Mixin call
      // under the rate limit for the same conversation. User IDs are compared in any letter case, as the functions do.
      const user = String(input.participants[0]?.user_id).toLowerCase();
      const earlier = lineOfUser.get(user);
      if (earlier !== undefined)
        throw InvalidRequestError.field('user_id', `is the user of line ${earlier} already: one contact per user`);
      lineOfUser.set(user, line);
      entries.push({ line, body: JSON.stringify(input) });
    } catch (error) {
      refused.push({ line, reason: why(error) });
    }
  }
  return { entries, refused, format };
};

const readGroups = (lines: { line: number; text: string }[]): ReadLines => {
  const entries: Entry[] = [];
  const refused: Refusal[] = [];
  const lineOfKey = new Map<string, number>();
  for (const { line, text } of lines) {
    try {
      const { checkedKey, ...entry } = { line, ...groupFromJson(text) };
      const earlier = checkedKey === undefined ? undefined : lineOfKey.get(checkedKey);
      // One key is one group: a second line under it would be that group again, or refused as a reused key.
      if (earlier !== undefined)
        throw InvalidRequestError.field(
          'idempotency_key',
          `is the key of line ${earlier} already: one key is one group`,
        );
      if (checkedKey !== undefined) lineOfKey.set(checkedKey, line);
      entries.push(entry);
    } catch (error) {
      refused.push({ line, reason: why(error) });
    }
  }
  return { entries, refused, format: 'JSON lines' };
};

/** Every line of `text` as an entry to send or a refusal, for `kind`. */
export const readLines = (kind: Kind, text: string): ReadLines =>
  kind === 'contacts' ? readContacts(numberedLines(text)) : readGroups(numberedLines(text));
