/**
 * Every fault of issue "Reliability and security", through all three triggers, against the sandbox and the
 * local Secrets Manager: the exact outcome, the exact number of attempts (no retry storm), an answer before the
 * Lambda deadline, and recovery once the fault clears. Logs and responses are captured and searched for secrets.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import type { FaultSpec } from '../infra/local/mixin-sandbox';
import type { SecretsFault } from '../infra/local/secrets-manager';
import { makeBot } from '../infra/local/keys';
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
type Queue = LambdaHandler<unknown, SQSBatchResponse>;
type Task = LambdaHandler<unknown, unknown>;
interface Handlers {
  http: Http;
  queue: Queue;
  workflow: Task;
}

const REMAINING_MS = 2_500;
let h: Harness;
let handlers: Handlers;
let captured: string[];

const loadHandlers = (): Handlers => ({
  http: h.load<{ handler: Http }>('../../functions/create-group/http').handler,
  queue: h.load<{ handler: Queue }>('../../functions/create-group/queue').handler,
  workflow: h.load<{ handler: Task }>('../../functions/create-group/workflow').handler,
});

beforeAll(async () => {
  captured = captureConsole();
  // Logs on at DEBUG and metrics on, so that the secret scan below reads everything the functions print.
  h = await startHarness({
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
    POWERTOOLS_METRICS_DISABLED: 'false',
    MIXIN_ATTEMPT_TIMEOUT_MS: '400',
    KEYSTORE_RETRY_AFTER_FAILURE_SECONDS: '1',
  });
  handlers = loadHandlers();
});
afterAll(async () => {
  await h.stop();
  jest.restoreAllMocks();
});
beforeEach(() => {
  h.sandbox.reset();
  h.secrets.clearFaults();
});

const body = () => ({ name: 'Fault room', participants: [{ user_id: randomUUID() }] });

/** Runs one request through every trigger; returns what each answered and how long it took. */
const runAll = async (hs: Handlers = handlers) => {
  const timed = async <T>(fn: () => Promise<T>) => {
    const started = Date.now();
    try {
      return { value: await fn(), ms: Date.now() - started };
    } catch (error) {
      return { error: error as Error & { retryable?: boolean }, ms: Date.now() - started };
    }
  };
  const http = await timed(() =>
    hs.http(
      httpEvent(JSON.stringify(body()), { headers: { 'idempotency-key': randomUUID() } }),
      lambdaContext(REMAINING_MS),
    ),
  );
  const queue = await timed(() => hs.queue(sqsEvent([JSON.stringify(body())]), lambdaContext(REMAINING_MS)));
  const workflow = await timed(() =>
    hs.workflow({ ...body(), idempotency_key: randomUUID() }, lambdaContext(REMAINING_MS)),
  );
  for (const r of [http, queue, workflow]) expect(r.ms).toBeLessThan(REMAINING_MS);
  return {
    status: http.value?.statusCode,
    code: http.value ? JSON.parse(String(http.value.body)).error?.code : undefined,
    queueFailed: queue.value ? queue.value.batchItemFailures.length : queue.error?.name,
    workflowError: workflow.error?.name,
    workflowRetryable: workflow.error?.retryable,
  };
};

describe('Mixin faults', () => {
  const cases: [
    string,
    FaultSpec,
    { status: number; code: string; workflowError: string; retryable: boolean; attemptsEach: number },
  ][] = [
    [
      'HTML 500',
      { kind: 'html-500' },
      {
        status: 503,
        code: 'mixin_unavailable',
        workflowError: 'MixinUnavailableError',
        retryable: true,
        attemptsEach: 4,
      },
    ],
    [
      'connection reset',
      { kind: 'reset' },
      {
        status: 503,
        code: 'mixin_unavailable',
        workflowError: 'MixinUnavailableError',
        retryable: true,
        attemptsEach: 4,
      },
    ],
    [
      'code 7000',
      { kind: 'error', code: 7000 },
      {
        status: 503,
        code: 'mixin_unavailable',
        workflowError: 'MixinUnavailableError',
        retryable: true,
        attemptsEach: 4,
      },
    ],
    [
      'code 7001',
      { kind: 'error', code: 7001 },
      {
        status: 503,
        code: 'mixin_unavailable',
        workflowError: 'MixinUnavailableError',
        retryable: true,
        attemptsEach: 4,
      },
    ],
    [
      'code 10002',
      { kind: 'error', code: 10002 },
      { status: 422, code: 'mixin_rejected', workflowError: 'MixinRequestError', retryable: false, attemptsEach: 1 },
    ],
    [
      'code 403',
      { kind: 'error', code: 403 },
      {
        status: 502,
        code: 'mixin_credentials_rejected',
        workflowError: 'MixinRequestError',
        retryable: false,
        attemptsEach: 1,
      },
    ],
  ];

  it.each(cases)(
    '%s: typed outcome on every trigger, attempts bounded, recovery when it clears',
    async (_label, fault, expected) => {
      h.sandbox.inject(fault);
      const outcome = await runAll();
      expect(outcome).toEqual({
        status: expected.status,
        code: expected.code,
        queueFailed: 1,
        workflowError: expected.workflowError,
        workflowRetryable: expected.retryable,
      });
      expect(h.sandbox.postCount).toBe(3 * expected.attemptsEach);
      h.sandbox.clearFaults();
      expect(await runAll()).toEqual({
        status: 201,
        code: undefined,
        queueFailed: 0,
        workflowError: undefined,
        workflowRetryable: undefined,
      });
    },
  );

  it('a burst of 429s: typed outcome on every trigger, attempts paced by the rate limiter and bounded, recovery once the pause is over', async () => {
    h.sandbox.inject({ kind: 'error', code: 429 });
    const http = await handlers.http(
      httpEvent(JSON.stringify(body()), { headers: { 'idempotency-key': randomUUID() } }),
      lambdaContext(REMAINING_MS),
    );
    const retryAfter = Number(http.headers?.['retry-after']);
    const outcome = await runAll();
    expect(outcome).toEqual({
      status: 429,
      code: 'mixin_rate_limited',
      queueFailed: 1,
      workflowError: 'MixinRateLimitError',
      workflowRetryable: true,
    });
    // Each 429 slows the instance down and the next attempt waits for its slot: never more than MIXIN_MAX_ATTEMPTS (4)
    // per trigger, and fewer when the pauses no longer fit in the deadline (a fresh queue instance starts slower).
    const perTrigger = h.sandbox.postCount / 4;
    expect(perTrigger).toBeGreaterThanOrEqual(2);
    expect(perTrigger).toBeLessThanOrEqual(4);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    h.sandbox.clearFaults();
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
    expect(await runAll()).toEqual({
      status: 201,
      code: undefined,
      queueFailed: 0,
      workflowError: undefined,
      workflowRetryable: undefined,
    });
  }, 20_000);

  it('a hang past the deadline: every trigger answers before the Lambda deadline, then recovers', async () => {
    h.sandbox.inject({ kind: 'hang' });
    const outcome = await runAll();
    expect(outcome).toEqual({
      status: 504,
      code: 'mixin_timeout',
      queueFailed: 1,
      workflowError: 'MixinUnavailableError',
      workflowRetryable: true,
    });
    // 400 ms attempts within 2,500 ms less the 500 ms margin: never more than 5 per trigger.
    expect(h.sandbox.postCount).toBeLessThanOrEqual(15);
    h.sandbox.clearFaults();
    expect((await runAll()).status).toBe(201);
  });

  it('a 401 followed by a rotated key: the next request re-reads Secrets Manager and succeeds', async () => {
    const rotated = makeBot(h.bot.keystore.appId);
    h.sandbox.registerApp(rotated.app); // Mixin now knows only the new session key
    const mark = captured.length;
    const stale = await runAll();
    // Before the secret is rotated, re-reading it gives the same key: a clear credentials error, once per trigger.
    expect(stale).toEqual({
      status: 502,
      code: 'mixin_credentials_rejected',
      queueFailed: 1,
      workflowError: 'MixinRequestError',
      workflowRetryable: false,
    });
    // ...counted once per trigger on the alarm metric, with the one dimension its alarm (infra/alarms.cjs) watches.
    expect(
      captured
        .slice(mark)
        .filter((l) => l.includes('"MixinCredentialsRejected":1') && l.includes('"Dimensions":[["service"]]')),
    ).toHaveLength(3);
    h.secrets.put(h.secretId, JSON.stringify(rotated.json));
    // That re-read found the refused key: no read before KEYSTORE_RETRY_AFTER_FAILURE_SECONDS (1 s here) has passed.
    await new Promise((r) => setTimeout(r, 1_050));
    const before = h.secrets.count();
    expect(await runAll()).toEqual({
      status: 201,
      code: undefined,
      queueFailed: 0,
      workflowError: undefined,
      workflowRetryable: undefined,
    });
    expect(h.secrets.count() - before).toBe(3);
    // Rotate back: the cached rotated key now gets a 401 and heals the same way.
    h.sandbox.registerApp(h.bot.app);
    h.secrets.put(h.secretId, JSON.stringify(h.bot.json));
    expect((await runAll()).status).toBe(201);
    expect(h.secrets.count() - before).toBe(6);
  });
});

describe('Secrets Manager faults (at cold start)', () => {
  const cases: [string, SecretsFault, number][] = [
    ['unavailable', { type: 'InternalServiceError' }, 1],
    ['throttled', { type: 'ThrottlingException' }, 1],
    ['unreachable (connection reset)', { type: 'reset' }, 1],
  ];

  it.each(cases)(
    '%s: 503 keystore_unavailable, retryable everywhere, SDK attempts bounded, recovery',
    async (_label, fault, sdkAttempts) => {
      h.secrets.inject(fault);
      const fresh = loadHandlers();
      const before = h.secrets.count();
      const outcome = await runAll(fresh);
      expect(outcome).toEqual({
        status: 503,
        code: 'keystore_unavailable',
        queueFailed: 'KeystoreUnavailableError',
        workflowError: 'KeystoreUnavailableError',
        workflowRetryable: true,
      });
      // 3 functions, each: the cold-start prefetch and one fetch per request, each a single SDK attempt.
      expect(h.secrets.count() - before).toBeLessThanOrEqual(6 * sdkAttempts);
      expect(h.sandbox.postCount).toBe(0);
      h.secrets.clearFaults();
      expect(await runAll(fresh)).toEqual({
        status: 201,
        code: undefined,
        queueFailed: 0,
        workflowError: undefined,
        workflowRetryable: undefined,
      });
    },
  );

  it('hanging: every trigger still answers before the Lambda deadline, with a retryable keystore error', async () => {
    h.secrets.inject({ type: 'hang' });
    const fresh = loadHandlers();
    expect(await runAll(fresh)).toEqual({
      status: 503,
      code: 'keystore_unavailable',
      queueFailed: 'KeystoreUnavailableError',
      workflowError: 'KeystoreUnavailableError',
      workflowRetryable: true,
    });
    h.secrets.clearFaults();
    expect((await runAll(fresh)).status).toBe(201);
  });

  it.each([
    ['a malformed', 'not json at all'],
    ['an incomplete', JSON.stringify({ app_id: randomUUID(), session_id: randomUUID() })],
    ['a missing', undefined],
  ])('%s keystore secret: keystore_invalid / KeystoreError, no call to Mixin', async (_label, value) => {
    const id = `${h.secretId}-${randomUUID()}`;
    if (value !== undefined) h.secrets.put(id, value);
    process.env.MIXIN_KEYSTORE_SECRET_ID = id;
    const broken = loadHandlers();
    process.env.MIXIN_KEYSTORE_SECRET_ID = h.secretId;
    const mark = captured.length;
    expect(await runAll(broken)).toEqual({
      status: 500,
      code: 'keystore_invalid',
      queueFailed: 'KeystoreError',
      workflowError: 'KeystoreError',
      workflowRetryable: false,
    });
    expect(h.sandbox.postCount).toBe(0);
    // Answered, not thrown, on HTTP: still one warning and one failure metric per trigger, so it can be alarmed on.
    const lines = captured.slice(mark);
    expect(lines.filter((l) => /"error_name":\s*"KeystoreError"/.test(l))).toHaveLength(3);
    expect(lines.filter((l) => /"ConversationsFailed":\s*1/.test(l))).toHaveLength(3);
  });
});

describe('successes', () => {
  it('are one line each over HTTP: the metrics line, carrying the conversation, the attempts and the request ID', async () => {
    const mark = captured.length;
    const res = await handlers.http(
      httpEvent(JSON.stringify(body()), { headers: { 'idempotency-key': randomUUID() } }),
      lambdaContext(REMAINING_MS),
    );
    const id = JSON.parse(String(res.body)).data.conversation_id as string;
    const lines = captured.slice(mark).filter((l) => !/"level":\s*"DEBUG"/.test(l));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ conversation_id: id, attempts: '1', ConversationsCreated: 1 });
    expect(JSON.parse(lines[0]!).request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("name their message on a queue: one line per record, and no record's IDs on the batch's metrics line", async () => {
    const mark = captured.length;
    const event = sqsEvent([JSON.stringify(body()), JSON.stringify(body())]);
    expect(await handlers.queue(event, lambdaContext(REMAINING_MS))).toEqual({ batchItemFailures: [] });
    const lines = captured
      .slice(mark)
      .filter((l) => !/"level":\s*"DEBUG"/.test(l))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const records = lines.filter((l) => l.message === 'record succeeded');
    expect(records.map((l) => l.message_id).sort()).toEqual(event.Records.map((r) => r.messageId).sort());
    for (const l of records) expect(l.conversation_id).toMatch(/^[0-9a-f-]{36}$/);
    const metricsLine = lines.find((l) => l.ConversationsCreated !== undefined)!;
    expect([metricsLine.ConversationsCreated].flat().reduce((a, b) => Number(a) + Number(b), 0)).toBe(2);
    expect(metricsLine.conversation_id).toBeUndefined();
  });
});

describe('secrets never leak', () => {
  it('no key material or token appears in anything the functions logged or answered', () => {
    const seeds = [h.bot.seedHex];
    const forms = seeds.flatMap((hex) => {
      const bytes = Buffer.from(hex, 'hex');
      return [
        hex,
        hex.toUpperCase(),
        bytes.toString('base64'),
        bytes.toString('base64url'),
        bytes.toString('base64').slice(0, 40),
      ];
    });
    const tokens = h.sandbox.requests.map((r) => r.token).filter((t): t is string => !!t);
    const text = captured.join('\n');
    expect(captured.length).toBeGreaterThan(50);
    expect(text).toContain('ConversationsCreated'); // metrics were emitted, so they were scanned too
    for (const secret of forms) expect(text).not.toContain(secret);
    for (const token of tokens) expect(text).not.toContain(token.split('.')[2]!);
    expect(text).not.toMatch(/Bearer /);
  });
});
