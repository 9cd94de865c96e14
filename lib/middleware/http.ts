import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { CreateResult } from '../conversations';
import { parseJsonBody } from '../json';
import { InvalidRequestError, KeystoreError, KeystoreUnavailableError, MixinRateLimitError, MixinRequestError, MixinUnavailableError } from '../errors';

/** An API Gateway HTTP API (payload 2.0) event whose body has been parsed as JSON. */
export type JsonHttpEvent = Omit<APIGatewayProxyEventV2, 'body'> & { body: unknown };

/** A failure of the HTTP envelope itself (media type, size), before any field is looked at. */
export class HttpRequestError extends Error {
  override readonly name = 'HttpRequestError';
  readonly retryable = false;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface HttpJsonBodyOptions {
  /** Largest accepted body in bytes. */
  maxBytes: number;
}

const defaults: HttpJsonBodyOptions = { maxBytes: 64 * 1024 };
const JSON_MEDIA_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Checks media type and size, decodes (base64 and strict UTF-8) and parses the JSON body. */
export const httpJsonBody = (opts: Partial<HttpJsonBodyOptions> = {}): middy.MiddlewareObj<JsonHttpEvent, unknown, Error, Context> => {
  const options = { ...defaults, ...opts };
  const httpJsonBodyBefore: middy.MiddlewareFn<JsonHttpEvent, unknown, Error, Context> = (request) => {
    const { event } = request;
    const contentType = event.headers?.['content-type'] ?? '';
    if (!JSON_MEDIA_TYPE.test(contentType)) {
      throw new HttpRequestError(415, 'unsupported_media_type', `Content-Type must be application/json, got "${contentType.slice(0, 100)}"`);
    }
    if (typeof event.body !== 'string' || event.body.length === 0) throw InvalidRequestError.field('body', 'is required: send a JSON object');
    const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
    if (bytes.length > options.maxBytes) throw new HttpRequestError(413, 'body_too_large', `the body is ${bytes.length} bytes; at most ${options.maxBytes} are accepted`);
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw InvalidRequestError.field('body', 'is not valid UTF-8');
    }
    event.body = parseJsonBody(text);
  };
  return { before: httpJsonBodyBefore };
};

type ErrorBody = { code: string; message: string; details?: unknown[]; mixin_code?: number };

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

const failure = (status: number, error: ErrorBody, headers?: Record<string, string>) => json(status, { error }, headers);

/** The one table from error to HTTP status and stable error code. */
export const httpErrorResponse = (error: unknown): APIGatewayProxyStructuredResultV2 => {
  if (error instanceof HttpRequestError) return failure(error.status, { code: error.code, message: error.message });
  if (error instanceof InvalidRequestError) {
    return failure(400, { code: 'invalid_request', message: 'the request is invalid: see details', details: error.details });
  }
  if (error instanceof MixinRequestError) {
    if (error.code === 401 || error.code === 403) {
      return failure(502, { code: 'mixin_credentials_rejected', message: `Mixin refused the bot's credentials (code ${error.code})`, mixin_code: error.code });
    }
    return failure(422, { code: 'mixin_rejected', message: `Mixin rejected the request: ${error.description || `code ${error.code}`}`, mixin_code: error.code });
  }
  if (error instanceof MixinRateLimitError) {
    return failure(429, { code: 'mixin_rate_limited', message: 'Mixin is rate-limiting the bot; retry later' }, { 'retry-after': String(error.retryAfterSeconds) });
  }
  if (error instanceof MixinUnavailableError) {
    if (error.reason === 'bad-response') return failure(502, { code: 'mixin_bad_response', message: 'Mixin answered with something that is not a Mixin response' });
    if (error.reason === 'deadline' || error.reason === 'timeout') return failure(504, { code: 'mixin_timeout', message: 'Mixin did not answer in time; retry with the same Idempotency-Key' });
    return failure(503, { code: 'mixin_unavailable', message: 'Mixin is unavailable; retry with the same Idempotency-Key' }, { 'retry-after': '1' });
  }
  if (error instanceof KeystoreUnavailableError) return failure(503, { code: 'keystore_unavailable', message: 'the bot keystore could not be read right now; retry' }, { 'retry-after': '1' });
  if (error instanceof KeystoreError) return failure(500, { code: 'keystore_invalid', message: 'the service is misconfigured: the bot keystore is unusable' });
  if ((error as Error | undefined)?.name === 'TimeoutError') return failure(504, { code: 'deadline_exceeded', message: 'the function ran out of time; retry with the same Idempotency-Key' });
  return failure(500, { code: 'internal_error', message: 'internal error' });
};

/** Maps every error to its HTTP answer (see {@link httpErrorResponse}); never leaks a message we did not write. */
export const httpErrors = (): middy.MiddlewareObj<unknown, APIGatewayProxyStructuredResultV2, Error, Context> => ({
  onError: (request) => {
    request.response = httpErrorResponse(request.error);
  },
});

/** 201 with Mixin's conversation object under `data`, keys as Mixin sends them. */
export const created = (result: CreateResult): APIGatewayProxyStructuredResultV2 => json(201, { data: result.conversation });

/** A request header by (case-insensitive) name; API Gateway v2 lower-cases them already. */
export const header = (event: { headers?: Record<string, string | undefined> }, name: string): string | undefined => event.headers?.[name.toLowerCase()];

/** The `Idempotency-Key` header, checked: 1 to 256 characters when present. */
export const idempotencyKey = (event: { headers?: Record<string, string | undefined> }): string | undefined => {
  const key = header(event, 'idempotency-key');
  if (key === undefined) return undefined;
  if (key.length === 0 || key.length > 256) throw InvalidRequestError.field('Idempotency-Key', 'must be 1 to 256 characters');
  return key;
};
