import { MixinRequestError, MixinUnavailableError } from '../lib/errors';
import {
  backoffDelay,
  classifyResponse,
  classifyTransportFailure,
  isRetryable,
  MAX_RETRY_AFTER_SECONDS,
  needsFreshKeystore,
  RETRY_RULES,
  WHEN_PAUSED,
} from '../lib/mixin/retry';

/**
 * The retry table of lib/mixin/retry.ts, one answer at a time: every rule the retry loop relies on, held here as data
 * (the sandbox tests show the same rules end to end, this file shows each edge of each rule).
 */
const envelope = (error: Record<string, unknown>) => JSON.stringify({ error });

describe('classifyResponse: a 2xx with Mixin data', () => {
  it.each([200, 201, 202, 299])('HTTP %i with an object `data` is a success carrying that data', (status) => {
    expect(classifyResponse(status, JSON.stringify({ data: { a: 1 } }), undefined)).toEqual({
      kind: 'success',
      data: { a: 1 },
    });
  });

  it.each([
    ['an array', '{"data":[1]}'],
    ['null', '{"data":null}'],
    ['a string', '{"data":"x"}'],
    ['no data at all', '{}'],
    ['JSON null', 'null'],
    ['not JSON', 'not json'],
  ])('a 200 whose data is %s is a bad response naming the status', (_label, body) => {
    expect(classifyResponse(200, body, undefined)).toEqual({
      kind: 'unavailable',
      reason: 'bad-response',
      message: 'Mixin answered HTTP 200 with a body that is not a Mixin response',
    });
  });
});

describe('classifyResponse: without Mixin envelope, the HTTP status decides', () => {
  it.each([500, 502, 599])('HTTP %i is a server error', (status) => {
    expect(classifyResponse(status, '<html>oops</html>', undefined)).toEqual({
      kind: 'unavailable',
      reason: 'server-error',
      message: `Mixin answered HTTP ${status}`,
    });
  });

  it.each([199, 300, 302, 401, 403, 404, 499])('HTTP %i is a bad response, never a Mixin code', (status) => {
    expect(classifyResponse(status, JSON.stringify({ data: { a: 1 } }), undefined)).toEqual({
      kind: 'unavailable',
      reason: 'bad-response',
      message: `HTTP ${status} without a Mixin response body`,
    });
  });

  it.each([
    ['an error that is not an object', { error: 'x' }],
    ['an error of null', { error: null }],
    ['an error without a numeric code', { error: { code: '401', description: 'x' } }],
  ])('%s is no envelope', (_label, body) => {
    expect(classifyResponse(403, JSON.stringify(body), undefined)).toMatchObject({ kind: 'unavailable' });
  });
});

describe('classifyResponse: Mixin envelope, its code decides whatever the status', () => {
  it.each([500, 7000, 7001])('code %i is a server error, retried', (code) => {
    expect(classifyResponse(202, envelope({ code, description: 'x' }), undefined)).toEqual({
      kind: 'unavailable',
      reason: 'server-error',
      message: `Mixin answered HTTP 202 code ${code}`,
    });
  });

  it.each([401, 403, 10002, 20116, 7002, 499])(
    'code %i is a final rejection with its description and extra',
    (code) => {
      expect(classifyResponse(500, envelope({ code, description: 'no', extra: { f: 1 } }), undefined)).toEqual({
        kind: 'rejected',
        code,
        description: 'no',
        extra: { f: 1 },
      });
    },
  );

  it('an envelope without a description (or with a non-string one) is rejected with an empty description', () => {
    expect(classifyResponse(202, envelope({ code: 10002 }), undefined)).toEqual({
      kind: 'rejected',
      code: 10002,
      description: '',
      extra: undefined,
    });
    expect(classifyResponse(202, envelope({ code: 10002, description: 7 }), undefined)).toMatchObject({
      description: '',
    });
  });

  it('code 429 in a 202, and HTTP 429 without an envelope, are rate limits', () => {
    expect(classifyResponse(202, envelope({ code: 429 }), undefined)).toEqual({
      kind: 'rate-limited',
      retryAfterMs: undefined,
    });
    expect(classifyResponse(429, 'Too Many Requests', undefined)).toEqual({
      kind: 'rate-limited',
      retryAfterMs: undefined,
    });
    expect(classifyResponse(429, envelope({ code: 10002 }), undefined)).toMatchObject({ kind: 'rate-limited' });
  });
});

describe('Retry-After', () => {
  const after = (header: string | undefined) =>
    (classifyResponse(429, '', header) as { retryAfterMs: number | undefined }).retryAfterMs;

  it('whole seconds are read, around spaces, in milliseconds', () => {
    expect(after('5')).toBe(5_000);
    expect(after(' 7 ')).toBe(7_000);
    expect(after('0')).toBe(0);
  });

  it(`is clamped to ${MAX_RETRY_AFTER_SECONDS} s`, () => {
    expect(MAX_RETRY_AFTER_SECONDS).toBe(300);
    expect(after('300')).toBe(300_000);
    expect(after('301')).toBe(300_000);
    expect(after('999999999999')).toBe(300_000);
  });

  it.each(['5x', 'x5', '1.5', '-1', '', ' ', 'Wed, 21 Oct 2026 07:28:00 GMT', '5 5'])(
    'junk %p is ignored',
    (header) => {
      expect(after(header)).toBeUndefined();
    },
  );

  it('no header is none', () => {
    expect(after(undefined)).toBeUndefined();
  });
});

describe('classifyTransportFailure', () => {
  const failure = (kind: 'network' | 'timeout' | 'too-large') => ({ kind, message: 'boom' });

  it('a network failure stays a network failure, cut or not', () => {
    for (const cut of [false, true])
      expect(classifyTransportFailure(failure('network'), cut, 'deadline')).toEqual({
        kind: 'unavailable',
        reason: 'network',
        message: 'Mixin did not answer: boom',
      });
  });

  it('a timeout is our deadline (or the batch reserve) only when the attempt was cut short', () => {
    expect(classifyTransportFailure(failure('timeout'), false, 'deadline')).toMatchObject({ reason: 'timeout' });
    expect(classifyTransportFailure(failure('timeout'), true, 'deadline')).toMatchObject({ reason: 'deadline' });
    expect(classifyTransportFailure(failure('timeout'), true, 'batch-reserve')).toMatchObject({
      reason: 'batch-reserve',
    });
  });

  it('an answer over the size limit is a bad response', () => {
    for (const cut of [false, true])
      expect(classifyTransportFailure(failure('too-large'), cut, 'deadline')).toMatchObject({
        reason: 'bad-response',
      });
  });
});

describe('which endings are retried, and how they wait', () => {
  it('only rate limits and unavailability are retried', () => {
    expect(isRetryable({ kind: 'success', data: {} })).toBe(false);
    expect(isRetryable({ kind: 'rejected', code: 10002, description: '', extra: undefined })).toBe(false);
    expect(isRetryable({ kind: 'rate-limited', retryAfterMs: undefined })).toBe(true);
    expect(isRetryable({ kind: 'unavailable', reason: 'network', message: '' })).toBe(true);
  });

  it('a 429 waits for the rate limiter, any other failure for the backoff', () => {
    expect(RETRY_RULES['rate-limited'].wait).toBe('rate-limiter');
    expect(RETRY_RULES.unavailable.wait).toBe('backoff');
    expect(RETRY_RULES.success.wait).toBe('none');
    expect(RETRY_RULES.rejected.wait).toBe('none');
  });

  it('a paused instance makes a queue record wait and refuses a request', () => {
    expect(WHEN_PAUSED).toEqual({ queue: 'wait', request: 'refuse' });
  });

  it('only a 401 rejection is worth a fresh keystore', () => {
    expect(needsFreshKeystore(new MixinRequestError(401, 'unauthorized', undefined, 1))).toBe(true);
    expect(needsFreshKeystore(new MixinRequestError(403, 'forbidden', undefined, 1))).toBe(false);
    expect(needsFreshKeystore(new MixinRequestError(10002, 'bad', undefined, 1))).toBe(false);
    expect(needsFreshKeystore(new MixinUnavailableError('network', 'x', 1))).toBe(false);
    expect(needsFreshKeystore({ code: 401 })).toBe(false);
  });
});

describe('backoffDelay: full jitter', () => {
  const options = (random: number) => ({ baseMs: 100, capMs: 2_000, random: () => random });

  it('doubles the window with each attempt, from the base', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, options(0.5)))).toEqual([50, 100, 200, 400, 800]);
  });

  it('never passes the cap', () => {
    expect(backoffDelay(6, options(0.5))).toBe(1_000);
    expect(backoffDelay(30, options(0.999))).toBe(1_998);
  });

  it('is a whole number of ms from 0 (random 0) up to below the window', () => {
    expect(backoffDelay(3, options(0))).toBe(0);
    expect(backoffDelay(3, options(0.9999))).toBe(399);
  });
});
