import { randomUUID } from 'node:crypto';
import { MixinSandbox } from '../infra/local/mixin-sandbox';
import { groupConversationId, uniqueConversationId } from '../lib/conversation-id';
import { signAuthenticationToken } from '../lib/mixin/token';
import { makeBot } from '../infra/local/keys';

// The sandbox is what every other test trusts to behave like Mixin: check that it refuses what Mixin refuses.
const bot = makeBot();
let sandbox: MixinSandbox;
beforeAll(async () => {
  sandbox = await new MixinSandbox({ apps: [bot.app] }).start();
});
afterAll(() => sandbox.stop());
beforeEach(() => sandbox.reset());

const user = randomUUID();
const contactBody = JSON.stringify({
  category: 'CONTACT',
  conversation_id: uniqueConversationId(bot.keystore.appId, user),
  participants: [{ user_id: user }],
});

const send = async (body: string, token: string, path = '/conversations', method = 'POST') => {
  const res = await fetch(sandbox.url + path, {
    method,
    body: method === 'POST' ? body : undefined,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
  });
  return {
    status: res.status,
    json: (await res.json()) as {
      data?: Record<string, unknown>;
      error?: { code: number; extra?: { field?: string } };
    },
  };
};
const tokenFor = (body: string, opts = {}, keystore = bot.keystore, uri = '/conversations', method = 'POST') =>
  signAuthenticationToken(keystore, { method, uri, body }, opts);

describe('the sandbox token check', () => {
  it('accepts a good token and answers 200 with data', async () => {
    const res = await send(contactBody, tokenFor(contactBody));
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({
      category: 'CONTACT',
      participants: expect.arrayContaining([expect.objectContaining({ user_id: user })]),
    });
  });

  it('refuses a reused jti', async () => {
    const token = tokenFor(contactBody);
    expect((await send(contactBody, token)).status).toBe(200);
    expect((await send(contactBody, token)).json.error?.code).toBe(401);
    expect(sandbox.requests[1]!.outcome).toBe('error:401:jti reused');
  });

  it.each([
    [
      'an expired token',
      () => tokenFor(contactBody, { iat: Math.floor(Date.now() / 1000) - 600, ttlSeconds: 60 }),
      'token expired',
    ],
    [
      'a sig over another body',
      () => tokenFor(contactBody.replace('CONTACT', 'GROUP')),
      'sig does not match method + uri + body',
    ],
    [
      'a sig over another URI',
      () => tokenFor(contactBody, {}, bot.keystore, '/conversations?x=1'),
      'sig does not match method + uri + body',
    ],
    [
      'a token signed by another key',
      () => tokenFor(contactBody, {}, makeBot(bot.keystore.appId).keystore),
      'unknown sid',
    ],
    [
      'a forged signature',
      () => tokenFor(contactBody).replace(/\.[^.]+$/, `.${Buffer.alloc(64).toString('base64url')}`),
      'bad signature',
    ],
    ['an unknown bot', () => tokenFor(contactBody, {}, makeBot().keystore), 'unknown uid'],
  ])('refuses %s with Mixin code 401', async (_label, token, reason) => {
    const res = await send(contactBody, token());
    expect(res.status).toBe(202);
    expect(res.json.error?.code).toBe(401);
    expect(sandbox.requests[0]!.outcome).toBe(`error:401:${reason}`);
    expect(sandbox.conversations.size).toBe(0);
  });
});

describe('the sandbox body check', () => {
  const post = async (body: unknown) => {
    const text = JSON.stringify(body);
    return send(text, tokenFor(text));
  };
  const users = [randomUUID(), randomUUID()];
  const randomId = randomUUID();
  const goodGroup = {
    category: 'GROUP',
    name: 'Room',
    random_id: randomId,
    conversation_id: groupConversationId(bot.keystore.appId, 'Room', users, randomId),
    participants: users.map((user_id) => ({ user_id })),
  };

  it.each([
    ['a bad category', { ...goodGroup, category: 'CHANNEL' }, 10002, 'category'],
    [
      'a CONTACT with the wrong ID',
      { category: 'CONTACT', conversation_id: randomUUID(), participants: [{ user_id: user }] },
      10002,
      'conversation_id',
    ],
    [
      'a CONTACT with two participants',
      { category: 'CONTACT', conversation_id: randomUUID(), participants: users.map((user_id) => ({ user_id })) },
      500,
      'participants',
    ],
    [
      'a GROUP whose ID is not derived from random_id',
      { ...goodGroup, conversation_id: randomUUID() },
      10002,
      'conversation_id',
    ],
    [
      '257 participants',
      { ...goodGroup, participants: Array.from({ length: 257 }, () => ({ user_id: randomUUID() })) },
      20116,
      'participants',
    ],
    ['a 513-character name', { ...goodGroup, name: 'x'.repeat(513) }, 10002, 'name'],
    [
      'a bad role',
      { ...goodGroup, participants: [{ user_id: users[0], role: 'KING' }] },
      10002,
      'participants[0].role',
    ],
  ])('refuses %s', async (_label, body, code, field) => {
    const res = await post(body);
    expect(res.json.error).toMatchObject({ code, extra: { field } });
    expect(sandbox.conversations.size).toBe(0);
  });

  it('accepts a 512-code-point name made of astral characters', async () => {
    const name = '😀'.repeat(512);
    const id = groupConversationId(bot.keystore.appId, name, users, randomId);
    const res = await post({ ...goodGroup, name, conversation_id: id });
    expect(res.json.data).toMatchObject({ conversation_id: id, name });
  });

  it('stores idempotently by conversation_id and serves GET /conversations/:id', async () => {
    const a = await post(goodGroup);
    const b = await post(goodGroup);
    expect(a.json.data?.conversation_id).toBe(goodGroup.conversation_id);
    expect(b.json.data?.created_at).toBe(a.json.data?.created_at);
    expect(sandbox.created).toBe(1);
    const path = `/conversations/${goodGroup.conversation_id}`;
    const got = await send('', tokenFor('', {}, bot.keystore, path, 'GET'), path, 'GET');
    expect(got.json.data?.conversation_id).toBe(goodGroup.conversation_id);
  });

  it('injects a fault only for bodies naming a given user, and only N times', async () => {
    sandbox.inject({ kind: 'error', code: 7000, userId: users[0]!, count: 1 });
    const other = {
      category: 'CONTACT',
      conversation_id: uniqueConversationId(bot.keystore.appId, user),
      participants: [{ user_id: user }],
    };
    expect((await post(other)).json.data).toBeDefined();
    expect((await post(goodGroup)).json.error?.code).toBe(7000);
    expect((await post(goodGroup)).json.data).toBeDefined();
  });
});

describe('the sandbox rate limit (a token bucket per bot)', () => {
  const contactOf = (u: string) =>
    JSON.stringify({
      category: 'CONTACT',
      conversation_id: uniqueConversationId(bot.keystore.appId, u),
      participants: [{ user_id: u }],
    });
  const post = (body: string) =>
    fetch(`${sandbox.url}/conversations`, {
      method: 'POST',
      body,
      headers: { Authorization: `Bearer ${tokenFor(body)}` },
    });
  const burst = async (n: number) =>
    Promise.all(
      Array.from({ length: n }, async () => {
        const res = await post(contactOf(randomUUID()));
        return {
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          code: ((await res.json()) as { error?: { code: number } }).error?.code,
        };
      }),
    );

  it('takes R calls at once, then answers the rest as Mixin does: HTTP 202, code 429, no Retry-After, nothing created', async () => {
    sandbox.setRateLimit(3);
    const answers = await burst(8);
    const refused = answers.filter((a) => a.code === 429);
    expect(answers.filter((a) => a.code === undefined)).toHaveLength(3);
    expect(refused).toHaveLength(5);
    for (const a of refused) expect(a).toEqual({ status: 202, retryAfter: null, code: 429 });
    expect(sandbox.created).toBe(3);
    expect({ calls: sandbox.calls, rateLimited: sandbox.rateLimited }).toEqual({ calls: 8, rateLimited: 5 });
    expect(sandbox.requests.filter((r) => r.outcome === 'error:429:rate limit')).toHaveLength(5);
  });

  it('refills at R per second, and a refused call costs no token', async () => {
    sandbox.setRateLimit(10);
    expect((await burst(10)).every((a) => a.code === undefined)).toBe(true);
    // Hammering while empty must not push the next token further away.
    const until = Date.now() + 250;
    let refused = 0;
    while (Date.now() < until) refused += (await burst(1)).filter((a) => a.code === 429).length;
    // 250 ms at 10/s is 2.5 tokens: 2 or 3 calls got through however many were refused.
    expect(sandbox.created).toBeGreaterThanOrEqual(12);
    expect(sandbox.created).toBeLessThanOrEqual(13);
    expect(refused).toBeGreaterThan(5);
    expect(sandbox.rateLimited).toBe(refused);
  });

  it('takes a limit and a latency as options, and reset() restores them', async () => {
    const slow = await new MixinSandbox({ apps: [bot.app], rateLimitPerSecond: 1, latencyMs: 150 }).start();
    try {
      const call = async () => {
        const body = contactOf(randomUUID());
        const started = Date.now();
        const res = await fetch(`${slow.url}/conversations`, {
          method: 'POST',
          body,
          headers: { Authorization: `Bearer ${tokenFor(body)}` },
        });
        return { code: ((await res.json()) as { error?: { code: number } }).error?.code, ms: Date.now() - started };
      };
      const [first, second] = [await call(), await call()];
      expect(first.code).toBeUndefined();
      expect(second.code).toBe(429);
      expect(first.ms).toBeGreaterThanOrEqual(140);
      slow.setRateLimit(0);
      slow.setLatency(0);
      expect((await call()).code).toBeUndefined();
      slow.reset();
      expect({ rate: slow.rateLimitPerSecond, latency: slow.latencyMs, calls: slow.calls }).toEqual({
        rate: 1,
        latency: 150,
        calls: 0,
      });
    } finally {
      await slow.stop();
    }
  });

  it('refuses a negative or non-finite setting', () => {
    expect(() => sandbox.setRateLimit(-1)).toThrow(/rateLimitPerSecond must be a number >= 0/);
    expect(() => sandbox.setLatency(Number.NaN)).toThrow(/latencyMs must be a number >= 0/);
  });
});
