/**
 * Issue "What an outside pass found", item 4 and the test-strength list, through the real handlers in this process
 * against the sandbox: a 2xx is the conversation asked for only with its ID, a string category and, under a key, a
 * string name; what is not Mixin speaking (a proxy's page, an envelope without a description, a Retry-After that is
 * not a number of seconds, our own deadline) gets the answer the contract names.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { groupIdForKey, uniqueConversationId } from '../lib/conversation-id';
import {
  captureConsole,
  type Harness,
  httpEvent,
  lambdaContext,
  type LambdaHandler,
  sqsEvent,
  startHarness,
} from './support/harness';

type Http = LambdaHandler<unknown, APIGatewayProxyStructuredResultV2>;
type Task = LambdaHandler<unknown, Record<string, unknown>>;
let h: Harness;
let groups: Http;
let groupTask: Task;
let logs: string[];

beforeAll(async () => {
  logs = captureConsole();
  h = await startHarness({ MIXIN_MAX_ATTEMPTS: '2', POWERTOOLS_LOG_LEVEL: 'WARN' });
  groups = h.load<{ handler: Http }>('../../functions/create-group/http').handler;
  groupTask = h.load<{ handler: Task }>('../../functions/create-group/workflow').handler;
});
afterAll(async () => {
  await h.stop();
  jest.restoreAllMocks();
});
beforeEach(() => {
  h.sandbox.reset();
  logs.length = 0;
});

const call = async (body: unknown, headers: Record<string, string> = {}, remainingMs = 10_000) => {
  const res = await groups(httpEvent(JSON.stringify(body), { headers }), lambdaContext(remainingMs));
  return {
    status: res.statusCode,
    headers: res.headers ?? {},
    body: JSON.parse(String(res.body)) as { error?: { code: string; message: string; mixin_code?: number } },
  };
};
const taskError = (input: unknown, remainingMs = 10_000) =>
  groupTask(input, lambdaContext(remainingMs)).then(
    () => undefined,
    (e: Error & Record<string, unknown>) => e,
  );
const group = (extra: Record<string, unknown> = {}) => ({
  name: 'Answer room',
  participants: [{ user_id: randomUUID() }],
  ...extra,
});
/** A 2xx answer Mixin could send: the conversation with only the given fields. */
const answer = (data: Record<string, unknown>) => ({
  kind: 'http-status' as const,
  status: 201,
  body: JSON.stringify({ data }),
});

describe('a 2xx is the conversation asked for only when it says so', () => {
  it.each([
    ['no category', {}],
    ['a category that is not a string', { category: 5 }],
  ])(
    '%s, for an ID given in the body: a bad response retried, then 502 mixin_bad_response (not a conflict)',
    async (_label, fields) => {
      const id = randomUUID();
      h.sandbox.inject({ ...answer({ conversation_id: id, name: 'Answer room', ...fields }), count: 4 });
      const res = await call(group({ conversation_id: id }));
      expect(res).toMatchObject({ status: 502, body: { error: { code: 'mixin_bad_response' } } });
      expect(h.sandbox.postCount).toBe(2); // MIXIN_MAX_ATTEMPTS: retried like any bad response
      const task = await taskError(group({ conversation_id: id }));
      expect(task).toMatchObject({
        name: 'MixinUnavailableError',
        reason: 'bad-response',
        retryable: true,
        message: `Mixin answered conversation ${id} without a category (after 2 attempt(s))`,
      });
    },
  );

  it('the attempt log and the error say what was wrong: no ID, another ID', async () => {
    const id = randomUUID();
    const other = randomUUID();
    h.sandbox.inject({ ...answer({ category: 'GROUP', name: 'Answer room' }), count: 1 });
    h.sandbox.inject({ ...answer({ conversation_id: other, category: 'GROUP', name: 'Answer room' }), count: 1 });
    expect(await taskError(group({ conversation_id: id }))).toMatchObject({
      message: `Mixin answered conversation ${other} for ${id} (after 2 attempt(s))`,
    });
    expect(logs.join('\n')).toContain('Mixin attempt failed');
    h.sandbox.inject({ ...answer({ category: 'GROUP', name: 'Answer room' }), count: 2 });
    expect(await taskError(group({ conversation_id: id }))).toMatchObject({
      message: 'Mixin answered a conversation without conversation_id (after 2 attempt(s))',
    });
  });

  it('a contact is not keyed: its answer needs no name', async () => {
    const contacts = h.load<{ handler: Http }>('../../functions/create-contact/http').handler;
    const user = randomUUID();
    h.sandbox.inject({
      ...answer({ conversation_id: uniqueConversationId(h.bot.keystore.appId, user), category: 'CONTACT' }),
      count: 1,
    });
    const res = await contacts(
      httpEvent(JSON.stringify({ participants: [{ user_id: user }] }), { path: '/contacts' }),
      lambdaContext(),
    );
    expect(res.statusCode).toBe(201);
    expect(h.sandbox.postCount).toBe(1);
  });

  it.each([
    ['its conversation_id', (id: string) => ({ conversation_id: id })],
    ['its random_id', (_id: string) => ({ random_id: randomUUID() })],
  ])("a group whose ID is not the key's (%s given) is not keyed: its answer needs no name", async (_label, fields) => {
    const body = group(fields(randomUUID()));
    // An Idempotency-Key too: the ID in the body, not the header, decides what the answer must show.
    const headers = { 'idempotency-key': `answer-${randomUUID()}` };
    // The ID the request will carry: the one given, or the one derived from random_id.
    const sent = await call(body, headers);
    expect(sent.status).toBe(201);
    const id = (JSON.parse(h.sandbox.requests.at(-1)!.body) as { conversation_id: string }).conversation_id;
    h.sandbox.reset();
    h.sandbox.inject({ ...answer({ conversation_id: id, category: 'GROUP' }), count: 1 });
    expect((await call(body, headers)).status).toBe(201);
    expect(h.sandbox.postCount).toBe(1);
  });

  it('under a key, a group without a string name: a bad response retried, then 502 (not idempotency_key_reused)', async () => {
    const key = `answer-${randomUUID()}`;
    const id = groupIdForKey(h.bot.keystore.appId, key);
    h.sandbox.inject({ ...answer({ conversation_id: id, category: 'GROUP' }), count: 2 });
    const res = await call(group(), { 'idempotency-key': key });
    expect(res).toMatchObject({ status: 502, body: { error: { code: 'mixin_bad_response' } } });
    expect(h.sandbox.postCount).toBe(2);
    h.sandbox.inject(answer({ conversation_id: id, category: 'GROUP', name: null }));
    expect(await taskError({ ...group(), idempotency_key: key })).toMatchObject({
      name: 'MixinUnavailableError',
      reason: 'bad-response',
      message: `Mixin answered group ${id} without a name (after 2 attempt(s))`,
    });
  });

  it('on a queue, such a record fails as retryable (redelivered), never as a permanent error bound for the DLQ', async () => {
    const queue = h.load<{ handler: LambdaHandler<unknown, { batchItemFailures: unknown[] }> }>(
      '../../functions/create-group/queue',
    ).handler;
    const id = randomUUID();
    h.sandbox.inject({ ...answer({ conversation_id: id, name: 'Answer room' }), count: 2 });
    const event = sqsEvent([JSON.stringify(group({ conversation_id: id }))]);
    expect(await queue(event, lambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }],
    });
    const failed = logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.message === 'record failed');
    expect(failed).toEqual([
      expect.objectContaining({ error_name: 'MixinUnavailableError', retryable: true, attempts: 2 }),
    ]);
  });

  it('a missing category that clears on the retry ends with the group this request created', async () => {
    const key = `answer-${randomUUID()}`;
    const id = groupIdForKey(h.bot.keystore.appId, key);
    h.sandbox.inject({ ...answer({ conversation_id: id, name: 'Answer room' }), count: 1 });
    const res = await call(group(), { 'idempotency-key': key });
    expect(res).toMatchObject({ status: 201, body: { data: { conversation_id: id, category: 'GROUP' } } });
  });

  it('only a present and different category is a conflict; a different name under a key is still a reused key', async () => {
    const id = randomUUID();
    h.sandbox.inject({ ...answer({ conversation_id: id, category: 'CONTACT', name: '' }), count: 1 });
    const conflict = await call(group({ conversation_id: id }));
    expect(conflict).toMatchObject({
      status: 409,
      body: {
        error: { code: 'conversation_conflict', message: expect.stringContaining('already exists as a CONTACT') },
      },
    });
    expect(h.sandbox.postCount).toBe(1);
    const key = `answer-${randomUUID()}`;
    h.sandbox.inject(
      answer({ conversation_id: groupIdForKey(h.bot.keystore.appId, key), category: 'GROUP', name: 'Another room' }),
    );
    expect(await call(group(), { 'idempotency-key': key })).toMatchObject({
      status: 422,
      body: {
        error: {
          code: 'idempotency_key_reused',
          message: 'this Idempotency-Key was already used for a different request: use a new key',
          details: [{ field: 'name', message: 'differs from the name of the group this key created' }],
        },
      },
    });
  });
});

describe('what is not Mixin speaking, in this process', () => {
  it.each([
    ["a proxy's HTML 403", 403, '<html><body><h1>403 Forbidden</h1></body></html>'],
    ['a redirect', 302, ''],
    ["a WAF's JSON 401 without the envelope", 401, '{"message":"Unauthorized"}'],
  ])(
    '%s: a bad response, retried, 502 mixin_bad_response; the keystore is not read again',
    async (_label, status, body) => {
      await call(group()); // warm: the keystore is in hand
      h.sandbox.reset();
      const reads = h.secrets.count();
      h.sandbox.inject({ kind: 'http-status', status, body });
      const res = await call(group());
      expect(res).toMatchObject({ status: 502, body: { error: { code: 'mixin_bad_response' } } });
      expect(h.sandbox.postCount).toBe(2);
      expect(h.secrets.count()).toBe(reads);
      expect(await taskError(group())).toMatchObject({
        name: 'MixinUnavailableError',
        reason: 'bad-response',
        attempts: 2,
      });
    },
  );

  it('an error envelope without a description: 422 mixin_rejected naming the code, one attempt', async () => {
    h.sandbox.inject({
      kind: 'http-status',
      status: 202,
      body: JSON.stringify({ error: { status: 202, code: 10002 } }),
    });
    const res = await call(group());
    expect(res).toEqual({
      status: 422,
      headers: { 'content-type': 'application/json' },
      body: { error: { code: 'mixin_rejected', message: 'Mixin rejected the request: code 10002', mixin_code: 10002 } },
    });
    expect(h.sandbox.postCount).toBe(1);
    expect(await taskError(group())).toMatchObject({
      name: 'MixinRequestError',
      code: 10002,
      description: '',
      message: 'Mixin rejected the request: code 10002',
    });
  });

  it("Mixin's description is cut at 256 code points in the HTTP message, the error and the logs", async () => {
    const description = `${'a'.repeat(255)}😀${'b'.repeat(5_000)}`;
    const cut = `${'a'.repeat(255)}😀`;
    h.sandbox.inject({ kind: 'error', code: 10002, description });
    const res = await call(group());
    expect(res).toMatchObject({
      status: 422,
      body: { error: { code: 'mixin_rejected', message: `Mixin rejected the request: ${cut}` } },
    });
    expect(logs.join('\n')).toContain(cut);
    expect(logs.join('\n')).not.toContain(`${cut}b`);
    const task = await taskError(group());
    expect(task).toMatchObject({
      name: 'MixinRequestError',
      description: cut,
      message: `Mixin rejected the request: code 10002, ${cut}`,
    });
  });

  it('our deadline cutting off an attempt that reached Mixin: 504 mixin_timeout, not 503', async () => {
    await call(group()); // warm: the keystore is in hand
    h.sandbox.reset();
    h.sandbox.inject({ kind: 'hang' });
    // DEADLINE_MARGIN_MS 500 leaves 250 ms: less than the 300 ms attempt timeout, so the deadline cuts the attempt.
    const res = await call(group(), {}, 750);
    expect(res).toEqual({
      status: 504,
      headers: { 'content-type': 'application/json' },
      body: {
        error: { code: 'mixin_timeout', message: 'Mixin did not answer in time; retry with the same Idempotency-Key' },
      },
    });
    expect(h.sandbox.postCount).toBe(1);
    expect(await taskError(group(), 750)).toMatchObject({
      name: 'MixinUnavailableError',
      reason: 'deadline',
      attempts: 1,
    });
  });

  it.each(['5x', 'x5', '1.5', '-1'])(
    "Retry-After %p is ignored: our own pacing, and the rate limiter's wait on the answer",
    async (retryAfter) => {
      h.sandbox.inject({ kind: 'http-status', status: 429, retryAfter });
      // A fresh instance: the 429s of the case before paused the last one's rate limiter.
      groups = h.load<{ handler: Http }>('../../functions/create-group/http').handler;
      const started = Date.now();
      const res = await call(group());
      expect(Date.now() - started).toBeLessThan(1_000); // the limiter's short pause between the two attempts, not 1.5 s or 5 s
      expect(res).toMatchObject({ status: 429, body: { error: { code: 'mixin_rate_limited' } } });
      // Whole seconds from the limiter (at least 1), never the junk nor 5 s read out of it.
      expect(res.headers['retry-after']).toMatch(/^[12]$/);
      expect(h.sandbox.postCount).toBe(2);
    },
  );
});
