/**
 * Regressions found by the property tests: a caller's envelope mistake (413/415) is not logged as a bug, and
 * unusual keys (digits, empty) are named so that they cannot be mistaken for an index or for the whole body.
 */
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { type Harness, httpEvent, lambdaContext, type LambdaHandler, sqsEvent, startHarness } from './support/harness';

type Http = LambdaHandler<unknown, APIGatewayProxyStructuredResultV2>;
type Queue = LambdaHandler<unknown, SQSBatchResponse>;
let h: Harness;
let groups: Http;
let queue: Queue;
const lines: Record<string, unknown>[] = [];
const user = '0b6dbe2c-5f38-4bc5-9a6a-0d0a9a5f2c11';
const body = { name: 'n', participants: [{ user_id: user }] };

beforeAll(async () => {
  h = await startHarness({ POWERTOOLS_LOG_LEVEL: 'WARN' });
  const capture = (line: unknown) => lines.push(JSON.parse(String(line)) as Record<string, unknown>);
  jest.spyOn(console, 'warn').mockImplementation(capture);
  jest.spyOn(console, 'error').mockImplementation(capture);
  groups = h.load<{ handler: Http }>('../../functions/create-group/http').handler;
  queue = h.load<{ handler: Queue }>('../../functions/create-group/queue').handler;
  await groups(httpEvent(JSON.stringify(body)), lambdaContext()); // warm the keystore
});
beforeEach(() => {
  lines.length = 0;
});
afterAll(async () => {
  jest.restoreAllMocks();
  await h.stop();
});

const details = async (text: string) => {
  const res = await groups(httpEvent(text), lambdaContext());
  return { status: res.statusCode, details: JSON.parse(String(res.body)).error?.details as { field: string }[] };
};

describe('a caller mistake is not logged as a bug', () => {
  it.each([
    ['413', httpEvent(JSON.stringify({ ...body, name: 'x'.repeat(70_000) }))],
    ['415', httpEvent(JSON.stringify(body), { headers: { 'content-type': 'text/plain' } })],
  ])('%s: no ERROR "unhandled error" log line with a stack', async (status, event) => {
    const res = await groups(event, lambdaContext());
    expect(String(res.statusCode)).toBe(status);
    expect(lines.filter((l) => l.level === 'ERROR')).toEqual([]);
  });
});

describe('the field named is the field sent', () => {
  it('a made-up key is cut by code points: 60 emoji (120 UTF-16 units) shown whole, 101 cut to 100 and marked', async () => {
    expect(await details(JSON.stringify({ ...body, ['😀'.repeat(60)]: 1 }))).toEqual({
      status: 400,
      details: [expect.objectContaining({ field: `["${'😀'.repeat(60)}"]` })],
    });
    expect(await details(JSON.stringify({ ...body, ['😀'.repeat(101)]: 1 }))).toEqual({
      status: 400,
      details: [expect.objectContaining({ field: `["${'😀'.repeat(100)}…"]` })],
    });
  });

  it('an unknown top-level key "0" is named "0", not "[0]" (an array index)', async () => {
    expect(await details(JSON.stringify({ ...body, 0: 1 }))).toEqual({
      status: 400,
      details: [expect.objectContaining({ field: '["0"]' })],
    });
  });

  it('an unknown participant key "7" is named participants[0].7, as the duplicate-key check names it', async () => {
    expect(await details(JSON.stringify({ name: 'n', participants: [{ user_id: user, 7: 1 }] }))).toEqual({
      status: 400,
      details: [expect.objectContaining({ field: 'participants[0]["7"]' })],
    });
  });

  it('an unknown empty key "" is not reported as "body" (the whole body)', async () => {
    const res = await details(JSON.stringify({ ...body, '': 1 }));
    expect(res.status).toBe(400);
    expect(res.details.map((d) => d.field)).not.toContain('body');
    expect(res.details.every((d) => d.field.length > 0)).toBe(true);
  });

  it('a duplicated empty key "" is named by a non-empty field (HTTP and queue)', async () => {
    const text = '{"":1,"":2,"name":"n","participants":[{"user_id":"0b6dbe2c-5f38-4bc5-9a6a-0d0a9a5f2c11"}]}';
    const res = await details(text);
    expect(res.status).toBe(400);
    expect(res.details.every((d) => d.field.length > 0)).toBe(true);
    const event = sqsEvent([text]);
    await queue(event, lambdaContext());
    const line = lines.find((l) => l.message === 'record failed');
    expect((line?.details as { field: string }[]).every((d) => d.field.length > 0)).toBe(true);
  });
});
