import type { UnavailableReason } from '../errors';

/** Mixin application codes worth another attempt: rate limit, server error, blaze error, blaze timeout. */
export const RETRYABLE_MIXIN_CODES: ReadonlySet<number> = new Set([429, 500, 7000, 7001]);

/** How a finished attempt ended, in the terms the retry loop needs. */
export type AttemptOutcome =
  | { kind: 'success'; data: Record<string, unknown> }
  | { kind: 'rate-limited'; retryAfterMs: number | undefined }
  | { kind: 'unavailable'; reason: UnavailableReason; message: string }
  | { kind: 'rejected'; code: number; description: string; extra: unknown };

/** True when another attempt may get a different answer. */
export const isRetryable = (outcome: AttemptOutcome): boolean =>
  outcome.kind === 'rate-limited' || outcome.kind === 'unavailable';

/** Backoff settings: full jitter, `delay = random() * min(capMs, baseMs * 2^(attempt-1))`. */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  random: () => number;
}

/** Delay before attempt `attempt + 1`, after `attempt` failed (1-based). */
export const backoffDelay = (attempt: number, { baseMs, capMs, random }: BackoffOptions): number =>
  Math.floor(random() * Math.min(capMs, baseMs * 2 ** (attempt - 1)));

/** Parses a Retry-After header given in seconds; dates and junk are ignored. */
export const parseRetryAfter = (header: string | undefined): number | undefined => {
  if (header === undefined || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
};

const unavailable = (reason: UnavailableReason, message: string): AttemptOutcome => ({ kind: 'unavailable', reason, message });

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** Reads Mixin's `{"error": {"code", "description", "extra"}}` envelope, if that is what `body` is. */
const errorEnvelope = (body: unknown): { code: number; description: string; extra: unknown } | undefined => {
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, description, extra } = error as { code?: unknown; description?: unknown; extra?: unknown };
  if (typeof code !== 'number') return undefined;
  return { code, description: typeof description === 'string' ? description : '', extra };
};

/** One table for every HTTP answer: which are success, which are worth retrying, which are final. */
export const classifyResponse = (status: number, text: string, retryAfter: string | undefined): AttemptOutcome => {
  const body = parseJson(text);
  const envelope = errorEnvelope(body);
  if (status === 429 || envelope?.code === 429) return { kind: 'rate-limited', retryAfterMs: parseRetryAfter(retryAfter) };
  if (status >= 500) return unavailable('server-error', `Mixin answered HTTP ${status}${envelope ? ` code ${envelope.code}` : ''}`);
  if (envelope) {
    if (RETRYABLE_MIXIN_CODES.has(envelope.code)) return unavailable('server-error', `Mixin answered code ${envelope.code}`);
    return { kind: 'rejected', ...envelope };
  }
  if (status >= 200 && status < 300) {
    const data = (body as { data?: unknown } | undefined)?.data;
    if (typeof data === 'object' && data !== null && !Array.isArray(data)) return { kind: 'success', data: data as Record<string, unknown> };
    return unavailable('bad-response', `Mixin answered HTTP ${status} with a body that is not a Mixin response`);
  }
  // 3xx/4xx without Mixin's envelope is not Mixin speaking (a proxy, a WAF, a wrong base URL): never read it as a
  // Mixin code, least of all 401/403, which would reload the keystore and look like revoked credentials.
  return unavailable('bad-response', `HTTP ${status} without a Mixin response body`);
};
