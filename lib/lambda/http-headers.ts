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

/** The `Idempotency-Key` header, checked by the one idempotency-key rule (lib/idempotency-key.ts). */
export const idempotencyKey = (event: WithHeaders): string | undefined => {
  const key = header(event, 'idempotency-key');
  return key === undefined ? undefined : checkIdempotencyKey(key, 'Idempotency-Key');
};
