/**
 * Issue "Never stuck on a bad secret, never the wrong conversation, and Stripe-grade Idempotency-Key", parts 2 to 4,
 * through the real handlers against the sandbox: every success is the conversation asked for, the same key always
 * addresses the same group and refuses a different request, and the smaller holes found from outside.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { groupIdForKey, uniqueConversationId } from '../lib/conversation-id';
import { loadConfig } from '../lib/config';
import { type Harness, httpEvent, lambdaContext, type LambdaHandler, sqsEvent, startHarness } from './support/harness';

type Http = LambdaHandler<unknown, APIGatewayProxyStructuredResultV2>;
type Queue = LambdaHandler<unknown, SQSBatchResponse>;
type Task = LambdaHandler<unknown, Record<string, unknown>>;
let h: Harness;
let groups: Http;
let contacts: Http;
let groupQueue: Queue;
let groupTask: Task;

beforeAll(async () => {
  h = await startHarness({ MIXIN_MAX_ATTEMPTS: '2' });
  groups = h.load<{ handler: Http }>('../../functions/create-group/http').handler;
  contacts = h.load<{ handler: Http }>('../../functions/create-contact/http').handler;
  groupQueue = h.load<{ handler: Queue }>('../../functions/create-group/queue').handler;
  groupTask = h.load<{ handler: Task }>('../../functions/create-group/workflow').handler;
});
afterAll(() => h.stop());
beforeEach(() => h.sandbox.reset());
afterEach(() => {
  // An instance paused by a test's 429s would refuse the next test's call at once: the next test gets fresh ones.
  if (!h.sandbox.requests.some((r) => r.outcome.includes('429'))) return;
  groups = h.load<{ handler: Http }>('../../functions/create-group/http').handler;
  groupQueue = h.load<{ handler: Queue }>('../../functions/create-group/queue').handler;
  groupTask = h.load<{ handler: Task }>('../../functions/create-group/workflow').handler;
});

const call = async (fn: Http, body: unknown, headers: Record<string, string> = {}, remainingMs = 10_000) => {
  const res = await fn(
    httpEvent(typeof body === 'string' ? body : JSON.stringify(body), { headers }),
    lambdaContext(remainingMs),
  );
  return { status: res.statusCode, headers: res.headers ?? {}, body: JSON.parse(String(res.body)) };
};
const group = (name = 'Rules room', users = [randomUUID()]) => ({
  name,
  participants: users.map((user_id) => ({ user_id })),
});
const taskError = (input: unknown, remainingMs = 10_000) =>
  groupTask(input, lambdaContext(remainingMs)).then(
    () => undefined,
    (e: Error & Record<string, unknown>) => e,
  );

describe('every success is the conversation asked for', () => {
  it('a group whose conversation_id names an existing CONTACT: 409 conversation_conflict over HTTP, ConversationConflictError in a workflow', async () => {
    const user = randomUUID();
    expect((await call(contacts, { participants: [{ user_id: user }] })).status).toBe(201);
    const contactId = uniqueConversationId(h.bot.keystore.appId, user);
    const clash = { name: 'Clash', conversation_id: contactId, participants: [{ user_id: user }] };
    const res = await call(groups, clash);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conversation_conflict');
    expect(res.body.error.message).toContain('CONTACT');
    expect(await taskError(clash)).toMatchObject({ name: 'ConversationConflictError', retryable: false });
  });

  it.each([
    [
      'another conversation',
      () =>
        JSON.stringify({
          data: { type: 'conversation', conversation_id: randomUUID(), category: 'GROUP', name: 'Rules room' },
        }),
    ],
    ['an empty object', () => JSON.stringify({ data: {} })],
  ])('a 2xx carrying %s is a bad response, retried within the budget: 502 mixin_bad_response', async (_label, body) => {
    h.sandbox.inject({ kind: 'http-status', status: 200, body: body() });
    const res = await call(groups, group(), { 'idempotency-key': randomUUID() });
    expect(res).toMatchObject({ status: 502, body: { error: { code: 'mixin_bad_response' } } });
    expect(h.sandbox.postCount).toBe(2); // MIXIN_MAX_ATTEMPTS
  });

  it('a wrong answer that clears on retry still ends with the right group', async () => {
    h.sandbox.inject({ kind: 'http-status', status: 200, body: JSON.stringify({ data: {} }), count: 1 });
    const res = await call(groups, group(), { 'idempotency-key': 'retry-wrong-answer' });
    expect(res.status).toBe(201);
    expect(res.body.data.conversation_id).toBe(groupIdForKey(h.bot.keystore.appId, 'retry-wrong-answer'));
  });
});

describe('Idempotency-Key: the same key always addresses the same group, and refuses a different request', () => {
  it('addresses the group by bot and key alone, sent without random_id', async () => {
    const res = await call(groups, group(), { 'idempotency-key': 'order-100' });
    expect(res.body.data.conversation_id).toBe(groupIdForKey(h.bot.keystore.appId, 'order-100'));
    const sent = JSON.parse(h.sandbox.requests[0]!.body);
    expect(sent.random_id).toBeUndefined();
    expect(sent.conversation_id).toBe(groupIdForKey(h.bot.keystore.appId, 'order-100'));
  });

  it('a changed name is refused with 422 idempotency_key_reused naming the field, and never creates a second group', async () => {
    const users = [randomUUID()];
    expect((await call(groups, group('First name', users), { 'idempotency-key': 'order-101' })).status).toBe(201);
    const res = await call(groups, group('Second name', users), { 'idempotency-key': 'order-101' });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'idempotency_key_reused', details: [{ field: 'name' }] });
    // A key is the same key on every trigger: a workflow reusing it for another name is refused too.
    expect(await taskError({ ...group('Third name', users), idempotency_key: 'order-101' })).toMatchObject({
      name: 'IdempotencyKeyReusedError',
      retryable: false,
    });
    expect(await taskError({ ...group('First name', users), idempotency_key: 'order-101' })).toBeUndefined();
    expect(h.sandbox.created).toBe(1);
  });

  it('a plain retry of the same body succeeds with the same group even after members left or joined', async () => {
    const users = [randomUUID(), randomUUID()];
    const first = await call(groups, group('Stable', users), { 'idempotency-key': 'order-103' });
    const stored = h.sandbox.conversations.get(first.body.data.conversation_id)!;
    const participants = stored.data.participants as { user_id: string }[];
    stored.data.participants = [
      ...participants.filter((p) => p.user_id !== users[0]),
      { user_id: randomUUID(), role: '' },
    ];
    const again = await call(groups, group('Stable', users), { 'idempotency-key': 'order-103' });
    expect(again.status).toBe(201);
    expect(again.body.data.conversation_id).toBe(first.body.data.conversation_id);
    // An extra member in the body is the same key's group too (participants change over a group's life).
    expect(
      (await call(groups, group('Stable', [...users, randomUUID()]), { 'idempotency-key': 'order-103' })).status,
    ).toBe(201);
    expect(h.sandbox.created).toBe(1);
  });

  it.each([
    ['an unpaired surrogate (Mixin would store U+FFFD)', 'a\ud800b'],
    ['a NUL', 'a\u0000b'],
    ['only white space', '   '],
    ['a line break', 'two\nlines'],
    ['nothing visible but a zero-width space', '\u200b'],
    ['nothing but a combining mark', '\u0301'],
    ['nothing but a blank filler', '\u3164'],
  ])('refuses a name with %s before Mixin is asked: it could never match its key', async (_label, name) => {
    const res = await call(groups, group(name), { 'idempotency-key': randomUUID() });
    expect(res).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'invalid_request',
          details: [
            { field: 'name', message: 'must have a visible character, and no control character or unpaired surrogate' },
          ],
        },
      },
    });
    expect(h.sandbox.postCount).toBe(0);
  });

  it('takes an announcement of several lines, and sends it to Mixin; refuses one with a NUL', async () => {
    const announcement = 'Welcome!\n\tRead the rules.';
    expect((await call(groups, { ...group(), announcement }, { 'idempotency-key': randomUUID() })).status).toBe(201);
    expect(JSON.parse(h.sandbox.requests.at(-1)!.body)).toMatchObject({ announcement });
    await call(groups, group(), { 'idempotency-key': randomUUID() });
    expect(JSON.parse(h.sandbox.requests.at(-1)!.body)).not.toHaveProperty('announcement');
    for (const announcement of ['a\u0000', 'a\u009bb']) {
      const res = await call(groups, { ...group(), announcement }, { 'idempotency-key': randomUUID() });
      expect(res).toMatchObject({ status: 400, body: { error: { details: [{ field: 'announcement' }] } } });
    }
  });

  it('a retry still matches when Mixin stored the name normalised (NFC) or trimmed', async () => {
    const decomposed = 'Cafe\u0301 room '; // "Café room " with a combining accent and a trailing space
    const first = await call(groups, group(decomposed), { 'idempotency-key': 'order-105' });
    h.sandbox.conversations.get(first.body.data.conversation_id)!.data.name = 'Caf\u00e9 room';
    expect((await call(groups, group(decomposed), { 'idempotency-key': 'order-105' })).status).toBe(201);
  });

  it('an explicit random_id keeps the Go SDK scheme, whatever the key', async () => {
    const random_id = randomUUID();
    const res = await call(groups, { ...group(), random_id }, { 'idempotency-key': 'order-104' });
    expect(res.status).toBe(201);
    expect(JSON.parse(h.sandbox.requests[0]!.body).random_id).toBe(random_id);
  });
});

describe('smaller holes', () => {
  it('clamps an absurd Retry-After: HTTP header and workflow error both stay sane', async () => {
    h.sandbox.inject({ kind: 'http-status', status: 429, retryAfter: '99999999999999999999999' });
    const res = await call(groups, group(), { 'idempotency-key': randomUUID() });
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('300');
    expect(await taskError({ ...group(), idempotency_key: randomUUID() })).toMatchObject({
      name: 'MixinRateLimitError',
      retryAfterSeconds: 300,
    });
  });

  const astral = (n: number) => '𝄞'.repeat(n); // one code point, two UTF-16 units
  it('counts idempotency keys in characters (code points) on every trigger: 256 accepted, 257 refused', async () => {
    // A header carries printable ASCII only (below): there the characters are plain ones.
    expect((await call(groups, group(), { 'idempotency-key': 'k'.repeat(256) })).status).toBe(201);
    const refused = await call(groups, group(), { 'idempotency-key': 'k'.repeat(257) });
    expect(refused).toMatchObject({
      status: 400,
      body: { error: { details: [{ field: 'Idempotency-Key', message: 'must be 1 to 256 characters' }] } },
    });
    expect(await taskError({ ...group(), idempotency_key: astral(256) })).toBeUndefined();
    expect(await taskError({ ...group(), idempotency_key: astral(257) })).toMatchObject({
      name: 'InvalidRequestError',
      details: [{ field: 'idempotency_key' }],
    });
    const queued = (key: string) => {
      const event = sqsEvent([JSON.stringify(group())]);
      (event.Records[0] as { messageAttributes: unknown }).messageAttributes = {
        IdempotencyKey: { dataType: 'String', stringValue: key },
      };
      return event;
    };
    expect(await groupQueue(queued(astral(256)), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect((await groupQueue(queued(astral(257)), lambdaContext())).batchItemFailures).toHaveLength(1);
  });

  it('takes the Idempotency-Key quoted (IETF draft) or bare (Stripe) as one key, and refuses one that is not printable ASCII', async () => {
    const bare = await call(groups, group('Quoted'), { 'idempotency-key': 'order-q"1' });
    const quoted = await call(groups, group('Quoted'), { 'idempotency-key': '"order-q\\"1"' });
    expect(bare.status).toBe(201);
    expect(quoted.body.data.conversation_id).toBe(bare.body.data.conversation_id);
    const nonAscii = await call(groups, group(), { 'idempotency-key': 'ключ' });
    expect(nonAscii).toMatchObject({
      status: 400,
      body: { error: { details: [{ field: 'Idempotency-Key', message: expect.stringContaining('printable ASCII') }] } },
    });
    expect(h.sandbox.created).toBe(1);
  });

  it('refuses a key with an unpaired surrogate on every trigger: hashed as UTF-8, two such keys would be one group', async () => {
    expect(await taskError({ ...group(), idempotency_key: 'k\ud800' })).toMatchObject({
      name: 'InvalidRequestError',
      details: [{ field: 'idempotency_key', message: 'must not hold an unpaired surrogate' }],
    });
    const event = sqsEvent([JSON.stringify(group())]);
    (event.Records[0] as { messageAttributes: unknown }).messageAttributes = {
      IdempotencyKey: { dataType: 'String', stringValue: 'k\udc00' },
    };
    expect((await groupQueue(event, lambdaContext())).batchItemFailures).toHaveLength(1);
    expect(h.sandbox.postCount).toBe(0);
  });

  it('names a made-up field of any length by its first 100 characters', async () => {
    const res = await call(groups, { ...group(), ['k'.repeat(10_000)]: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ field: `["${'k'.repeat(100)}…"]`, message: 'is not an allowed field' }]);
  });

  it('answers 415 for a JSON body in another charset, and accepts UTF-8 named in any case', async () => {
    const res = await call(groups, group(), { 'content-type': 'application/json; charset=ISO-8859-1' });
    expect(res).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type' } } });
    expect((await call(groups, group(), { 'content-type': 'application/json; charset="UTF-8"' })).status).toBe(201);
    expect((await call(groups, group(), { 'content-type': 'application/merge-patch+json;charset=utf8' })).status).toBe(
      201,
    );
  });

  it('accepts a custom String.* data type for IdempotencyKey, and a queue body with a UTF-8 BOM', async () => {
    const event = sqsEvent([`\uFEFF${JSON.stringify(group('BOM room'))}`]);
    (event.Records[0] as { messageAttributes: unknown }).messageAttributes = {
      IdempotencyKey: { dataType: 'String.order', stringValue: 'order-bom' },
    };
    expect(await groupQueue(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(h.sandbox.conversations.has(groupIdForKey(h.bot.keystore.appId, 'order-bom'))).toBe(true);
  });

  it("refuses a DEADLINE_MARGIN_MS that would let middy time out first; middy's own timeout is our typed error", async () => {
    expect(() => loadConfig({ DEADLINE_MARGIN_MS: '0' })).toThrow(/DEADLINE_MARGIN_MS must be an integer from 100/);
    // Loaded with the harness's environment (the runtime reads its configuration, a keystore secret included, when
    // it loads), in one registry with the error mapping that must recognise its error.
    const { handlerOptions, httpErrorResponse } = h.load<
      typeof import('../lib/lambda/runtime') & typeof import('../lib/lambda/http-status')
    >('../../test/support/runtime-and-http-status');
    let thrown: unknown;
    try {
      handlerOptions.timeoutEarlyResponse();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ name: 'MixinUnavailableError', reason: 'deadline', attempts: 0, retryable: true });
    expect(httpErrorResponse(thrown)).toMatchObject({
      statusCode: 504,
      body: expect.stringContaining('deadline_exceeded'),
    });
  });

  it('answers a bug of ours (any error it does not know) 500 internal_error, saying nothing of what broke', () => {
    const { httpErrorResponse } = h.load<typeof import('../lib/lambda/http-status')>('../../lib/lambda/http-status');
    const bug = httpErrorResponse(new TypeError('secret=abc broke'));
    expect(bug.statusCode).toBe(500);
    expect(JSON.parse(String(bug.body))).toEqual({ error: { code: 'internal_error', message: 'internal error' } });
  });

  it('says deadline_exceeded, not mixin_timeout, when our budget ran out before Mixin was asked', async () => {
    const res = await call(groups, group(), { 'idempotency-key': randomUUID() }, 530);
    expect(res).toMatchObject({ status: 504, body: { error: { code: 'deadline_exceeded' } } });
    expect(h.sandbox.postCount).toBe(0);
  });

  it("caps what it reads of Mixin's answer: a 5 MB body is a bad response, not a 201", async () => {
    h.sandbox.inject({
      kind: 'http-status',
      status: 200,
      body: JSON.stringify({ data: { conversation_id: 'x', padding: 'x'.repeat(5 * 1024 * 1024) } }),
    });
    const res = await call(groups, group(), { 'idempotency-key': randomUUID() });
    expect(res).toMatchObject({ status: 502, body: { error: { code: 'mixin_bad_response' } } });
  });

  it('reads headers in any letter case', async () => {
    const event = httpEvent(JSON.stringify(group()), {});
    (event as { headers: Record<string, string> }).headers = {
      'Content-Type': 'application/json',
      'Idempotency-Key': 'order-case',
    };
    const res = await groups(event, lambdaContext());
    expect(res.statusCode).toBe(201);
    expect(JSON.parse(String(res.body)).data.conversation_id).toBe(groupIdForKey(h.bot.keystore.appId, 'order-case'));
  });

  it('an HTTP 500 carrying Mixin code 10002: the code wins, one attempt, 422', async () => {
    h.sandbox.inject({
      kind: 'http-status',
      status: 500,
      body: JSON.stringify({ error: { status: 500, code: 10002, description: 'The request data has invalid field.' } }),
    });
    const res = await call(groups, group(), { 'idempotency-key': randomUUID() });
    expect(res).toMatchObject({ status: 422, body: { error: { code: 'mixin_rejected', mixin_code: 10002 } } });
    expect(h.sandbox.postCount).toBe(1);
  });
});
