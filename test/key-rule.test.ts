/**
 * One idempotency-key rule for every trigger (issue "What an outside pass found", item 6): a key in double quotes
 * (a Structured Field String, as the IETF draft sends the header) is the same key as without them, whether it
 * comes as the HTTP header, the SQS `IdempotencyKey` attribute or the workflow `idempotency_key`, so a producer
 * forwarding the header value addresses the same group.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { groupIdForKey } from '../lib/conversation-id';
import { type Harness, httpEvent, lambdaContext, type LambdaHandler, sqsEvent, startHarness } from './support/harness';

type Http = LambdaHandler<unknown, APIGatewayProxyStructuredResultV2>;
type Queue = LambdaHandler<unknown, SQSBatchResponse>;
type Task = LambdaHandler<unknown, { conversation_id: string }>;
let h: Harness;
let http: Http;
let queue: Queue;
let task: Task;

beforeAll(async () => {
  h = await startHarness();
  http = h.load<{ handler: Http }>('../../functions/create-group/http').handler;
  queue = h.load<{ handler: Queue }>('../../functions/create-group/queue').handler;
  task = h.load<{ handler: Task }>('../../functions/create-group/workflow').handler;
});
afterAll(() => h.stop());
beforeEach(() => h.sandbox.reset());

const users = [randomUUID()];
const group = () => ({ name: 'Key room', participants: users.map((user_id) => ({ user_id })) });
const viaHttp = async (key: string) => {
  const res = await http(httpEvent(JSON.stringify(group()), { headers: { 'idempotency-key': key } }), lambdaContext());
  return {
    status: res.statusCode,
    body: JSON.parse(String(res.body)) as { data?: { conversation_id: string }; error?: unknown },
  };
};
const viaQueue = async (key: string) => {
  const event = sqsEvent([JSON.stringify(group())]);
  (event.Records[0] as { messageAttributes: unknown }).messageAttributes = {
    IdempotencyKey: { dataType: 'String', stringValue: key },
  };
  return queue(event, lambdaContext());
};
const viaTask = (key: string) => task({ ...group(), idempotency_key: key }, lambdaContext());
const taskError = (key: string) =>
  viaTask(key).then(
    () => undefined,
    (e: Error & Record<string, unknown>) => e,
  );

describe('a key in double quotes is the key without them, on every trigger', () => {
  it.each([
    ['plain', 'order-42', '"order-42"'],
    ['with escaped quote and backslash', 'order "a\\b"', '"order \\"a\\\\b\\""'],
  ])(
    '%s: HTTP bare, HTTP quoted, the queue attribute quoted and the workflow input quoted make one group',
    async (_label, bare, quoted) => {
      const expected = groupIdForKey(h.bot.keystore.appId, bare);
      expect(await viaHttp(bare)).toMatchObject({ status: 201, body: { data: { conversation_id: expected } } });
      expect(await viaHttp(quoted)).toMatchObject({ status: 201, body: { data: { conversation_id: expected } } });
      expect(await viaQueue(quoted)).toEqual({ batchItemFailures: [] });
      expect(await viaQueue(bare)).toEqual({ batchItemFailures: [] });
      expect((await viaTask(quoted)).conversation_id).toBe(expected);
      expect((await viaTask(bare)).conversation_id).toBe(expected);
      expect(h.sandbox.created).toBe(1);
    },
  );

  it('a quoted key beyond the ASCII of a header is the same key on the queue and in a workflow', async () => {
    const expected = groupIdForKey(h.bot.keystore.appId, 'ключ-😀');
    expect((await viaTask('"ключ-😀"')).conversation_id).toBe(expected);
    expect(await viaQueue('"ключ-😀"')).toEqual({ batchItemFailures: [] });
    expect(h.sandbox.created).toBe(1);
  });

  it('quotes count as no characters: "" is an empty key and a quoted 256-character key is accepted, on every trigger', async () => {
    const empty = {
      status: 400,
      body: { error: { details: [{ field: 'Idempotency-Key', message: 'must be 1 to 256 characters' }] } },
    };
    expect(await viaHttp('""')).toMatchObject(empty);
    expect(await taskError('""')).toMatchObject({
      name: 'InvalidRequestError',
      details: [{ field: 'idempotency_key', message: 'must be 1 to 256 characters' }],
    });
    expect((await viaQueue('""')).batchItemFailures).toHaveLength(1);
    const longest = 'k'.repeat(256);
    expect(await viaHttp(`"${longest}"`)).toMatchObject({ status: 201 });
    expect(await taskError(`"${longest}"`)).toBeUndefined();
    expect(await viaQueue(`"${longest}"`)).toEqual({ batchItemFailures: [] });
    expect(h.sandbox.created).toBe(1);
  });

  it('what is not a whole quoted string is a key as it stands: a lone quote, quotes inside, an unescaped quote', async () => {
    for (const key of ['"', 'a"b"', '"a"b"', '"a\\"']) {
      const expected = groupIdForKey(h.bot.keystore.appId, key);
      expect(await viaHttp(key)).toMatchObject({ status: 201, body: { data: { conversation_id: expected } } });
      expect((await viaTask(key)).conversation_id).toBe(expected);
    }
  });
});
