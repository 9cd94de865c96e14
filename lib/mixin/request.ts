import { randomUUID } from 'node:crypto';
import { CONFIG_DEFAULTS } from '../config';
import { MixinRateLimitError, MixinRequestError, MixinUnavailableError } from '../errors';
import type { Keystore } from './keystore-parser';
import type { RateLimiter, Slot, WhenPaused } from './rate-limiter';
import {
  type AttemptOutcome,
  backoffDelay,
  classifyResponse,
  classifyTransportFailure,
  isRetryable,
  needsFreshKeystore,
  RETRY_RULES,
} from './retry';
import { signAuthenticationToken } from './token';
import { exchange, TransportError } from './transport';

/** How to reach Mixin and how hard to try. Every field has a default suited to a Lambda. */
export interface MixinCallOptions {
  /** Mixin's origin (no path), default `https://api.mixin.one`. */
  baseUrl?: string;
  /** Absolute time (epoch ms) by which the call must have returned, success or not. */
  deadline?: number;
  /**
   * What `deadline` is, for the error when it stops the call: the function's own (`deadline`, the default) or the
   * start of a queue batch's end reserve (`batch-reserve`), so that the error says what actually ran out.
   */
  deadlineReason?: 'deadline' | 'batch-reserve';
  /** Per-attempt limit on connect + send + receive. Default 5,000 ms. */
  attemptTimeoutMs?: number;
  /** Total attempts including the first. Default 4. */
  maxAttempts?: number;
  /** Full-jitter backoff: base and cap of the exponential window. Defaults 100 ms and 2,000 ms. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Largest answer read, in bytes. Default 4 MB: more is a bad response (a Lambda answers at most 6 MB). */
  maxResponseBytes?: number;
  /** Source of jitter in [0, 1); injectable for tests. */
  random?: () => number;
  /** Told about each attempt as it ends, for logs and metrics. */
  onAttempt?: (report: AttemptReport) => void;
  /**
   * The instance's rate limiter (lib/mixin/rate-limiter.ts): every attempt waits for its slot, and each answer
   * teaches it (a 429 slows the whole instance down). Without one, attempts go out as fast as the backoff allows.
   */
  limiter?: RateLimiter;
  /** The first attempt, when the limiter is paused: `wait` for the pause (within the deadline) or `refuse` at once. Default `refuse`. */
  whenPaused?: WhenPaused;
}

/** Where a call gets its key: the keystore in hand and, optionally, a way to read it again after a 401. */
export interface KeystoreSource {
  keystore: Keystore;
  /** After Mixin refused `stale` with a 401: the keystore to try again with (a rotated key heals). */
  reload?: (stale: Keystore) => Promise<Keystore>;
}

/** One Mixin API call: method, path (and query) and, for a write, the exact body to send and sign. */
export interface SignedCall {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  /**
   * Checks a successful answer's `data` before it is accepted: a problem (a string) makes the attempt a bad
   * response, retried like any other. For an endpoint whose answer must match the request.
   */
  check?: (data: Record<string, unknown>) => string | undefined;
}

/** What one attempt did: its number, the request ID it carried, how it ended and the wait before the next. */
export interface AttemptReport {
  attempt: number;
  requestId: string;
  outcome: AttemptOutcome['kind'];
  code?: number;
  reason?: string;
  /** Mixin (or something in front of it) answered: `durationMs` is then its latency. */
  answered: boolean;
  durationMs: number;
  nextDelayMs?: number;
}

/** A successful call: Mixin's `data` and how many attempts it took. */
export interface MixinResult<T> {
  data: T;
  attempts: number;
}

const defaults = {
  baseUrl: CONFIG_DEFAULTS.mixinApiUrl,
  attemptTimeoutMs: CONFIG_DEFAULTS.attemptTimeoutMs,
  maxAttempts: CONFIG_DEFAULTS.maxAttempts,
  backoffBaseMs: 100,
  backoffCapMs: 2_000,
  maxResponseBytes: 4 * 1024 * 1024,
  random: Math.random,
};

/** The shortest attempt worth starting: below it, the deadline would cut it off anyway. */
const MIN_ATTEMPT_MS = 50;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Failures of ours, before or without an answer: the attempt's duration says nothing about Mixin's latency. */
const UNANSWERED: ReadonlySet<string> = new Set(['network', 'timeout', 'deadline', 'batch-reserve']);

/**
 * The limiter gave no slot before the deadline. First attempt: the instance is paused (or too far behind), Mixin was
 * not called. After a 429: the instance cannot try again in time. After any other failure: that failure stands.
 */
const noSlot = (
  slot: Extract<Slot, { granted: false }>,
  last: AttemptOutcome | undefined,
  attempts: number,
  backoffCapMs: number,
): Error => {
  const retryAfterSeconds = Math.max(1, Math.ceil(slot.retryAfterMs / 1000));
  if (last === undefined) return new MixinRateLimitError(0, retryAfterSeconds, 'paused');
  if (last.kind === 'rate-limited') return new MixinRateLimitError(attempts, retryAfterSeconds, 'rate-limited');
  return finalError(last, attempts, backoffCapMs);
};

const finalError = (outcome: AttemptOutcome, attempts: number, backoffCapMs: number): Error => {
  switch (outcome.kind) {
    case 'rate-limited':
      return new MixinRateLimitError(attempts, Math.max(1, Math.ceil((outcome.retryAfterMs ?? backoffCapMs) / 1000)));
    case 'unavailable':
      if (outcome.reason === 'batch-reserve') return MixinUnavailableError.batchReserve(attempts);
      return new MixinUnavailableError(outcome.reason, outcome.message, attempts);
    case 'rejected':
      return new MixinRequestError(outcome.code, outcome.description, outcome.extra, attempts);
    default:
      return new MixinUnavailableError('bad-response', 'unexpected outcome', attempts);
  }
};

/**
 * One call with one keystore and bounded retries. Each attempt carries a fresh token and request ID but exactly
 * the same body, so a retry can never create a different conversation than the first try. Returns before
 * `deadline`, whatever Mixin does.
 */
const callWithRetries = async <T>(
  keystore: Keystore,
  call: SignedCall,
  options: MixinCallOptions,
): Promise<MixinResult<T>> => {
  const opts = { ...defaults, ...options };
  // The base is an origin (lib/config.ts refuses a path): the URI Mixin sees, and every token signs, is `call.path`.
  const url = new URL(call.path, opts.baseUrl);
  const uri = url.pathname + url.search;
  const body = call.body ?? '';
  const deadline = opts.deadline ?? Number.POSITIVE_INFINITY;
  let last: AttemptOutcome | undefined;

  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - Date.now();
    if (remaining < MIN_ATTEMPT_MS) {
      if (last && last.kind !== 'unavailable') throw finalError(last, attempt - 1, opts.backoffCapMs);
      if (opts.deadlineReason === 'batch-reserve') throw MixinUnavailableError.batchReserve(attempt - 1);
      if (attempt === 1) throw MixinUnavailableError.deadlineBeforeMixin();
      throw new MixinUnavailableError('deadline', 'the deadline was reached before Mixin answered', attempt - 1);
    }
    let slot: Slot | undefined;
    // A first attempt, and one after a 429, wait for the instance's slot; one after any other failure only backs off.
    if (opts.limiter && (last === undefined || RETRY_RULES[last.kind].wait === 'rate-limiter')) {
      slot = await opts.limiter.acquire(
        deadline - MIN_ATTEMPT_MS,
        attempt === 1 ? (opts.whenPaused ?? 'refuse') : 'wait',
      );
      if (!slot.granted) throw noSlot(slot, last, attempt - 1, opts.backoffCapMs);
      // A timer fires late on a busy event loop: a slot that comes too close to the deadline is not used.
      if (deadline - Date.now() < MIN_ATTEMPT_MS)
        throw noSlot(
          { granted: false, retryAfterMs: opts.limiter.expectedWaitMs(), paused: false },
          last,
          attempt - 1,
          opts.backoffCapMs,
        );
    }
    const timeoutMs = Math.min(opts.attemptTimeoutMs, deadline - Date.now());
    const requestId = randomUUID();
    const token = signAuthenticationToken(keystore, { method: call.method, uri, body }, { jti: requestId });
    const started = Date.now();
    let outcome: AttemptOutcome;
    try {
      const headers: Record<string, string> = { Authorization: `Bearer ${token}`, 'X-Request-Id': requestId };
      if (call.body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await exchange({
        url,
        method: call.method,
        headers,
        body: call.body,
        timeoutMs,
        maxResponseBytes: opts.maxResponseBytes,
      });
      outcome = classifyResponse(res.status, res.body, res.retryAfter);
      const problem = outcome.kind === 'success' ? call.check?.(outcome.data) : undefined;
      if (problem !== undefined)
        outcome = { kind: 'unavailable', reason: 'bad-response', message: `Mixin answered ${problem}` };
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      outcome = classifyTransportFailure(error, timeoutMs < opts.attemptTimeoutMs, opts.deadlineReason ?? 'deadline');
    }
    const answered = outcome.kind !== 'unavailable' || !UNANSWERED.has(outcome.reason);
    const report: AttemptReport = {
      attempt,
      requestId,
      outcome: outcome.kind,
      answered,
      durationMs: Date.now() - started,
    };
    if (outcome.kind === 'rejected') report.code = outcome.code;
    if (outcome.kind === 'unavailable') report.reason = outcome.reason;
    if (slot?.granted && outcome.kind === 'success') opts.limiter!.onSuccess(slot.startedAt, slot.held);
    if (slot?.granted && outcome.kind === 'rate-limited') opts.limiter!.onRateLimited(outcome.retryAfterMs);

    if (outcome.kind === 'success') {
      opts.onAttempt?.(report);
      return { data: outcome.data as T, attempts: attempt };
    }
    last = outcome;
    let delay = backoffDelay(attempt, { baseMs: opts.backoffBaseMs, capMs: opts.backoffCapMs, random: opts.random });
    if (RETRY_RULES[outcome.kind].wait === 'rate-limiter' && opts.limiter)
      delay = 0; // the limiter paces the next attempt
    else if (outcome.kind === 'rate-limited' && outcome.retryAfterMs !== undefined)
      delay = Math.max(delay, outcome.retryAfterMs);
    const another =
      isRetryable(outcome) && attempt < opts.maxAttempts && Date.now() + delay + MIN_ATTEMPT_MS <= deadline;
    if (another) report.nextDelayMs = delay;
    opts.onAttempt?.(report);
    // Out of attempts after a 429: the limiter knows best when the instance will call again.
    if (!another)
      throw finalError(outcome, attempt, opts.limiter ? Math.max(1, opts.limiter.expectedWaitMs()) : opts.backoffCapMs);
    await sleep(delay);
  }
};

/** A rotation keeps the bot: the same app ID with another session or key. Any other change is not ours to retry with. */
const rotated = (stale: Keystore, fresh: Keystore): boolean =>
  fresh.appId === stale.appId && (fresh.sessionId !== stale.sessionId || fresh.publicKeyHex !== stale.publicKeyHex);

/**
 * The one signed call to Mixin: every endpoint is a small function over it (lib/mixin/conversation.ts).
 * Retries what lib/mixin/retry.ts says is worth retrying, within `options.deadline`; after a 401 it reads the
 * keystore again once (`keys.reload`) and, if the key was rotated, makes the same call with the new key.
 * @throws MixinRateLimitError | MixinUnavailableError | MixinRequestError
 */
export const signedRequest = async <T>(
  keys: KeystoreSource,
  call: SignedCall,
  options: MixinCallOptions = {},
): Promise<MixinResult<T>> => {
  try {
    return await callWithRetries<T>(keys.keystore, call, options);
  } catch (error) {
    if (!needsFreshKeystore(error) || !keys.reload) throw error;
    const fresh = await keys.reload(keys.keystore);
    if (!rotated(keys.keystore, fresh)) throw error;
    const result = await callWithRetries<T>(fresh, call, options);
    return { ...result, attempts: result.attempts + error.attempts };
  }
};
