import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { groupConversationId, uniqueConversationId, groupIdForKey } from '../lib/conversation-id';
import { makeBot } from '../infra/local/keys';
import { type Harness, httpEvent, lambdaContext, type LambdaHandler, startHarness } from './support/harness';

type Http = LambdaHandler<unknown, APIGatewayProxyStructuredResultV2>;
let h: Harness;
let groups: Http;
let contacts: Http;

beforeAll(async () => {
  h = await startHarness();
  groups = h.load<{ handler: Http }>('../../functions/create-group/http').handler;
  contacts = h.load<{ handler: Http }>('../../functions/create-contact/http').handler;
});
afterAll(() => h.stop());
beforeEach(() => {
  h.sandbox.reset();
  h.secrets.clearFaults();
});
afterEach(() => {
  // An instance paused by a test's 429s would answer the next test's request 429 at once: the next test gets fresh ones.
  if (!h.sandbox.requests.some((r) => r.outcome.includes('429'))) return;
  groups = h.load<{ handler: Http }>('../../functions/create-group/http').handler;
  contacts = h.load<{ handler: Http }>('../../functions/create-contact/http').handler;
});

const call = async (fn: Http, body: unknown, headers: Record<string, string> = {}, remainingMs = 10_000) => {
  const res = await fn(
    httpEvent(typeof body === 'string' ? body : JSON.stringify(body), { headers }),
    lambdaContext(remainingMs),
  );
  return { status: res.statusCode, headers: res.headers ?? {}, body: JSON.parse(String(res.body)) };
};

const users = (n: number) => Array.from({ length: n }, () => randomUUID());
const groupBody = (ids = users(2)) => ({ name: 'Team room', participants: ids.map((user_id) => ({ user_id })) });

describe('POST /groups', () => {
  it('201: creates the group of the Idempotency-Key (sent without random_id); the same key twice gives the same group', async () => {
    const body = groupBody();
    const first = await call(groups, body, { 'idempotency-key': 'order-1' });
    const again = await call(groups, body, { 'idempotency-key': 'order-1' });
    const expected = groupIdForKey(h.bot.keystore.appId, 'order-1');
    expect(first.status).toBe(201);
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.body.data).toMatchObject({
      type: 'conversation',
      category: 'GROUP',
      conversation_id: expected,
      name: 'Team room',
      creator_id: h.bot.keystore.appId,
    });
    expect(again.body.data.conversation_id).toBe(expected);
    expect(h.sandbox.created).toBe(1);
  });

  it('201: random_id from the body wins over the header; conversation_id is used as is', async () => {
    const body = { ...groupBody(), random_id: randomUUID() };
    const res = await call(groups, body, { 'idempotency-key': 'ignored' });
    expect(res.body.data.conversation_id).toBe(
      groupConversationId(
        h.bot.keystore.appId,
        body.name,
        body.participants.map((p) => p.user_id),
        body.random_id,
      ),
    );
    const given = randomUUID().toUpperCase();
    const res2 = await call(groups, { ...groupBody(), conversation_id: given });
    expect(res2.status).toBe(201);
    expect(res2.body.data.conversation_id).toBe(given.toLowerCase());
  });

  it('201: without any key, two calls make two groups', async () => {
    const body = groupBody();
    const a = await call(groups, body);
    const b = await call(groups, body);
    expect(a.body.data.conversation_id).not.toBe(b.body.data.conversation_id);
    expect(h.sandbox.created).toBe(2);
  });

  it('201: drops the bot itself from participants and keeps roles', async () => {
    const [u] = users(1);
    const res = await call(groups, {
      name: 'n',
      participants: [{ user_id: h.bot.keystore.appId }, { user_id: u, role: 'ADMIN' }],
    });
    expect(res.status).toBe(201);
    const sent = JSON.parse(h.sandbox.requests[0]!.body);
    expect(sent.participants).toEqual([{ user_id: u, role: 'ADMIN' }]);
  });

  const invalid: [string, unknown, { field: string; message: string }[]][] = [
    ['missing name', { participants: [{ user_id: randomUUID() }] }, [{ field: 'name', message: 'is required' }]],
    ['empty name', { ...groupBody(), name: '' }, [{ field: 'name', message: 'must be at least 1 character(s) long' }]],
    [
      'a 513-character name',
      { ...groupBody(), name: 'é'.repeat(513) },
      [{ field: 'name', message: 'must be at most 512 characters long' }],
    ],
    ['257 participants', groupBody(users(257)), [{ field: 'participants', message: 'must have at most 256 item(s)' }]],
    [
      'no participants',
      { name: 'n', participants: [] },
      [{ field: 'participants', message: 'must have at least 1 item(s)' }],
    ],
    [
      'a UUID one character off',
      { name: 'n', participants: [{ user_id: `${randomUUID().slice(0, -1)}x` }] },
      [{ field: 'participants[0].user_id', message: 'must be a UUID (8-4-4-4-12 hex digits)' }],
    ],
    [
      'a bad role',
      { name: 'n', participants: [{ user_id: randomUUID(), role: 'OWNER' }] },
      [{ field: 'participants[0].role', message: 'must be one of "", "ADMIN"' }],
    ],
    ['an unknown field', { ...groupBody(), colour: 'red' }, [{ field: 'colour', message: 'is not an allowed field' }]],
    [
      'a wrong type',
      { name: 7, participants: 'all' },
      [
        { field: 'name', message: 'must be a string' },
        { field: 'participants', message: 'must be an array' },
      ],
    ],
    ['an array body', [1], [{ field: 'body', message: 'must be an object' }]],
    [
      'duplicate participants',
      (() => {
        const u = randomUUID();
        return { name: 'n', participants: [{ user_id: u }, { user_id: u.toUpperCase() }] };
      })(),
      [{ field: 'participants[1].user_id', message: 'duplicates participants[0].user_id' }],
    ],
    ['only the bot', null, [{ field: 'participants', message: 'must name at least one user other than the bot' }]],
    [
      'conversation_id with random_id',
      { ...groupBody(), random_id: randomUUID(), conversation_id: randomUUID() },
      [{ field: 'conversation_id', message: 'cannot be combined with random_id: give one or the other' }],
    ],
  ];

  it.each(invalid)('400 for %s, naming the field, without calling Mixin', async (_label, body, details) => {
    const payload = body ?? { name: 'n', participants: [{ user_id: h.bot.keystore.appId }] };
    const res = await call(groups, payload);
    expect(res).toEqual({
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: { error: { code: 'invalid_request', message: 'the request is invalid: see details', details } },
    });
    expect(h.sandbox.postCount).toBe(0);
  });

  it('400 for malformed JSON and for an over-long Idempotency-Key', async () => {
    const bad = await call(groups, '{"name": ');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      code: 'invalid_request',
      details: [{ field: 'body', message: expect.stringMatching(/^is not valid JSON/) }],
    });
    const key = await call(groups, groupBody(), { 'idempotency-key': 'k'.repeat(257) });
    expect(key.body.error.details).toEqual([{ field: 'Idempotency-Key', message: 'must be 1 to 256 characters' }]);
    expect(h.sandbox.postCount).toBe(0);
  });

  it('400 for a body that is not valid UTF-8 (base64-encoded by API Gateway)', async () => {
    const raw = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const res = await groups(httpEvent(raw.toString('base64'), { isBase64Encoded: true }), lambdaContext());
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(String(res.body)).error.details).toEqual([{ field: 'body', message: 'is not valid UTF-8' }]);
  });

  it('415 for a body that is not JSON', async () => {
    const res = await call(groups, groupBody(), { 'content-type': 'text/plain' });
    expect(res).toEqual({
      status: 415,
      headers: { 'content-type': 'application/json' },
      body: {
        error: { code: 'unsupported_media_type', message: 'Content-Type must be application/json, got "text/plain"' },
      },
    });
  });

  it('413 for a body over 64 KB', async () => {
    const body = JSON.stringify({ name: 'x'.repeat(65_536), participants: [] });
    const res = await call(groups, body);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({
      error: { code: 'body_too_large', message: `the body is ${body.length} bytes; at most 65536 are accepted` },
    });
    expect(h.sandbox.postCount).toBe(0);
  });

  it.each([10002, 20116])('422 when Mixin rejects the data with code %i, once', async (code) => {
    h.sandbox.inject({ kind: 'error', code });
    const res = await call(groups, groupBody());
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      error: {
        code: 'mixin_rejected',
        message: expect.stringMatching(/^Mixin rejected the request: /),
        mixin_code: code,
      },
    });
    expect(h.sandbox.postCount).toBe(1);
  });

  it('429 with Retry-After when Mixin keeps rate-limiting after our retries', async () => {
    h.sandbox.inject({ kind: 'error', code: 429 });
    const res = await call(groups, groupBody());
    expect(res.status).toBe(429);
    // When this instance will call Mixin again: its rate limiter's wait after four 429s, whole seconds, at least 1.
    expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(res.body).toEqual({
      error: { code: 'mixin_rate_limited', message: 'Mixin is rate-limiting the bot; retry later' },
    });
    expect(h.sandbox.postCount).toBe(4);
  });

  it('502 when Mixin answers garbage', async () => {
    h.sandbox.inject({ kind: 'http-status', status: 200, body: '<html>hello</html>' });
    const res = await call(groups, groupBody());
    expect(res).toMatchObject({
      status: 502,
      body: {
        error: { code: 'mixin_bad_response', message: 'Mixin answered with something that is not a Mixin response' },
      },
    });
    expect(h.sandbox.postCount).toBe(4);
  });

  it('503 with Retry-After when Mixin keeps failing (HTML 500s)', async () => {
    h.sandbox.inject({ kind: 'html-500' });
    const res = await call(groups, groupBody());
    expect(res).toEqual({
      status: 503,
      headers: { 'content-type': 'application/json', 'retry-after': '1' },
      body: {
        error: { code: 'mixin_unavailable', message: 'Mixin is unavailable; retry with the same Idempotency-Key' },
      },
    });
  });

  it('504 before the Lambda deadline when Mixin hangs', async () => {
    h.sandbox.inject({ kind: 'hang' });
    const started = Date.now();
    const res = await call(groups, groupBody(), {}, 1_200);
    expect(Date.now() - started).toBeLessThan(1_200);
    expect(res).toMatchObject({ status: 504, body: { error: { code: 'mixin_timeout' } } });
  });
});

describe('POST /contacts', () => {
  it('201: opens the contact under the unique ID of bot and user, whatever the case of the ID', async () => {
    const [u] = users(1);
    const res = await call(contacts, { participants: [{ user_id: u!.toUpperCase() }] });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      category: 'CONTACT',
      conversation_id: uniqueConversationId(h.bot.keystore.appId, u!),
    });
  });

  it.each([
    [
      'two participants',
      { participants: [{ user_id: randomUUID() }, { user_id: randomUUID() }] },
      [{ field: 'participants', message: 'must have at most 1 item(s)' }],
    ],
    [
      'a role',
      { participants: [{ user_id: randomUUID(), role: 'ADMIN' }] },
      [{ field: 'participants[0].role', message: 'is not an allowed field' }],
    ],
    [
      'a name',
      { name: 'x', participants: [{ user_id: randomUUID() }] },
      [{ field: 'name', message: 'is not an allowed field' }],
    ],
  ])('400 for %s', async (_label, body, details) => {
    const res = await call(contacts, body);
    expect(res.body).toEqual({
      error: { code: 'invalid_request', message: 'the request is invalid: see details', details },
    });
    expect(h.sandbox.postCount).toBe(0);
  });

  it('400 when the participant is the bot itself', async () => {
    const res = await call(contacts, { participants: [{ user_id: h.bot.keystore.appId }] });
    expect(res.body.error.details).toEqual([
      { field: 'participants[0].user_id', message: 'must not be the bot itself' },
    ]);
  });
});

describe('the keystore from Secrets Manager', () => {
  it('502 when Mixin refuses the credentials, and the keystore is re-read once', async () => {
    const impostor = makeBot(h.bot.keystore.appId);
    h.sandbox.registerApp(impostor.app);
    const before = h.secrets.count();
    const res = await call(contacts, { participants: [{ user_id: randomUUID() }] });
    h.sandbox.registerApp(h.bot.app);
    expect(res).toEqual({
      status: 502,
      headers: { 'content-type': 'application/json' },
      body: {
        error: {
          code: 'mixin_credentials_rejected',
          message: "Mixin refused the bot's credentials (code 401)",
          mixin_code: 401,
        },
      },
    });
    expect(h.secrets.count() - before).toBe(1);
  });

  it('heals after a key rotation: a 401 re-reads the rotated secret and the same request succeeds', async () => {
    // An instance of its own: the one above re-read the refused key and reads no more within the backoff window.
    const fresh = h.load<{ handler: Http }>('../../functions/create-contact/http').handler;
    expect((await call(fresh, { participants: [{ user_id: randomUUID() }] })).status).toBe(201);
    h.sandbox.reset();
    const rotated = makeBot(h.bot.keystore.appId);
    h.sandbox.registerApp(rotated.app);
    h.secrets.put(h.secretId, JSON.stringify(rotated.json));
    const res = await call(fresh, { participants: [{ user_id: randomUUID() }] });
    expect(res.status).toBe(201);
    expect(h.sandbox.requests.map((r) => r.outcome)).toEqual(['error:401:unknown sid', 'created']);
    // put the original back for the other tests
    h.sandbox.registerApp(h.bot.app);
    h.secrets.put(h.secretId, JSON.stringify(h.bot.json));
    await call(contacts, { participants: [{ user_id: randomUUID() }] });
  });

  it('503 when Secrets Manager is unavailable, 500 when the secret is malformed, with no key material', async () => {
    const isolated = h.load<{ handler: Http }>('../../functions/create-contact/http').handler;
    h.secrets.inject({ type: 'InternalServiceError' });
    const down = await call(isolated, { participants: [{ user_id: randomUUID() }] });
    expect(down).toEqual({
      status: 503,
      headers: { 'content-type': 'application/json', 'retry-after': '1' },
      body: { error: { code: 'keystore_unavailable', message: 'the bot keystore could not be read right now; retry' } },
    });
    h.secrets.clearFaults();
    const broken = { ...h.bot.json, session_private_key: h.bot.seedHex.slice(0, 40) };
    const id = `${h.secretId}-broken`;
    h.secrets.put(id, JSON.stringify(broken));
    process.env.MIXIN_KEYSTORE_SECRET_ID = id;
    const misconfigured = h.load<{ handler: Http }>('../../functions/create-contact/http').handler;
    process.env.MIXIN_KEYSTORE_SECRET_ID = h.secretId;
    const res = await call(misconfigured, { participants: [{ user_id: randomUUID() }] });
    expect(res).toEqual({
      status: 500,
      headers: { 'content-type': 'application/json' },
      body: {
        error: { code: 'keystore_invalid', message: 'the service is misconfigured: the bot keystore is unusable' },
      },
    });
    expect(JSON.stringify(res)).not.toContain(h.bot.seedHex.slice(0, 40));
    expect(h.sandbox.postCount).toBe(0);
  });
});
