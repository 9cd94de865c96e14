/**
 * One way to name a field inside a request, shared by schema errors and duplicate-key errors:
 * `participants[3].user_id`. Array indexes are numbers; a key that is not a plain identifier
 * (empty, all digits, dotted, ...) is quoted, `["0"]` or `[""]`, so it cannot be mistaken for an index or a path.
 */
import { shortMessage } from './text';

export type PathPart = string | number;

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/** A key's first characters: a field name a caller made up can be of any length, and it reaches logs and answers. */
const MAX_KEY_SHOWN = 100;
const shown = (key: string): string => {
  const cut = shortMessage(key, MAX_KEY_SHOWN);
  return cut === key ? key : `${cut}…`;
};

export const fieldPath = (parts: readonly PathPart[]): string =>
  parts
    .map((part) => (typeof part === 'number' ? part : shown(part)))
    .reduce<string>((acc, part) => {
      if (typeof part === 'number') return `${acc}[${part}]`;
      if (PLAIN_KEY.test(part)) return acc ? `${acc}.${part}` : part;
      return `${acc}[${JSON.stringify(part)}]`;
    }, '') || 'body';
