import { InvalidRequestError } from '../errors';
import { checkIdempotencyKey } from '../idempotency-key';

/** The part of an HTTP API event that carries headers. */
export interface WithHeaders {
  headers?: Record<string, string | undefined>;
}

/** A request header by name, in any letter case (API Gateway lower-cases them; a test or a proxy may not). */
export const header = (event: WithHeaders, name: string): string | undefined => {
  const headers = event.headers ?? {};
  const wanted = name.toLowerCase();
  if (headers[wanted] !== undefined) return headers[wanted];
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
};

/** A media type and its parameters, names lower-cased, values unquoted, in the order sent. */
export interface MediaType {
  type: string;
  subtype: string;
  parameters: [name: string, value: string][];
}

// RFC 9110 section 8.3.1 (media-type) and 5.6 (token, quoted-string, OWS).
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED_STRING = '"(?:[\\t \\x21\\x23-\\x5B\\x5D-\\x7E\\x80-\\xFF]|\\\\[\\t \\x21-\\x7E\\x80-\\xFF])*"';
const TYPE = new RegExp(`^[ \\t]*(${TOKEN})/(${TOKEN})`);
// `*( OWS ";" OWS [ parameter ] )`: an empty parameter (`;;`, a trailing `;`) is allowed, half of one is not.
const PARAMETER = new RegExp(`[ \\t]*;[ \\t]*(?:(${TOKEN})=(${TOKEN}|${QUOTED_STRING}))?`, 'y');
const TRAILING_SPACE = /[ \t]*$/y;

/**
 * Parses a `Content-Type` value as RFC 9110 writes it, or returns undefined when it does not parse (a parameter
 * without a name or value, an unterminated quoted string, text between parameters): a charset is read from its
 * own parameter only, never from inside another one's quoted value.
 */
export const parseMediaType = (value: string): MediaType | undefined => {
  const head = TYPE.exec(value);
  if (!head) return undefined;
  const parameters: MediaType['parameters'] = [];
  let at = head[0].length;
  for (;;) {
    PARAMETER.lastIndex = at;
    const parameter = PARAMETER.exec(value);
    if (!parameter) break;
    at = PARAMETER.lastIndex;
    const [, name, raw] = parameter;
    if (name !== undefined && raw !== undefined) {
      const unquoted = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
      parameters.push([name.toLowerCase(), unquoted]);
    }
  }
  TRAILING_SPACE.lastIndex = at;
  TRAILING_SPACE.exec(value);
  if (TRAILING_SPACE.lastIndex !== value.length) return undefined;
  return { type: head[1]!.toLowerCase(), subtype: head[2]!.toLowerCase(), parameters };
};

/** What a key sent in a header may hold (the OpenAPI contract states the same pattern). */
export const PRINTABLE_ASCII = /^[\x20-\x7E]*$/;

/**
 * The `Idempotency-Key` header, quoted (`"order-42"`, as the IETF draft sends it) or bare (`order-42`, as Stripe
 * does), the same key either way: the one idempotency-key rule (lib/idempotency-key.ts). Printable ASCII only
 * (quoted or not: the quotes and escapes are printable ASCII too): a header's other bytes reach the function decoded
 * differently by each proxy, and the key must address the same group as the queue attribute or the workflow input
 * that carries it.
 */
export const idempotencyKey = (event: WithHeaders): string | undefined => {
  const raw = header(event, 'idempotency-key');
  if (raw === undefined) return undefined;
  if (!PRINTABLE_ASCII.test(raw)) {
    throw InvalidRequestError.field(
      'Idempotency-Key',
      'must be printable ASCII; send other characters in the queue attribute or the workflow input',
    );
  }
  return checkIdempotencyKey(raw, 'Idempotency-Key');
};
