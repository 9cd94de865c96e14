/**
 * Property-based tests (fast-check) on all six entry points: HTTP, queue and workflow, for groups and contacts.
 *
 * For input that is the caller's mistake, whatever it is:
 *   - nothing crashes: no 5xx, no unhandled rejection (jest-circus fails the test on one), no ERROR log line;
 *   - nothing reaches Mixin: the sandbox receives no POST;
 *   - the answer names the offending field: HTTP `error.details[].field` (400; 413/415 for the envelope),
 *     workflow a thrown InvalidRequestError with `details[].field`, queue the record in `batchItemFailures`
 *     (and the field in its `record failed` log line).
 * Near-misses are generated from a valid request and the exact field is asserted. A few positive properties
 * keep the oracles honest: valid requests, whatever their JSON formatting, are created.
 */
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import fc from 'fast-check';
import { fieldPath } from '../lib/field-path';
import type { Conversation } from '../lib/mixin/conversation';
import { type Harness, httpEvent, lambdaContext, type LambdaHandler, sqsEvent, startHarness } from './support/harness';

type Http = LambdaHandler<unknown, APIGatewayProxyStructuredResultV2>;
type Queue = LambdaHandler<unknown, SQSBatchResponse>;
type Task = LambdaHandler<unknown, Conversation>;
type Category = 'group' | 'contact';
type Trigger = 'http' | 'queue' | 'workflow';
type Json = unknown;
interface Detail {
  field: string;
  message: string;
}

let h: Harness;
let bot: string;
const http = {} as Record<Category, Http>;
const queue = {} as Record<Category, Queue>;
const workflow = {} as Record<Category, Task>;

/** Log lines of the handlers (WARN and above), parsed; ERROR lines mean a bug (an error we did not raise on purpose). */
const logs: Record<string, unknown>[] = [];
const errorLogs = () => logs.filter((l) => l.level === 'ERROR' || l.level === 'CRITICAL');
const capture = (line: unknown) => {
  try {
    logs.push(JSON.parse(String(line)) as Record<string, unknown>);
  } catch {
    logs.push({ level: 'ERROR', message: String(line) });
  }
};

/** Cases run, summed over every property (shrinking runs included when a property fails). */
let cases = 0;
const check = async <T>(
  arb: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void>,
  numRuns: number,
): Promise<void> => {
  await fc.assert(
    fc.asyncProperty(arb, async (value) => {
      // Let the event loop poll I/O between cases: a long run of cases that never touch the network would otherwise
      // starve sockets (the keystore prefetches) and set off the AWS SDK's "exceeded requestTimeout" warning.
      await new Promise(setImmediate);
      logs.length = 0;
      await predicate(value);
      cases++;
    }),
    { numRuns },
  );
};

beforeAll(async () => {
  // WARN: the queue reports a record's problem only in its log line; ERROR lines would reveal a crash.
  h = await startHarness({ POWERTOOLS_LOG_LEVEL: 'WARN', QUEUE_CONCURRENCY: '5', MIXIN_MAX_ATTEMPTS: '1' });
  jest.spyOn(console, 'warn').mockImplementation(capture);
  jest.spyOn(console, 'error').mockImplementation(capture);
  bot = h.bot.keystore.appId;
  for (const category of ['group', 'contact'] as const) {
    http[category] = h.load<{ handler: Http }>(`../../functions/create-${category}/http`).handler;
    queue[category] = h.load<{ handler: Queue }>(`../../functions/create-${category}/queue`).handler;
    workflow[category] = h.load<{ handler: Task }>(`../../functions/create-${category}/workflow`).handler;
  }
});
beforeEach(() => {
  logs.length = 0;
});
afterAll(async () => {
  console.log(`properties.test.ts: ${cases} fast-check cases run`);
  jest.restoreAllMocks();
  await h.stop();
});

// ---------------------------------------------------------------------------------------------------------------
// Driving the entry points

/** What a test sends: a value (JSON-encoded for HTTP and queue, as is for a workflow) or raw text / bytes. */
type Input = { value: Json } | { text: string } | { bytes: Buffer };

const textOf = (input: Input): string =>
  'value' in input ? JSON.stringify(input.value) : 'text' in input ? input.text : input.bytes.toString('utf8');

interface HttpAnswer {
  status: number;
  body: { error?: { code: string; message: string; details?: Detail[] }; data?: Conversation };
  posted: number;
}

const callHttp = async (
  category: Category,
  input: Input,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> => {
  const before = h.sandbox.postCount;
  const event =
    'bytes' in input
      ? httpEvent(input.bytes.toString('base64'), { headers, isBase64Encoded: true })
      : httpEvent(textOf(input), { headers });
  const res = await http[category](event, lambdaContext());
  return { status: res.statusCode ?? 0, body: JSON.parse(String(res.body)), posted: h.sandbox.postCount - before };
};

const fieldsOf = (details: Detail[] | undefined): string[] => (details ?? []).map((d) => d.field).sort();

/** Every problem names a field, and, when `fields` is given, exactly those fields. */
const expectNamed = (details: Detail[] | undefined, fields?: string[]) => {
  expect(Array.isArray(details) && details.length > 0).toBe(true);
  for (const d of details!) {
    expect(typeof d.field).toBe('string');
    expect(d.field.length).toBeGreaterThan(0);
    expect(typeof d.message).toBe('string');
  }
  if (fields) expect(fieldsOf(details)).toEqual([...fields].sort());
};

/** HTTP: a 400 naming the fields (or 413/415 for the envelope), no call to Mixin, no crash. */
const httpRejects = async (
  category: Category,
  input: Input,
  fields?: string[],
  headers?: Record<string, string>,
): Promise<HttpAnswer> => {
  const res = await callHttp(category, input, headers);
  expect(res.posted).toBe(0);
  expect(errorLogs()).toEqual([]);
  expect([400, 413, 415]).toContain(res.status);
  if (res.status === 400) {
    expect(res.body.error?.code).toBe('invalid_request');
    expectNamed(res.body.error?.details, fields);
  }
  return res;
};

/** Queue: the record (and only it) is in batchItemFailures, reported as a non-retryable InvalidRequestError naming the fields. */
const queueRejects = async (category: Category, input: Input, fields?: string[]): Promise<void> => {
  const before = h.sandbox.postCount;
  const event = sqsEvent([textOf(input)]);
  const id = event.Records[0]!.messageId;
  const res = await queue[category](event, lambdaContext());
  expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: id }] });
  expect(h.sandbox.postCount - before).toBe(0);
  expect(errorLogs()).toEqual([]);
  const line = logs.find((l) => l.message === 'record failed' && l.message_id === id);
  expect(line).toMatchObject({ error_name: 'InvalidRequestError', retryable: false });
  expectNamed(line?.details as Detail[] | undefined, fields);
};

/** Workflow: throws InvalidRequestError (not retryable) naming the fields; no call to Mixin. */
const workflowRejects = async (category: Category, value: unknown, fields?: string[]): Promise<void> => {
  const before = h.sandbox.postCount;
  let thrown: unknown;
  try {
    await workflow[category](value, lambdaContext());
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(Error);
  const error = thrown as Error & { retryable?: boolean; details?: Detail[] };
  expect(error.name).toBe('InvalidRequestError');
  expect(error.retryable).toBe(false);
  expectNamed(error.details, fields);
  expect(h.sandbox.postCount - before).toBe(0);
  expect(errorLogs()).toEqual([]);
};

/** The same invalid value through one trigger. */
const rejects = async (trigger: Trigger, category: Category, value: Json, fields?: string[]): Promise<void> => {
  if (trigger === 'http') await httpRejects(category, { value }, fields);
  else if (trigger === 'queue') await queueRejects(category, { value }, fields);
  else await workflowRejects(category, value, fields);
};

// ---------------------------------------------------------------------------------------------------------------
// Generators

const role = fc.constantFrom('', 'ADMIN');
const uuid = fc.uuid().chain((u) => fc.constantFrom(u, u.toUpperCase()));
const groupParticipant = fc.record({ user_id: uuid, role }, { requiredKeys: ['user_id'] });
const participantsOf = <T extends { user_id: string }>(item: fc.Arbitrary<T>, min: number, max: number) =>
  fc.uniqueArray(item, { minLength: min, maxLength: max, selector: (p) => p.user_id.toLowerCase() });

type GroupBody = {
  name: string;
  participants: { user_id: string; role?: string }[];
  announcement?: string;
  random_id?: string;
};
type ContactBody = { participants: { user_id: string }[] };

/** Any string made a valid group name (lib/schemas/patterns.mjs): a visible first character, no control character, no unpaired surrogate. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what a name may not hold
const NOT_IN_NAMES = /[\u0000-\u001F\u007F-\u009F\uD800-\uDFFF]/gu;
const asName = (s: string) => `x${s.replace(NOT_IN_NAMES, 'x')}`;

/** A valid group request. Strings include quotes, braces and escapes, to tempt the duplicate-key scanner. */
const validGroup: fc.Arbitrary<GroupBody> = fc.record(
  {
    name: fc.string({ unit: 'binary', maxLength: 39 }).map(asName),
    participants: participantsOf(groupParticipant, 1, 6),
    announcement: fc
      .oneof(fc.string({ maxLength: 60 }), fc.json({ maxDepth: 2 }))
      .map((s) => s.replace(NOT_IN_NAMES, ' ')),
    random_id: uuid,
  },
  { requiredKeys: ['name', 'participants'] },
);
const validContact: fc.Arbitrary<ContactBody> = fc.record({ participants: fc.tuple(fc.record({ user_id: uuid })) });
const valid = (category: Category): fc.Arbitrary<GroupBody | ContactBody> =>
  category === 'group' ? validGroup : validContact;

const TRIGGERS: Trigger[] = ['http', 'queue', 'workflow'];
const CATEGORIES: Category[] = ['group', 'contact'];
const ENTRY_POINTS = TRIGGERS.flatMap((trigger) => CATEGORIES.map((category) => [trigger, category] as const));

const anyJson = fc.jsonValue({ maxDepth: 3 });
const notString = anyJson.filter((v) => typeof v !== 'string');
const notArray = anyJson.filter((v) => !Array.isArray(v));
const notObject = anyJson.filter((v) => v === null || typeof v !== 'object' || Array.isArray(v));
const notRole = anyJson.filter((v) => v !== '' && v !== 'ADMIN');

const UUID_HYPHENS = new Set([8, 13, 18, 23]);
const HEX = /^[0-9a-fA-F]$/;
/** A UUID one character off: one character replaced by one that does not fit there, deleted, or inserted. */
const uuidOffByOne = (id: string) =>
  fc
    .tuple(
      fc.nat(35),
      fc.constantFrom('replace', 'delete', 'insert'),
      fc.constantFrom('g', 'x', 'Z', '-', ' ', '0', 'a', 'é', '😀', '\u0000', '\n'),
    )
    .map(([at, op, c]) => {
      if (op === 'delete') return id.slice(0, at) + id.slice(at + 1);
      if (op === 'insert') return id.slice(0, at) + c + id.slice(at);
      const fits = UUID_HYPHENS.has(at) ? c === '-' : HEX.test(c);
      return id.slice(0, at) + (fits ? 'g' : c) + id.slice(at + 1);
    });

/** Keys that are not fields of the schema, unusual ones included (empty, digits, dots, brackets). */
const unknownKey = (allowed: string[]) =>
  fc
    .oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.constantFrom(
        '',
        '0',
        '17',
        '__proto__',
        'constructor',
        'toString',
        'a.b',
        'x[0]',
        'a/b',
        '~1',
        'idempotency_key',
        'Name',
        'name ',
      ),
    )
    .filter((k) => !allowed.includes(k));

/** A deep copy that keeps `__proto__` as an own key (JSON round trip, like a parsed body). */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
/** Sets an own property, even `__proto__`. */
const setOwn = (target: object, key: string, value: unknown) =>
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });

interface NearMiss {
  label: string;
  value: Json;
  fields: string[];
}

const fieldsAllowed = (category: Category, trigger: Trigger): string[] => {
  const base =
    category === 'group' ? ['name', 'participants', 'announcement', 'random_id', 'conversation_id'] : ['participants'];
  return trigger === 'workflow' ? [...base, 'idempotency_key'] : base;
};

/** Near-misses of a valid group: one thing wrong, and the field that must be named. */
const groupNearMiss = (trigger: Trigger): fc.Arbitrary<NearMiss> => {
  const withIndex = fc.tuple(validGroup, fc.nat());
  const at = (g: GroupBody, n: number) => n % g.participants.length;
  const misses: fc.Arbitrary<NearMiss>[] = [
    withIndex.chain(([g, n]) =>
      uuidOffByOne(g.participants[at(g, n)]!.user_id).map((bad) => {
        const v = copy(g);
        v.participants[at(g, n)]!.user_id = bad;
        return { label: 'uuid one character off', value: v, fields: [`participants[${at(g, n)}].user_id`] };
      }),
    ),
    fc.tuple(validGroup, fc.integer({ min: 257, max: 300 }), fc.uuid()).map(([g, count, seed]) => ({
      label: `${count} participants`,
      value: {
        ...g,
        participants: Array.from({ length: count }, (_, i) => ({
          user_id: `${seed.slice(0, 24)}${i.toString(16).padStart(12, '0')}`,
        })),
      },
      fields: ['participants'],
    })),
    fc.tuple(validGroup, fc.string({ unit: 'binary', minLength: 512, maxLength: 600 })).map(([g, name]) => ({
      label: 'name over 512 code points',
      value: { ...g, name: asName(name) },
      fields: ['name'],
    })),
    validGroup.map((g) => ({ label: 'empty name', value: { ...g, name: '' }, fields: ['name'] })),
    validGroup.map((g) => ({ label: 'no participants', value: { ...g, participants: [] }, fields: ['participants'] })),
    fc.tuple(validGroup, fc.constantFrom('name', 'participants')).map(([g, key]) => {
      const v: Record<string, unknown> = copy(g);
      delete v[key];
      return { label: `missing ${key}`, value: v, fields: [fieldPath([key])] };
    }),
    withIndex.map(([g, n]) => {
      const v = copy(g);
      delete (v.participants[at(g, n)] as { user_id?: string }).user_id;
      return { label: 'participant without user_id', value: v, fields: [`participants[${at(g, n)}].user_id`] };
    }),
    fc.tuple(withIndex, notRole).map(([[g, n], r]) => {
      const v = copy(g);
      (v.participants[at(g, n)] as Record<string, unknown>).role = r;
      return { label: 'bad role', value: v, fields: [`participants[${at(g, n)}].role`] };
    }),
    fc.tuple(validGroup, fc.string({ unit: 'binary', minLength: 4097, maxLength: 4200 })).map(([g, a]) => ({
      label: 'announcement over 4096',
      value: { ...g, announcement: a },
      fields: ['announcement'],
    })),
    // Several fields of the wrong type at once: each is named, and only those.
    fc
      .tuple(
        withIndex,
        fc.record(
          {
            name: notString,
            participants: notArray,
            announcement: notString,
            random_id: notString,
            conversation_id: notString,
            item: notObject,
            user_id: notString,
            role: notRole,
          },
          { requiredKeys: [] },
        ),
      )
      .filter(([, wrong]) => Object.keys(wrong).length > 0)
      .map(([[g, n], wrong]) => {
        const v: Record<string, unknown> = copy(g);
        const fields: string[] = [];
        for (const key of ['name', 'participants', 'announcement', 'random_id', 'conversation_id'] as const) {
          if (key in wrong) {
            v[key] = wrong[key];
            fields.push(key);
          }
        }
        if (!('participants' in wrong)) {
          const i = at(g, n);
          const items = v.participants as unknown[];
          if ('item' in wrong) {
            items[i] = wrong.item;
            fields.push(`participants[${i}]`);
          } else {
            for (const key of ['user_id', 'role'] as const) {
              if (key in wrong) {
                (items[i] as Record<string, unknown>)[key] = wrong[key];
                fields.push(`participants[${i}].${key}`);
              }
            }
          }
        }
        return { label: `wrong types: ${fields.join(', ')}`, value: v, fields };
      })
      .filter((m) => m.fields.length > 0),
    fc
      .tuple(withIndex, unknownKey(fieldsAllowed('group', trigger)), anyJson, fc.boolean())
      .map(([[g, n], key, value, nested]) => {
        const v = copy(g);
        if (nested) {
          const i = at(g, n);
          if (['user_id', 'role'].includes(key)) return { label: 'no-op', value: v, fields: [] };
          setOwn(v.participants[i]!, key, value);
          return {
            label: `unknown participant field ${JSON.stringify(key)}`,
            value: v,
            fields: [fieldPath(['participants', i, key])],
          };
        }
        setOwn(v, key, value);
        return { label: `unknown field ${JSON.stringify(key)}`, value: v, fields: [fieldPath([key])] };
      }),
    // Checks after the schema: the same user twice (any case), only the bot, conversation_id with random_id.
    withIndex.map(([g, n]) => {
      const v = copy(g);
      const to = v.participants.length;
      v.participants.push({ user_id: v.participants[at(g, n)]!.user_id.toUpperCase() });
      return { label: 'duplicate participant', value: v, fields: [`participants[${to}].user_id`] };
    }),
    validGroup.map((g) => ({
      label: 'only the bot',
      value: { ...g, participants: [{ user_id: bot.toUpperCase() }] },
      fields: ['participants'],
    })),
    fc.tuple(validGroup, fc.uuid(), fc.uuid()).map(([g, r, c]) => ({
      label: 'conversation_id with random_id',
      value: { ...g, random_id: r, conversation_id: c },
      fields: ['conversation_id'],
    })),
  ];
  if (trigger === 'workflow') {
    misses.push(
      fc
        .tuple(validGroup, fc.oneof(notString, fc.constant(''), fc.string({ minLength: 257, maxLength: 300 })))
        .map(([g, key]) => ({
          label: 'bad idempotency_key',
          value: { ...g, idempotency_key: key },
          fields: ['idempotency_key'],
        })),
    );
  }
  return fc.oneof(...misses).filter((m) => m.fields.length > 0);
};

/** Near-misses of a valid contact. */
const contactNearMiss = (trigger: Trigger): fc.Arbitrary<NearMiss> => {
  const misses: fc.Arbitrary<NearMiss>[] = [
    validContact.chain((c) =>
      uuidOffByOne(c.participants[0]!.user_id).map((bad) => ({
        label: 'uuid one character off',
        value: { participants: [{ user_id: bad }] },
        fields: ['participants[0].user_id'],
      })),
    ),
    participantsOf(fc.record({ user_id: uuid }), 2, 6).map((ps) => ({
      label: `${ps.length} participants`,
      value: { participants: ps },
      fields: ['participants'],
    })),
    fc.constant({ label: 'no participants', value: { participants: [] }, fields: ['participants'] }),
    fc.constant({ label: 'missing participants', value: {}, fields: ['participants'] }),
    fc.constant({
      label: 'participant without user_id',
      value: { participants: [{}] },
      fields: ['participants[0].user_id'],
    }),
    fc.constant(null).map(() => ({
      label: 'the bot itself',
      value: { participants: [{ user_id: bot.toUpperCase() }] },
      fields: ['participants[0].user_id'],
    })),
    fc
      .tuple(validContact, notArray)
      .map(([, p]) => ({ label: 'participants not an array', value: { participants: p }, fields: ['participants'] })),
    notObject.map((p) => ({
      label: 'participant not an object',
      value: { participants: [p] },
      fields: ['participants[0]'],
    })),
    notString.map((u) => ({
      label: 'user_id not a string',
      value: { participants: [{ user_id: u }] },
      fields: ['participants[0].user_id'],
    })),
    fc.tuple(validContact, role).map(([c, r]) => ({
      label: 'a role',
      value: { participants: [{ ...c.participants[0]!, role: r }] },
      fields: ['participants[0].role'],
    })),
    fc
      .tuple(validContact, unknownKey(fieldsAllowed('contact', trigger)), anyJson, fc.boolean())
      .map(([c, key, value, nested]) => {
        const v = copy(c);
        if (nested) {
          if (key === 'user_id') return { label: 'no-op', value: v, fields: [] };
          setOwn(v.participants[0]!, key, value);
          return {
            label: `unknown participant field ${JSON.stringify(key)}`,
            value: v,
            fields: [fieldPath(['participants', 0, key])],
          };
        }
        setOwn(v, key, value);
        return { label: `unknown field ${JSON.stringify(key)}`, value: v, fields: [fieldPath([key])] };
      }),
  ];
  if (trigger === 'workflow') {
    misses.push(
      fc
        .tuple(validContact, fc.oneof(notString, fc.constant(''), fc.string({ minLength: 257, maxLength: 300 })))
        .map(([c, key]) => ({
          label: 'bad idempotency_key',
          value: { ...c, idempotency_key: key },
          fields: ['idempotency_key'],
        })),
    );
  }
  return fc.oneof(...misses).filter((m) => m.fields.length > 0);
};

const nearMiss = (category: Category, trigger: Trigger) =>
  category === 'group' ? groupNearMiss(trigger) : contactNearMiss(trigger);

// ---------------------------------------------------------------------------------------------------------------
// Properties

describe.each(ENTRY_POINTS)('%s create-%s', (trigger, category) => {
  it('rejects any JSON value, naming a field, without calling Mixin', async () => {
    await check(anyJson, (value) => rejects(trigger, category, value), 150);
  });

  it('rejects near-misses of a valid request, naming exactly the offending field', async () => {
    await check(nearMiss(category, trigger), (miss) => rejects(trigger, category, miss.value, miss.fields), 250);
  });

  if (trigger === 'workflow') {
    it('rejects anything at all as a task input (not only JSON), naming a field', async () => {
      await check(
        fc.anything({ withNullPrototype: true, withBoxedValues: true, withSparseArray: true, maxDepth: 3 }),
        (value) => workflowRejects(category, value),
        150,
      );
    });
  } else {
    it('rejects any string as the body, naming the body or a field', async () => {
      const text = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 80 }),
        fc.string({ maxLength: 80 }),
        fc.json({ maxDepth: 2 }).map((j) => j.slice(0, -1)),
      );
      await check(
        text,
        (t) =>
          trigger === 'http'
            ? httpRejects(category, { text: t }).then(() => undefined)
            : queueRejects(category, { text: t }),
        150,
      );
    });

    it('rejects a duplicated key in the JSON text, naming the duplicated field', async () => {
      const spelled = (key: string, escaped: boolean) =>
        escaped ? `"\\u${key.charCodeAt(0).toString(16).padStart(4, '0')}${key.slice(1)}"` : JSON.stringify(key);
      const arb = fc
        .tuple(valid(category), fc.nat(), fc.boolean(), fc.boolean(), anyJson)
        .map(([body, n, nested, escaped, first]) => {
          const b = body as { participants: Record<string, unknown>[] } & Record<string, unknown>;
          if (nested) {
            const i = n % b.participants.length;
            const items = b.participants.map((p, j) =>
              j === i
                ? `{${spelled('user_id', escaped)}:${JSON.stringify(first)},${JSON.stringify(p).slice(1)}`
                : JSON.stringify(p),
            );
            const entries = Object.entries(b).map(
              ([k, v]) => `${JSON.stringify(k)}:${k === 'participants' ? `[${items.join(',')}]` : JSON.stringify(v)}`,
            );
            return { text: `{${entries.join(',')}}`, field: `participants[${i}].user_id` };
          }
          const key = Object.keys(b)[n % Object.keys(b).length]!;
          return {
            text: `{${spelled(key, escaped)}:${JSON.stringify(first)},${JSON.stringify(b).slice(1)}`,
            field: key,
          };
        });
      await check(
        arb,
        async ({ text, field }) => {
          if (trigger === 'http') {
            const res = await httpRejects(category, { text }, [field]);
            expect(res.status).toBe(400);
            expect(res.body.error?.details).toEqual([{ field, message: 'appears more than once in the JSON object' }]);
          } else {
            await queueRejects(category, { text }, [field]);
          }
        },
        100,
      );
    });
  }

  it('rejects huge inputs (over 64 KB): 413 over HTTP, the field elsewhere', async () => {
    const padding = fc.tuple(fc.integer({ min: 65_537, max: 90_000 }), fc.constantFrom('x', 'é', '😀', '"', '\\'));
    const arb = fc
      .tuple(valid(category), padding, fc.constantFrom('name', 'announcement', 'padding'))
      .map(([body, [bytes, c], where]) => {
        const fill = c.repeat(Math.ceil(bytes / Buffer.byteLength(c)));
        const field = category === 'contact' && where !== 'padding' ? 'padding' : where;
        return { value: { ...body, [field]: fill }, field };
      });
    await check(
      arb,
      async ({ value, field }) => {
        if (trigger === 'http') {
          const res = await httpRejects(category, { value });
          expect(res.status).toBe(413);
          expect(res.body.error?.code).toBe('body_too_large');
        } else {
          await rejects(trigger, category, value, [field]);
        }
      },
      15,
    );
  });
});

describe.each(CATEGORIES)('http create-%s: the HTTP envelope', (category) => {
  it('400 "is not valid UTF-8" for a base64 body with invalid UTF-8 bytes anywhere', async () => {
    const bad = fc.constantFrom(
      [0xff],
      [0xfe],
      [0x80],
      [0xbf],
      [0xc3, 0x28],
      [0xc0, 0xaf],
      [0xc1, 0xbf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xed, 0xbf, 0xbf],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf0, 0x9f, 0x98],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
    );
    const arb = fc.tuple(valid(category), fc.nat(), bad).map(([body, n, seq]) => {
      const text = Buffer.from(JSON.stringify(body), 'utf8');
      const at = n % (text.length + 1);
      return Buffer.concat([text.subarray(0, at), Buffer.from(seq), text.subarray(at)]);
    });
    const strict = new TextDecoder('utf-8', { fatal: true });
    await check(
      arb,
      async (bytes) => {
        let decodes = true;
        try {
          strict.decode(bytes);
        } catch {
          decodes = false;
        }
        fc.pre(!decodes);
        const res = await httpRejects(category, { bytes });
        expect(res.status).toBe(400);
        expect(res.body.error?.details).toEqual([{ field: 'body', message: 'is not valid UTF-8' }]);
      },
      100,
    );
  });

  it('415 for any Content-Type that is not JSON, before anything else', async () => {
    const type = fc
      .oneof(
        fc.string({ maxLength: 40 }),
        fc.constantFrom(
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data',
          'application/xml',
          '',
          'json',
          'application/jsonp',
          'text/json',
        ),
      )
      .filter((t) => !/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(t));
    await check(
      fc.tuple(valid(category), type),
      async ([body, contentType]) => {
        const res = await httpRejects(category, { value: body }, undefined, { 'content-type': contentType });
        expect(res.status).toBe(415);
        expect(res.body.error?.code).toBe('unsupported_media_type');
      },
      100,
    );
  });

  if (category === 'group') {
    it('400 naming Idempotency-Key when it is empty or over 256 characters', async () => {
      await check(
        fc.tuple(validGroup, fc.oneof(fc.constant(''), fc.string({ minLength: 257, maxLength: 400 }))),
        async ([body, key]) => {
          await httpRejects('group', { value: body }, ['Idempotency-Key'], { 'idempotency-key': key });
        },
        50,
      );
    });
  }

  it('201 for valid requests however the JSON is written (indentation, escaped keys, base64), one call to Mixin', async () => {
    const escapeKeys = (text: string) =>
      text.replace(
        /"(name|participants|user_id|role|announcement|random_id)":/g,
        (_m, key: string) => `"\\u00${key.charCodeAt(0).toString(16)}${key.slice(1)}":`,
      );
    const arb = fc.tuple(
      valid(category),
      fc.constantFrom(undefined, 0, 2, '\t', ' \r\n'),
      fc.boolean(),
      fc.boolean(),
      fc.uuid(),
    );
    await check(
      arb,
      async ([body, indent, escaped, base64, key]) => {
        let text = JSON.stringify(body, null, indent);
        // Only keys are re-spelled: a value that happens to contain `"name":` is left alone by the JSON round trip check below.
        if (escaped) {
          const respelled = escapeKeys(text);
          text = JSON.stringify(JSON.parse(respelled)) === JSON.stringify(body) ? respelled : text;
        }
        const input: Input = base64 ? { bytes: Buffer.from(text, 'utf8') } : { text };
        const res = await callHttp(category, input, category === 'group' ? { 'idempotency-key': key } : {});
        expect(errorLogs()).toEqual([]);
        expect(res.body.error).toBeUndefined();
        expect(res.status).toBe(201);
        expect(res.posted).toBe(1);
        expect(h.sandbox.conversations.has(res.body.data!.conversation_id)).toBe(true);
      },
      40,
    );
  });
});

describe('boundaries', () => {
  it('a body of exactly 64 KB is accepted over HTTP, one byte more is 413', async () => {
    const body = { name: '😀'.repeat(512), participants: [{ user_id: '0b6dbe2c-5f38-4bc5-9a6a-0d0a9a5f2c11' }] };
    const text = JSON.stringify(body);
    const exact = `${text}${' '.repeat(65_536 - Buffer.byteLength(text))}`;
    const ok = await callHttp('group', { text: exact });
    expect(ok.status).toBe(201);
    expect(ok.body.data?.name).toBe(body.name);
    const over = await httpRejects('group', { text: `${exact} ` });
    expect(over.status).toBe(413);
  });

  it.each(TRIGGERS)('%s: a name of 512 astral code points is accepted; 513 names `name`', async (trigger) => {
    const participants = [{ user_id: '5a3c3f0e-2d6b-4f0a-8e59-9d4c1b2a7e66' }];
    const name = '𝄞'.repeat(512);
    if (trigger === 'http') expect((await callHttp('group', { value: { name, participants } })).status).toBe(201);
    else if (trigger === 'queue')
      expect(await queue.group(sqsEvent([JSON.stringify({ name, participants })]), lambdaContext())).toEqual({
        batchItemFailures: [],
      });
    else expect(await workflow.group({ name, participants }, lambdaContext())).toMatchObject({ name });
    await rejects(trigger, 'group', { name: `${name}𝄞`, participants }, ['name']);
  });
});

describe.each(CATEGORIES)('queue create-%s: mixed batches', (category) => {
  it('reports exactly the bad records of a batch of up to 10 and creates the good ones once', async () => {
    const record = fc.oneof(
      valid(category).map((v) => ({ text: JSON.stringify(v), ok: true })),
      nearMiss(category, 'queue').map((m) => ({ text: JSON.stringify(m.value), ok: false })),
      anyJson.map((v) => ({ text: JSON.stringify(v), ok: false })),
      fc.string({ maxLength: 30 }).map((t) => ({ text: t, ok: false })),
    );
    await check(
      fc.array(record, { minLength: 1, maxLength: 10 }),
      async (records) => {
        const before = { created: h.sandbox.created, posted: h.sandbox.postCount };
        const event = sqsEvent(records.map((r) => r.text));
        const res = await queue[category](event, lambdaContext());
        expect(errorLogs()).toEqual([]);
        const expected = event.Records.filter((_, i) => !records[i]!.ok).map((r) => ({ itemIdentifier: r.messageId }));
        expect(res).toEqual({ batchItemFailures: expected });
        // Each good record reaches Mixin once (no faults, one attempt); only they do. Generated IDs repeat across runs,
        // so a good record may find its conversation already there: created counts at most one per good record.
        const good = records.filter((r) => r.ok).length;
        expect(h.sandbox.postCount - before.posted).toBe(good);
        expect(h.sandbox.created - before.created).toBeLessThanOrEqual(good);
      },
      60,
    );
  });
});
