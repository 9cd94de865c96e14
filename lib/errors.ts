/**
 * The public error contract, in one place. Every error this service raises on purpose extends
 * {@link ConversationError}: a stable `name` (Step Functions `ErrorEquals`, the `error_name` log field) and
 * `retryable` (whether the same request can succeed later). HTTP statuses: lib/lambda/http-status.ts;
 * queues: lib/lambda/dead-letter.ts (`isDeadLetter`: which errors go straight to the DLQ).
 */
import { shortMessage } from './text';

/** One reason a request was rejected: the JSON path of the field and why. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** Base class: every error this service raises on purpose says whether trying again can help. */
export abstract class ConversationError extends Error {
  abstract override readonly name: string;
  abstract readonly retryable: boolean;
  /** The conversation the failed request was for, once known: lets an operator find a group a lost answer made. */
  conversationId?: string;
  randomId?: string;
  /** Calls to Mixin this failure took (0: Mixin was never asked). */
  attempts?: number;
}

/** The caller's input is wrong; it was never sent to Mixin. Not retryable. */
export class InvalidRequestError extends ConversationError {
  override readonly name = 'InvalidRequestError';
  readonly retryable = false;
  readonly details: FieldProblem[];

  constructor(details: FieldProblem[], message?: string) {
    super(message ?? details.map((d) => `${d.field}: ${d.message}`).join('; '));
    this.details = details;
  }

  /** Shorthand for the common case of one bad field. */
  static field(field: string, message: string): InvalidRequestError {
    return new InvalidRequestError([{ field, message }]);
  }
}

/** The HTTP envelope itself is unacceptable (media type, size), before any field is looked at. Not retryable. */
export class HttpRequestError extends ConversationError {
  override readonly name = 'HttpRequestError';
  readonly retryable = false;

  constructor(
    readonly status: 413 | 415,
    readonly code: 'body_too_large' | 'unsupported_media_type',
    message: string,
  ) {
    super(message);
  }
}

/** The bot keystore is missing, malformed or unusable, and no good one is in hand. Names the field, never its value. */
export class KeystoreError extends ConversationError {
  override readonly name = 'KeystoreError';
  readonly retryable = false;
  readonly field: string | undefined;

  constructor(message: string, field?: string) {
    super(field ? `keystore.${field}: ${message}` : `keystore: ${message}`);
    this.field = field;
  }
}

/** The keystore could not be read right now (Secrets Manager throttled, failing or unreachable). Retryable. */
export class KeystoreUnavailableError extends ConversationError {
  override readonly name = 'KeystoreUnavailableError';
  readonly retryable = true;

  constructor(message: string) {
    super(`keystore: ${message}`);
  }
}

/**
 * Where a {@link MixinUnavailableError} came from. `deadline` with 0 attempts: our own time ran out before Mixin was
 * asked. `batch-reserve`: a queue batch reached the time it keeps for its end (its dead-letter and re-sent copies'
 * sends), so this record's call was cut there (or, with 0 attempts, never started).
 */
export type UnavailableReason = 'server-error' | 'network' | 'timeout' | 'deadline' | 'bad-response' | 'batch-reserve';

/**
 * Why a {@link MixinRateLimitError}: `rate-limited`, Mixin answered 429 and this instance had no slot left for
 * another attempt before the deadline; `paused`, this instance is slowing down after a 429 (lib/mixin/rate-limiter.ts)
 * and did not call Mixin at all (attempts 0): the bot as a whole is at its limit.
 */
export type RateLimitReason = 'rate-limited' | 'paused';

/** Mixin is rate-limiting the bot: it answered 429, or this instance paused its calls after one. Retryable later. */
export class MixinRateLimitError extends ConversationError {
  override readonly name = 'MixinRateLimitError';
  readonly retryable = true;
  override readonly attempts: number;
  /** Seconds a caller should wait before trying again. */
  readonly retryAfterSeconds: number;
  readonly reason: RateLimitReason;

  constructor(attempts: number, retryAfterSeconds: number, reason: RateLimitReason = 'rate-limited') {
    super(
      reason === 'paused'
        ? `not sent: this instance paused its calls to Mixin after a rate limit (code 429); retry after ${retryAfterSeconds} s`
        : `Mixin rate-limited the request (code 429) after ${attempts} attempt(s)`,
    );
    this.attempts = attempts;
    this.retryAfterSeconds = retryAfterSeconds;
    this.reason = reason;
  }
}

/** Mixin could not be reached or answered with a server error, garbage or too late; or our time ran out. Retryable. */
export class MixinUnavailableError extends ConversationError {
  override readonly name = 'MixinUnavailableError';
  readonly retryable = true;
  readonly reason: UnavailableReason;
  override readonly attempts: number;

  constructor(reason: UnavailableReason, message: string, attempts: number) {
    super(`${message} (after ${attempts} attempt(s))`);
    this.reason = reason;
    this.attempts = attempts;
  }

  /** Our own budget ran out (the Lambda deadline less DEADLINE_MARGIN_MS) before Mixin could be asked. */
  static deadlineBeforeMixin(
    message = 'the function ran out of time before Mixin could be asked',
  ): MixinUnavailableError {
    return new MixinUnavailableError('deadline', message, 0);
  }

  /** A queue batch kept its last moments for its end sends: this record's Mixin call stopped (or never started) there. */
  static batchReserve(attempts: number): MixinUnavailableError {
    const what = attempts === 0 ? 'before Mixin could be asked' : 'before Mixin answered';
    return new MixinUnavailableError(
      'batch-reserve',
      `the batch's end reserve (time kept for its sends) was reached ${what}`,
      attempts,
    );
  }
}

/** Mixin rejected the request with an application error code (10002, 20116, 401, ...). Not retryable. */
export class MixinRequestError extends ConversationError {
  override readonly name = 'MixinRequestError';
  readonly retryable = false;
  readonly code: number;
  /** Mixin's description, at most 256 code points. */
  readonly description: string;
  readonly extra: unknown;
  override readonly attempts: number;

  constructor(code: number, description: string, extra: unknown, attempts: number) {
    // Mixin's text, of any length: cut before it reaches an answer or a log line.
    const short = shortMessage(description);
    super(`Mixin rejected the request: code ${code}${short ? `, ${short}` : ''}`);
    this.code = code;
    this.description = short;
    this.extra = extra;
    this.attempts = attempts;
  }

  /** Mixin refused the bot's credentials: a key to rotate, not data to fix. */
  get credentialsRejected(): boolean {
    return this.code === 401 || this.code === 403;
  }
}

/** The conversation ID asked for already names a conversation of another category (a CONTACT for a group). Not retryable. */
export class ConversationConflictError extends ConversationError {
  override readonly name = 'ConversationConflictError';
  readonly retryable = false;

  constructor(
    readonly requestedCategory: string,
    readonly existingCategory: string,
    conversationId: string,
  ) {
    super(`conversation ${conversationId} already exists as a ${existingCategory}, not a ${requestedCategory}`);
    this.conversationId = conversationId;
  }
}

/**
 * The idempotency key was used before for a different request (IETF draft-ietf-httpapi-idempotency-key-header:
 * refused, never a second resource). `details` names what differs. Not retryable.
 */
export class IdempotencyKeyReusedError extends ConversationError {
  override readonly name = 'IdempotencyKeyReusedError';
  readonly retryable = false;
  readonly details: FieldProblem[];

  constructor(details: FieldProblem[], conversationId: string) {
    super(
      `the idempotency key was already used for a different request: ${details.map((d) => `${d.field} ${d.message}`).join('; ')}`,
    );
    this.details = details;
    this.conversationId = conversationId;
  }
}
