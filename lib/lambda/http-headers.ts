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
    throw InvalidRequestError.field('Idempotency-Key', 'must be printable ASCII; send other characters in the queue attribute or the workflow input');
  }
  return checkIdempotencyKey(raw, 'Idempotency-Key');
};
