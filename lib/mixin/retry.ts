/**
 * What is retried, in one place: how every attempt ended (an answer, {@link classifyResponse}; no answer,
 * {@link classifyTransportFailure}), which endings are worth another attempt and how it waits ({@link RETRY_RULES}:
 * the backoff, or the rate limiter after a 429), what a paused instance does ({@link WHEN_PAUSED}), and the one
 * failure that is retried with a fresh keystore instead (Mixin code 401, after the secret is read again). Everything
 * else is final.
 */
import type { UnavailableReason } from '../errors';
import { MixinRequestError } from '../errors';

/** Mixin application codes worth another attempt: rate limit, server error, blaze error, blaze timeout. */
const RETRYABLE_MIXIN_CODES: ReadonlySet<number> = new Set([429, 500, 7000, 7001]);

/** The longest Retry-After we honour or pass on: a larger (or absurd) value is clamped to this. */
export const MAX_RETRY_AFTER_SECONDS = 300;

/** How a finished attempt ended, in the terms the retry loop needs. */
export type AttemptOutcome =
  | { kind: 'success'; data: Record<string, unknown> }
  | { kind: 'rate-limited'; retryAfterMs: number | undefined }
  | { kind: 'unavailable'; reason: UnavailableReason; message: string }
  | { kind: 'rejected'; code: number; description: string; extra: unknown };

/**
 * After an attempt, by how it ended: whether another attempt may get a different answer, and how it waits.
 * `rate-limiter`: Mixin said 429; the instance's rate limiter was told (it slows the whole instance down) and the
 * next attempt waits for its slot, within the deadline (without a limiter: the backoff, at least any Retry-After).
 * `backoff`: full-jitter backoff ({@link backoffDelay}) only: Mixin failing says nothing about the rate limit, and a
 * retry paced like a new call could no longer fit in the deadline. A first attempt always waits for the limiter.
 */
export const RETRY_RULES = {
  success: { retry: false, wait: 'none' },
  'rate-limited': { retry: true, wait: 'rate-limiter' },
  unavailable: { retry: true, wait: 'backoff' },
  rejected: { retry: false, wait: 'none' },
} as const satisfies Record<AttemptOutcome['kind'], { retry: boolean; wait: 'none' | 'backoff' | 'rate-limiter' }>;

/**
 * A call's first attempt while the instance is paused after a 429: a queue record waits for the pause to end within
 * its batch's time (or is deferred, lib/lambda/sqs-batch.ts); an HTTP request or workflow task is refused at once
 * (MixinRateLimitError `paused`, attempts 0, Retry-After from the pause): a caller waiting seconds gains nothing.
 */
export const WHEN_PAUSED = { queue: 'wait', request: 'refuse' } as const;

/**
 * How an attempt that got no answer ended (the transport's failure): always `unavailable`, hence retried with the
 * backoff. An answer over the size limit is a bad response; a timeout that our own deadline imposed (the attempt was
 * given less than its usual time) is `cutReason` (`deadline`, or `batch-reserve` for a queue batch's end reserve).
 */
export const classifyTransportFailure = (
  error: { kind: 'network' | 'timeout' | 'too-large'; message: string },
  cutByDeadline: boolean,
  cutReason: UnavailableReason,
): AttemptOutcome => {
  const reason =
    error.kind === 'too-large' ? 'bad-response' : error.kind === 'timeout' && cutByDeadline ? cutReason : error.kind;
  return unavailable(reason, `Mixin did not answer: ${error.message}`);
};

/** True when another attempt may get a different answer. */
export const isRetryable = (outcome: AttemptOutcome): boolean => RETRY_RULES[outcome.kind].retry;

/**
 * True when the call is worth repeating once with the keystore read again: Mixin said 401 (the key may have been
 * rotated). A 403 is final: the key is known, it is only not allowed.
 */
export const needsFreshKeystore = (error: unknown): error is MixinRequestError =>
  error instanceof MixinRequestError && error.code === 401;

/** Backoff settings: full jitter, `delay = random() * min(capMs, baseMs * 2^(attempt-1))`. */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  random: () => number;
}

/** Delay before attempt `attempt + 1`, after `attempt` failed (1-based). */
export const backoffDelay = (attempt: number, { baseMs, capMs, random }: BackoffOptions): number =>
  Math.floor(random() * Math.min(capMs, baseMs * 2 ** (attempt - 1)));

/** Parses a Retry-After header given in seconds, clamped to {@link MAX_RETRY_AFTER_SECONDS}; dates and junk are ignored. */
const parseRetryAfter = (header: string | undefined): number | undefined => {
  if (header === undefined || !/^\d+$/.test(header.trim())) return undefined;
  return Math.min(Number(header.trim()), MAX_RETRY_AFTER_SECONDS) * 1000;
};

const unavailable = (reason: UnavailableReason, message: string): AttemptOutcome => ({
  kind: 'unavailable',
  reason,
  message,
});

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

/**
 * One table for every HTTP answer: which are success, which are worth retrying, which are final.
 * When Mixin's error envelope is there, its code decides, whatever the HTTP status (Mixin sends its errors with
 * 202, and a 500 carrying code 10002 is still a 10002: retrying it cannot help). Without the envelope, the status
 * decides: 5xx is a server error, and a 3xx/4xx is not Mixin speaking (a proxy, a WAF, a wrong base URL).
 */
export const classifyResponse = (status: number, text: string, retryAfter: string | undefined): AttemptOutcome => {
  const body = parseJson(text);
  const envelope = errorEnvelope(body);
  if (status === 429 || envelope?.code === 429)
    return { kind: 'rate-limited', retryAfterMs: parseRetryAfter(retryAfter) };
  if (envelope) {
    if (RETRYABLE_MIXIN_CODES.has(envelope.code))
      return unavailable('server-error', `Mixin answered HTTP ${status} code ${envelope.code}`);
    return { kind: 'rejected', ...envelope };
  }
  if (status >= 500) return unavailable('server-error', `Mixin answered HTTP ${status}`);
  if (status >= 200 && status < 300) {
    const data = (body as { data?: unknown } | undefined)?.data;
    if (typeof data === 'object' && data !== null && !Array.isArray(data))
      return { kind: 'success', data: data as Record<string, unknown> };
    return unavailable('bad-response', `Mixin answered HTTP ${status} with a body that is not a Mixin response`);
  }
  // Never read a 3xx/4xx without the envelope as a Mixin code, least of all 401/403, which would reload the
  // keystore and look like revoked credentials.
  return unavailable('bad-response', `HTTP ${status} without a Mixin response body`);
};
