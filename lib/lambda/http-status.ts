/**
 * How every outcome becomes an HTTP answer: 201 for a conversation, and the one table from error to HTTP status and
 * stable error `code`. The README's "Responses" table and infra/openapi.json are this table.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { CreateResult } from '../conversations';
import {
  ConversationConflictError,
  type FieldProblem,
  HttpRequestError,
  IdempotencyKeyReusedError,
  InvalidRequestError,
  KeystoreError,
  KeystoreUnavailableError,
  MixinRateLimitError,
  MixinRequestError,
  MixinUnavailableError,
} from '../errors';

/** The body of every error answer. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: FieldProblem[];
  mixin_code?: number;
}

/**
 * Every error `code` the HTTP API answers with: its status, when it is answered and whether to retry. The one owner
 * of these texts: the README's "Requests and responses" table and infra/openapi.json are this table, word for word
 * (test/docs.test.ts, test/openapi.test.ts).
 */
export const HTTP_ERRORS = {
  invalid_request: {
    status: 400,
    when: 'bad JSON, a duplicated JSON key, invalid UTF-8, a field or header that breaks the rules; `details` names each field and why',
    retry: 'no: fix the request',
  },
  conversation_conflict: {
    status: 409,
    when: 'the `conversation_id` asked for already names a conversation of another category (a CONTACT for a group)',
    retry: 'no',
  },
  body_too_large: { status: 413, when: 'the body is over 64 KB', retry: 'no' },
  unsupported_media_type: {
    status: 415,
    when: '`Content-Type` is not JSON (`application/json` or `application/*+json`), names a charset other than UTF-8, names `charset` twice or empty, or has parameters that do not parse',
    retry: 'no',
  },
  idempotency_key_reused: {
    status: 422,
    when: 'the `Idempotency-Key` was already used for a different request; `details` names what differs',
    retry: 'no: use a new key',
  },
  mixin_rejected: {
    status: 422,
    when: "Mixin rejected the data (10002 invalid field, 20116 group full, ...); `mixin_code` is Mixin's code",
    retry: 'no',
  },
  mixin_rate_limited: {
    status: 429,
    when: 'Mixin rate-limited the bot: it kept answering 429 within our deadline, or this instance is pausing after a 429 and did not call Mixin (`attempts` 0); `Retry-After` (at most 300 s) says when to try again',
    retry: 'yes, after `Retry-After`',
  },
  keystore_invalid: {
    status: 500,
    when: "the keystore secret is malformed or unreadable and no good key is in hand: a deployment problem, never the caller's",
    retry: 'no',
  },
  internal_error: { status: 500, when: 'a bug: an error that is none of the above', retry: 'no' },
  mixin_credentials_rejected: {
    status: 502,
    when: "Mixin refused the bot's key (401/403) even after re-reading the secret",
    retry: 'no: fix the keystore',
  },
  mixin_bad_response: {
    status: 502,
    when:
      'Mixin kept answering something that is not the conversation asked for (garbage, another conversation, one without a ' +
      'category or, under a key, without a name, an answer over 4 MB, or a 3xx/4xx from something in front of it: a ' +
      'proxy, a WAF, a wrong `MIXIN_API_URL`)',
    retry: 'yes',
  },
  mixin_unavailable: {
    status: 503,
    when: 'Mixin failing or unreachable after retries (`Retry-After: 1`)',
    retry: 'yes, same `Idempotency-Key`',
  },
  keystore_unavailable: {
    status: 503,
    when: 'Secrets Manager failing or unreachable (`Retry-After: 1`)',
    retry: 'yes, same `Idempotency-Key`',
  },
  mixin_timeout: {
    status: 504,
    when: "Mixin did not answer before our deadline (we answer before the Lambda's own timeout)",
    retry: 'yes, same `Idempotency-Key`',
  },
  deadline_exceeded: {
    status: 504,
    when: 'our own time ran out before Mixin could be asked',
    retry: 'yes, same `Idempotency-Key`',
  },
} as const satisfies Record<string, { status: number; when: string; retry: string }>;

export type ErrorCode = keyof typeof HTTP_ERRORS;

const json = (
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

const failure = (error: ErrorBody, headers?: Record<string, string>) =>
  json(HTTP_ERRORS[error.code].status, { error }, headers);

const mixinUnavailable = (error: MixinUnavailableError): APIGatewayProxyStructuredResultV2 => {
  if (error.reason === 'bad-response')
    return failure({
      code: 'mixin_bad_response',
      message: 'Mixin answered with something that is not a Mixin response',
    });
  if (error.reason === 'deadline' && error.attempts === 0)
    return failure({
      code: 'deadline_exceeded',
      message: 'the function ran out of time before Mixin was asked; retry with the same Idempotency-Key',
    });
  if (error.reason === 'deadline' || error.reason === 'timeout')
    return failure({
      code: 'mixin_timeout',
      message: 'Mixin did not answer in time; retry with the same Idempotency-Key',
    });
  return failure(
    { code: 'mixin_unavailable', message: 'Mixin is unavailable; retry with the same Idempotency-Key' },
    { 'retry-after': '1' },
  );
};

/** The one table from error to HTTP answer. Never leaks a message we did not write. */
export const httpErrorResponse = (error: unknown): APIGatewayProxyStructuredResultV2 => {
  if (error instanceof HttpRequestError) return failure({ code: error.code, message: error.message });
  if (error instanceof InvalidRequestError)
    return failure({ code: 'invalid_request', message: 'the request is invalid: see details', details: error.details });
  if (error instanceof IdempotencyKeyReusedError) {
    return failure({
      code: 'idempotency_key_reused',
      message: 'this Idempotency-Key was already used for a different request: use a new key',
      details: error.details,
    });
  }
  if (error instanceof ConversationConflictError)
    return failure({ code: 'conversation_conflict', message: error.message });
  if (error instanceof MixinRequestError) {
    if (error.credentialsRejected) {
      return failure({
        code: 'mixin_credentials_rejected',
        message: `Mixin refused the bot's credentials (code ${error.code})`,
        mixin_code: error.code,
      });
    }
    return failure({
      code: 'mixin_rejected',
      message: `Mixin rejected the request: ${error.description || `code ${error.code}`}`,
      mixin_code: error.code,
    });
  }
  if (error instanceof MixinRateLimitError) {
    return failure(
      { code: 'mixin_rate_limited', message: 'Mixin is rate-limiting the bot; retry later' },
      { 'retry-after': String(error.retryAfterSeconds) },
    );
  }
  if (error instanceof MixinUnavailableError) return mixinUnavailable(error);
  if (error instanceof KeystoreUnavailableError)
    return failure(
      { code: 'keystore_unavailable', message: 'the bot keystore could not be read right now; retry' },
      { 'retry-after': '1' },
    );
  if (error instanceof KeystoreError)
    return failure({ code: 'keystore_invalid', message: 'the service is misconfigured: the bot keystore is unusable' });
  return failure({ code: 'internal_error', message: 'internal error' });
};

/** 201 with Mixin's conversation object under `data`, keys as Mixin sends them. */
export const created = (result: CreateResult): APIGatewayProxyStructuredResultV2 =>
  json(201, { data: result.conversation });
