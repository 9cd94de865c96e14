import { InvalidRequestError } from './errors';
import { fieldPath } from './field-path';

type Frame = { kind: 'object'; keys: Set<string>; expectKey: boolean; key: string } | { kind: 'array'; index: number };

const pathOf = (frames: Frame[], last: string): string =>
  fieldPath([...frames.slice(0, -1).map((f) => (f.kind === 'array' ? f.index : f.key)), last]);

/**
 * The path of the first key that appears twice in one object of `text` (already valid JSON), or undefined.
 * JSON.parse silently keeps the last duplicate; a request that says two things must not be guessed at.
 */
const findDuplicateKey = (text: string): string | undefined => {
  const frames: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = frames.at(-1);
      if (top?.kind === 'object' && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return pathOf(frames, key);
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    } else if (c === '{') frames.push({ kind: 'object', keys: new Set(), expectKey: true, key: '' });
    else if (c === '[') frames.push({ kind: 'array', index: 0 });
    else if (c === '}' || c === ']') frames.pop();
    else if (c === ',') {
      const top = frames.at(-1);
      if (top?.kind === 'object') top.expectKey = true;
      else if (top) top.index++;
    }
  }
  return undefined;
};

/**
 * Parses a request body as JSON, or throws an {@link InvalidRequestError}: `body` when it is not JSON,
 * the duplicated field's path when a key repeats. A leading byte order mark is dropped, as a UTF-8 decoder does.
 */
export const parseJsonBody = (body: string): unknown => {
  const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not V8's message: it quotes a piece of the body, and bodies are never logged.
    throw InvalidRequestError.field('body', 'is not valid JSON');
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) throw InvalidRequestError.field(duplicate, 'appears more than once in the JSON object');
  return value;
};
