/**
 * The public error names. Workflows Retry/Catch on `name`, HTTP maps them to statuses, queues decide
 * redelivery on `retryable`: treat every `name` here as part of the contract.
 */

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

/** The bot keystore is missing, malformed or unusable. Names the field, never its value. */
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

/** Where a {@link MixinUnavailableError} came from. */
export type UnavailableReason = 'server-error' | 'network' | 'timeout' | 'deadline' | 'bad-response';

/** Mixin kept answering "too many requests" after our retries. Retryable later. */
export class MixinRateLimitError extends ConversationError {
  override readonly name = 'MixinRateLimitError';
  readonly retryable = true;
  readonly attempts: number;
  /** Seconds a caller should wait before trying again. */
  readonly retryAfterSeconds: number;

  constructor(attempts: number, retryAfterSeconds: number) {
    super(`Mixin rate-limited the request (code 429) after ${attempts} attempt(s)`);
    this.attempts = attempts;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Mixin could not be reached or answered with a server error, garbage or too late. Retryable. */
export class MixinUnavailableError extends ConversationError {
  override readonly name = 'MixinUnavailableError';
  readonly retryable = true;
  readonly reason: UnavailableReason;
  readonly attempts: number;

  constructor(reason: UnavailableReason, message: string, attempts: number) {
    super(`${message} (after ${attempts} attempt(s))`);
    this.reason = reason;
    this.attempts = attempts;
  }
}

/** Mixin rejected the request with an application error code (10002, 20116, 401, ...). Not retryable. */
export class MixinRequestError extends ConversationError {
  override readonly name = 'MixinRequestError';
  readonly retryable = false;
  readonly code: number;
  readonly description: string;
  readonly extra: unknown;
  readonly attempts: number;

  constructor(code: number, description: string, extra: unknown, attempts: number) {
    super(`Mixin rejected the request: code ${code}${description ? `, ${description}` : ''}`);
    this.code = code;
    this.description = description;
    this.extra = extra;
    this.attempts = attempts;
  }
}
