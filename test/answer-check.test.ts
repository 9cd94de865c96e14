/**
 * Issue "What an outside pass found", item 4 and the test-strength list, through the real handlers in this process
 * against the sandbox: a 2xx is the conversation asked for only with its ID, a string category and, under a key, a
 * string name; what is not Mixin speaking (a proxy's page, an envelope without a description, a Retry-After that is
 * not a number of seconds, our own deadline) gets the answer the contract names.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { groupIdForKey } from '../lib/conversation-id';
import { type Harness, httpEvent, lambdaContext, type LambdaHandler, startHarness } from './support/harness';

type Http = LambdaHandler<unknown, APIGatewayProxyStructuredResultV2>;
type Task = LambdaHandler<unknown, Record<string, unknown>>;
let h: Harness;
let groups: Http;
let groupTask: Task;

beforeAll(async () => {
  h = await startHarness({ MIXIN_MAX_ATTEMPTS: '2' });
  groups = h.load<{ handler: Http }>('../../functions/create-group/http').handler;
  groupTask = h.load<{ handler: Task }>('../../functions/create-group/workflow').handler;
});
afterAll(() => h.stop());
beforeEach(() => h.sandbox.reset());

const call = async (body: unknown, headers: Record<string, string> = {}, remainingMs = 10_000) => {
  const res = await groups(httpEvent(JSON.stringify(body), { headers }), lambdaContext(remainingMs));
  return { status: res.statusCode, headers: res.headers ?? {}, body: JSON.parse(String(res.body)) as { error?: { code: string; message: string; mixin_code?: number } } };
};
const taskError = (input: unknown) => groupTask(input, lambdaContext(10_000)).then(() => undefined, (e: Error & Record<string, unknown>) => e);
const group = (extra: Record<string, unknown> = {}) => ({ name: 'Answer room', participants: [{ user_id: randomUUID() }], ...extra });
/** A 2xx answer Mixin could send: the conversation with only the given fields. */
const answer = (data: Record<string, unknown>) => ({ kind: 'http-status' as const, status: 201, body: JSON.stringify({ data }) });

describe('a 2xx is the conversation asked for only when it says so', () => {
  it.each([
    ['no category', {}],
    ['a category that is not a string', { category: 5 }],
  ])('%s, for an ID given in the body: a bad response retried, then 502 mixin_bad_response (not a conflict)', async (_label, fields) => {
    const id = randomUUID();
    h.sandbox.inject({ ...answer({ conversation_id: id, name: 'Answer room', ...fields }), count: 4 });
    const res = await call(group({ conversation_id: id }));
    expect(res).toMatchObject({ status: 502, body: { error: { code: 'mixin_bad_response' } } });
    expect(h.sandbox.postCount).toBe(2); // MIXIN_MAX_ATTEMPTS: retried like any bad response
    const task = await taskError(group({ conversation_id: id }));
    expect(task).toMatchObject({ name: 'MixinUnavailableError', reason: 'bad-response', retryable: true });
  });

  it('under a key, a group without a string name: a bad response retried, then 502 (not idempotency_key_reused)', async () => {
    const key = `answer-${randomUUID()}`;
    const id = groupIdForKey(h.bot.keystore.appId, key);
    h.sandbox.inject({ ...answer({ conversation_id: id, category: 'GROUP' }), count: 2 });
    const res = await call(group(), { 'idempotency-key': key });
    expect(res).toMatchObject({ status: 502, body: { error: { code: 'mixin_bad_response' } } });
    expect(h.sandbox.postCount).toBe(2);
    h.sandbox.inject(answer({ conversation_id: id, category: 'GROUP', name: null }));
    expect(await taskError({ ...group(), idempotency_key: key })).toMatchObject({ name: 'MixinUnavailableError', reason: 'bad-response' });
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
    expect(conflict).toMatchObject({ status: 409, body: { error: { code: 'conversation_conflict', message: expect.stringContaining('already exists as a CONTACT') } } });
    expect(h.sandbox.postCount).toBe(1);
    const key = `answer-${randomUUID()}`;
    h.sandbox.inject(answer({ conversation_id: groupIdForKey(h.bot.keystore.appId, key), category: 'GROUP', name: 'Another room' }));
    expect(await call(group(), { 'idempotency-key': key })).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
  });
});
