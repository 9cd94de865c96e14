import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { HttpRequestError, InvalidRequestError } from '../../errors';
import { parseJsonBody } from '../../json';
import { shortMessage } from '../../text';
import { header, parseMediaType } from '../http-headers';

/** An API Gateway HTTP API (payload 2.0) event whose body has been parsed as JSON. */
export type JsonHttpEvent = Omit<APIGatewayProxyEventV2, 'body'> & { body: unknown };

export interface HttpJsonBodyOptions {
  /** Largest accepted body in bytes. */
  maxBytes: number;
}

const defaults: HttpJsonBodyOptions = { maxBytes: 64 * 1024 };
/** `application/json` or any `application/<something>+json`, with optional parameters. */
const JSON_MEDIA_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const unsupported = (message: string) => new HttpRequestError(415, 'unsupported_media_type', message);

/**
 * 415 unless the media type is JSON and its parameters parse (RFC 9110), with at most one `charset`, and that one
 * UTF-8: a charset named twice says two things about the same bytes, and one hidden in another parameter is none.
 */
const checkMediaType = (contentType: string): void => {
  const shown = shortMessage(contentType, 100);
  const media = parseMediaType(contentType);
  if (!JSON_MEDIA_TYPE.test(contentType)) throw unsupported(`Content-Type must be application/json, got "${shown}"`);
  if (!media) throw unsupported(`Content-Type has a malformed parameter list: "${shown}"`);
  const charsets = media.parameters.filter(([name]) => name === 'charset').map(([, value]) => value);
  if (charsets.length > 1) throw unsupported(`Content-Type names charset more than once: "${shown}"`);
  const charset = charsets[0];
  if (charset === '') throw unsupported('Content-Type names an empty charset');
  if (charset !== undefined && !/^utf-?8$/i.test(charset))
    throw unsupported(`the body must be UTF-8; Content-Type names charset "${shortMessage(charset, 40)}"`);
};

/** Checks media type and size, decodes (base64 and strict UTF-8, a leading BOM dropped) and parses the JSON body. */
export const httpJsonBody = (
  opts: Partial<HttpJsonBodyOptions> = {},
): middy.MiddlewareObj<JsonHttpEvent, unknown, Error, Context> => {
  const options = { ...defaults, ...opts };
  const httpJsonBodyBefore: middy.MiddlewareFn<JsonHttpEvent, unknown, Error, Context> = (request) => {
    const { event } = request;
    checkMediaType(header(event, 'content-type') ?? '');
    if (typeof event.body !== 'string' || event.body.length === 0)
      throw InvalidRequestError.field('body', 'is required: send a JSON object');
    const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
    if (bytes.length > options.maxBytes)
      throw new HttpRequestError(
        413,
        'body_too_large',
        `the body is ${bytes.length} bytes; at most ${options.maxBytes} are accepted`,
      );
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
