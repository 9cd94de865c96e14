/**
 * `Content-Type` is read as RFC 9110 writes it (issue "What an outside pass found", item 9): a media type, then
 * `; name=value` parameters (a token or a quoted string). The body is taken only as JSON in UTF-8: a charset named
 * twice, empty or other than UTF-8, or a parameter list that does not parse, is 415 before Mixin is asked.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type Harness, httpEvent, lambdaContext, type LambdaHandler, startHarness } from './support/harness';

type Http = LambdaHandler<unknown, APIGatewayProxyStructuredResultV2>;
let h: Harness;
let groups: Http;

beforeAll(async () => {
  h = await startHarness();
  groups = h.load<{ handler: Http }>('../../functions/create-group/http').handler;
});
afterAll(() => h.stop());
beforeEach(() => h.sandbox.reset());

const send = async (contentType: string) => {
  const body = JSON.stringify({ name: 'Media room', participants: [{ user_id: randomUUID() }] });
  const res = await groups(httpEvent(body, { headers: { 'content-type': contentType } }), lambdaContext());
  return {
    status: res.statusCode,
    body: JSON.parse(String(res.body)) as { error?: { code: string; message: string } },
  };
};

describe('Content-Type parameters', () => {
  it.each([
    ['a conflicting charset', 'application/json; charset=utf-8; charset=latin1', 'names charset more than once'],
    [
      'a conflicting charset, UTF-8 last',
      'application/json; charset=latin1; charset=utf-8',
      'names charset more than once',
    ],
    [
      'a repeated charset, even the same',
      'application/json; charset=utf-8; CHARSET="UTF-8"',
      'names charset more than once',
    ],
    ['an empty charset', 'application/json; charset=', 'malformed'],
    ['an empty quoted charset', 'application/json; charset=""', 'names an empty charset'],
    ['a parameter without a value', 'application/json; charset', 'malformed'],
    ['a parameter without a name', 'application/json; =utf-8', 'malformed'],
    ['an unterminated quoted string', 'application/json; charset="utf-8', 'malformed'],
    ['a value with a space', 'application/json; charset=utf 8', 'malformed'],
    ['text after a quoted value', 'application/json; charset="utf-8"x', 'malformed'],
    ['parameters without a semicolon', 'application/json charset=utf-8', 'must be application/json'],
    [
      'a charset hidden in another parameter',
      'application/json; foo="; charset=utf-8"; charset=latin1',
      'names charset "latin1"',
    ],
  ])('415 for %s: %p', async (_label, contentType, says) => {
    const res = await send(contentType);
    expect(res).toMatchObject({
      status: 415,
      body: { error: { code: 'unsupported_media_type', message: expect.stringContaining(says) } },
    });
    expect(h.sandbox.postCount).toBe(0);
  });

  it.each([
    'application/json',
    'application/json;',
    'application/json ; charset="UTF-8"',
    'APPLICATION/JSON;charset=utf8',
    'application/json; foo=bar; charset=utf-8',
    'application/json; foo="a \\"quoted\\"; value"; charset=utf-8',
    'application/merge-patch+json;charset=utf-8',
    'application/json; charset="utf\\-8"',
  ])('201 for %p', async (contentType) => {
    expect((await send(contentType)).status).toBe(201);
  });
});
