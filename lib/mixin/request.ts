import { randomUUID } from 'node:crypto';
import { DEFAULT_MIXIN_API_URL } from '../constants';
import { MixinRateLimitError, MixinRequestError, MixinUnavailableError } from '../errors';
import { post, TransportError } from './http';
import type { Keystore } from './keystore';
import { type AttemptOutcome, backoffDelay, classifyResponse, isRetryable } from './retry';
import { signAuthenticationToken } from './token';

/** How to reach Mixin and how hard to try. Every field has a default suited to a Lambda. */
export interface MixinCallOptions {
  /** Base URL, default `https://api.mixin.one`. */
  baseUrl?: string;
  /** Absolute time (epoch ms) by which the call must have returned, success or not. */
  deadline?: number;
  /** Per-attempt limit on connect + send + receive. Default 5,000 ms. */
  attemptTimeoutMs?: number;
  /** Total attempts including the first. Default 4. */
  maxAttempts?: number;
  /** Full-jitter backoff: base and cap of the exponential window. Defaults 100 ms and 2,000 ms. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Source of jitter in [0, 1); injectable for tests. */
  random?: () => number;
  /** Told about each attempt as it ends, for logs and metrics. */
  onAttempt?: (report: AttemptReport) => void;
}

/** What one attempt did: its number, the request ID it carried, how it ended and the wait before the next. */
export interface AttemptReport {
  attempt: number;
  requestId: string;
  outcome: AttemptOutcome['kind'];
  code?: number;
  reason?: string;
  durationMs: number;
  nextDelayMs?: number;
}

/** A successful call: Mixin's `data` and how many attempts it took. */
export interface MixinResult<T> {
  data: T;
  attempts: number;
}

const defaults = {
  baseUrl: DEFAULT_MIXIN_API_URL,
  attemptTimeoutMs: 5_000,
  maxAttempts: 4,
  backoffBaseMs: 100,
  backoffCapMs: 2_000,
  random: Math.random,
};

/** The shortest attempt worth starting: below it, the deadline would cut it off anyway. */
const MIN_ATTEMPT_MS = 50;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const finalError = (outcome: AttemptOutcome, attempts: number, backoffCapMs: number): Error => {
  switch (outcome.kind) {
    case 'rate-limited':
      return new MixinRateLimitError(attempts, Math.max(1, Math.ceil((outcome.retryAfterMs ?? backoffCapMs) / 1000)));
    case 'unavailable':
      return new MixinUnavailableError(outcome.reason, outcome.message, attempts);
    case 'rejected':
      return new MixinRequestError(outcome.code, outcome.description, outcome.extra, attempts);
    default:
      return new MixinUnavailableError('bad-response', 'unexpected outcome', attempts);
  }
};

/**
 * Sends one signed POST to Mixin with bounded retries. Each attempt carries a fresh token and request ID
 * but exactly the same body, so a retry can never create a different conversation than the first try.
 * Returns before `deadline`, whatever Mixin does.
 * @throws MixinRateLimitError | MixinUnavailableError | MixinRequestError
 */
export const postSigned = async <T>(
  keystore: Keystore,
  path: string,
  body: string,
  options: MixinCallOptions = {},
): Promise<MixinResult<T>> => {
  const opts = { ...defaults, ...options };
  const url = new URL(path, opts.baseUrl.endsWith('/') ? opts.baseUrl : `${opts.baseUrl}/`);
  const uri = url.pathname + url.search;
  const deadline = opts.deadline ?? Number.POSITIVE_INFINITY;
  let last: AttemptOutcome | undefined;

  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - Date.now();
    if (remaining < MIN_ATTEMPT_MS) {
      if (last && last.kind !== 'unavailable') throw finalError(last, attempt - 1, opts.backoffCapMs);
      throw new MixinUnavailableError('deadline', 'the deadline was reached before Mixin answered', attempt - 1);
    }
    const timeoutMs = Math.min(opts.attemptTimeoutMs, remaining);
    const requestId = randomUUID();
    const token = signAuthenticationToken(keystore, { method: 'POST', uri, body }, { jti: requestId });
    const started = Date.now();
    let outcome: AttemptOutcome;
    try {
      const res = await post(url, body, {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        'X-Request-Id': requestId,
      }, timeoutMs);
      outcome = classifyResponse(res.status, res.body, res.retryAfter);
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      const cutByDeadline = error.kind === 'timeout' && timeoutMs < opts.attemptTimeoutMs;
      outcome = { kind: 'unavailable', reason: cutByDeadline ? 'deadline' : error.kind, message: `Mixin did not answer: ${error.message}` };
    }
    const report: AttemptReport = { attempt, requestId, outcome: outcome.kind, durationMs: Date.now() - started };
    if (outcome.kind === 'rejected') report.code = outcome.code;
    if (outcome.kind === 'unavailable') report.reason = outcome.reason;

    if (outcome.kind === 'success') {
      opts.onAttempt?.(report);
      return { data: outcome.data as T, attempts: attempt };
    }
    last = outcome;
    let delay = backoffDelay(attempt, { baseMs: opts.backoffBaseMs, capMs: opts.backoffCapMs, random: opts.random });
    if (outcome.kind === 'rate-limited' && outcome.retryAfterMs !== undefined) delay = Math.max(delay, outcome.retryAfterMs);
    const another = isRetryable(outcome) && attempt < opts.maxAttempts && Date.now() + delay + MIN_ATTEMPT_MS <= deadline;
    if (another) report.nextDelayMs = delay;
    opts.onAttempt?.(report);
    if (!another) throw finalError(outcome, attempt, opts.backoffCapMs);
    await sleep(delay);
  }
};
