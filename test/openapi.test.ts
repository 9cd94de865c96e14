/**
 * infra/openapi.json, the published contract of the HTTP API: it is what scripts/openapi.ts generates now, a valid
 * OpenAPI 3.1 document whose schemas and examples agree, and the real handlers answer its own examples with the
 * statuses, bodies and headers it documents.
 */
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import fc from 'fast-check';
import Ajv2020 from 'ajv/dist/2020';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { HTTP_ERRORS } from '../lib/lambda/http-status';
import { schemas } from '../lib/schemas/definitions.mjs';
import { NAME_PATTERN, TEXT_PATTERN } from '../lib/schemas/patterns.mjs';
import { OPENAPI_FILE, renderOpenApi } from '../scripts/openapi';
import { type Harness, httpEvent, lambdaContext, type LambdaHandler, startHarness } from './support/harness';

/** The parts of the document these tests read (after dereferencing: no `$ref` left). */
interface Schema {
  [keyword: string]: unknown;
}
interface Example {
  value: unknown;
}
interface MediaType {
  schema: Schema;
  examples: Record<string, Example>;
}
interface Parameter {
  name: string;
  in: string;
  schema: Schema & { oneOf?: (Schema & { pattern: string })[] };
  examples?: Record<string, Example>;
}
interface Response {
  description: string;
  headers?: Record<string, { required?: boolean; schema: Schema }>;
  content: Record<string, MediaType>;
}
interface Operation {
  parameters: Parameter[];
  requestBody: { content: Record<string, MediaType> };
  responses: Record<string, Response>;
}
interface Document {
  info: { contact?: { name?: string; url?: string } };
  paths: Record<Route, { post: Operation }>;
  components: { schemas: Record<string, Schema & { properties?: Record<string, Schema> }> };
}
type Route = '/groups' | '/contacts';
type Http = LambdaHandler<unknown, APIGatewayProxyStructuredResultV2>;

const JSON_TYPE = 'application/json';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Strict: an unknown keyword or a misspelt one fails to compile (swagger-parser checks only the shape of a 3.1
// document, not the JSON Schemas inside it).
const ajv = new Ajv2020({ strict: true, allErrors: true, formats: { uuid: UUID, 'date-time': true } });

/** The JSON Schema errors of `value` against `schema`, as `path message` lines (empty when it is valid). */
const problems = (schema: Schema, value: unknown): string[] => {
  const validate = ajv.compile(schema);
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
};

const committed = readFileSync(OPENAPI_FILE, 'utf8');
const raw = JSON.parse(committed) as Document;
let doc: Document;

beforeAll(async () => {
  doc = (await SwaggerParser.dereference(structuredClone(raw) as never)) as unknown as Document;
});

const operation = (route: Route): Operation => doc.paths[route].post;
const jsonOf = (part: { content: Record<string, MediaType> }): MediaType => part.content[JSON_TYPE]!;
const only = <T>(record: Record<string, T> | undefined): T => Object.values(record ?? {})[0]!;
const requestExample = (route: Route) =>
  only(jsonOf(operation(route).requestBody).examples).value as Record<string, unknown>;
const keyParameter = (route: Route): Parameter =>
  operation(route).parameters.find((p) => p.in === 'header' && p.name === 'Idempotency-Key')!;

describe('infra/openapi.json', () => {
  it('is what `npm run openapi` writes now, byte for byte', () => {
    const fresh = renderOpenApi();
    expect(renderOpenApi()).toBe(fresh);
    expect(committed === fresh ? 'up to date' : 'stale: run `npm run openapi` and commit infra/openapi.json').toBe(
      'up to date',
    );
  });

  it("carries the validators' own request schemas, unchanged, and every error code under its status", () => {
    expect(raw.components.schemas.CreateGroupRequest).toEqual(schemas.group);
    expect(raw.components.schemas.CreateContactRequest).toEqual(schemas.contact);
    expect(raw.components.schemas.ErrorCode!.enum).toEqual(Object.keys(HTTP_ERRORS));
    const codesByStatus = (route: Route) =>
      Object.entries(raw.paths[route].post.responses)
        .filter(([status]) => Number(status) >= 400 && status !== '403')
        .flatMap(([status, response]) => Object.keys(jsonOf(response).examples).map((code) => `${status} ${code}`))
        .sort();
    const expected = Object.entries(HTTP_ERRORS).map(([code, { status }]) => `${status} ${code}`);
    expect(codesByStatus('/groups')).toEqual([...expected].sort());
    expect(codesByStatus('/contacts')).toEqual(
      expected.filter((line) => !line.endsWith(' idempotency_key_reused')).sort(),
    );
  });

  it('passes the OpenAPI 3.1 validator (swagger-parser), which refuses a broken copy', async () => {
    await expect(SwaggerParser.validate(structuredClone(raw) as never)).resolves.toMatchObject({ openapi: '3.1.0' });
    const noDescription = structuredClone(raw);
    delete (noDescription.paths['/groups'].post.responses['201'] as Partial<Response>).description;
    await expect(SwaggerParser.validate(noDescription as never)).rejects.toThrow(/description/);
    const dangling = structuredClone(raw);
    jsonOf(dangling.paths['/contacts'].post.requestBody).schema = { $ref: '#/components/schemas/Nowhere' };
    await expect(SwaggerParser.validate(dangling as never)).rejects.toThrow(/Nowhere/);
  });

  it.each<Route>(['/groups', '/contacts'])(
    '%s: every schema compiles as strict JSON Schema 2020-12 and every example fits its schema',
    (route) => {
      const op = operation(route);
      const checked: string[] = [];
      const check = (where: string, schema: Schema, examples: Record<string, Example> | undefined) => {
        for (const [name, example] of Object.entries(examples ?? {})) {
          expect({ where: `${where} ${name}`, problems: problems(schema, example.value) }).toEqual({
            where: `${where} ${name}`,
            problems: [],
          });
          checked.push(`${where} ${name}`);
        }
      };
      for (const p of op.parameters) check(`parameter ${p.name}`, p.schema, p.examples);
      check('request', jsonOf(op.requestBody).schema, jsonOf(op.requestBody).examples);
      for (const [status, response] of Object.entries(op.responses)) {
        for (const header of Object.values(response.headers ?? {})) ajv.compile(header.schema);
        check(status, jsonOf(response).schema, jsonOf(response).examples);
      }
      expect(checked.length).toBeGreaterThanOrEqual(Object.keys(op.responses).length + 1);
    },
  );

  it('gives every HTTP error code with the "when" and "retry" texts of HTTP_ERRORS, in full', () => {
    for (const route of ['/groups', '/contacts'] as Route[]) {
      for (const [status, response] of Object.entries(raw.paths[route].post.responses)) {
        for (const code of Object.keys(jsonOf(response).examples ?? {}).filter((c) => c in HTTP_ERRORS)) {
          const { when, retry } = HTTP_ERRORS[code as keyof typeof HTTP_ERRORS];
          expect([route, status, response.description]).toEqual([
            route,
            status,
            expect.stringContaining(`\`${code}\`: ${when}. Retry: ${retry}.`),
          ]);
        }
      }
    }
  });

  it('names the repository as its contact', () => {
    const pkg = JSON.parse(readFileSync(`${__dirname}/../package.json`, 'utf8')) as {
      name: string;
      repository?: string | { url: string };
    };
    expect(raw.info.contact?.name).toContain(pkg.name);
    const url = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
    expect(raw.info.contact?.url).toBe(url);
  });

  it('the Conversation schema names every key of the answer, so a generated client types them all (expire_in too)', async () => {
    const h = await startHarness();
    try {
      const handler = h.load<{ handler: Http }>('../../functions/create-group/http').handler;
      const res = await handler(httpEvent(JSON.stringify(requestExample('/groups'))), lambdaContext());
      const data = (JSON.parse(String(res.body)) as { data: Record<string, unknown> }).data;
      expect(Object.keys(data)).toContain('expire_in');
      const documented = Object.keys(raw.components.schemas.Conversation!.properties ?? {});
      expect(Object.keys(data).filter((key) => !documented.includes(key))).toEqual([]);
    } finally {
      await h.stop();
    }
  });

  it('says the name and announcement patterns need the `u` flag, which is true: without it they are other rules', () => {
    const group = raw.components.schemas.CreateGroupRequest!.properties!;
    for (const field of ['name', 'announcement'])
      expect([field, group[field]!.description]).toEqual([field, expect.stringContaining('`u` flag')]);
    expect([new RegExp(NAME_PATTERN, 'u').test('😀'), new RegExp(NAME_PATTERN).test('😀')]).toEqual([true, false]);
    expect([new RegExp(TEXT_PATTERN, 'u').test('😀'), new RegExp(TEXT_PATTERN).test('😀')]).toEqual([true, false]);
  });

  it('the group schema refuses conversation_id together with random_id, as the handler does', () => {
    const group = raw.components.schemas.CreateGroupRequest!;
    const example = { name: 'Room', participants: [{ user_id: '6e1f4b02-8f3a-4b49-9a4e-1f6b2a7d5c11' }] };
    const [a, b] = ['0c0b3f2e-3c4e-4a7e-b1f8-2d5c9e1a4b77', '3f1c9a7e-52d4-4b8e-9c06-7a2e1d4b8f35'];
    expect(problems(group, { ...example, conversation_id: a, random_id: b })).not.toEqual([]);
    expect(problems(group, { ...example, conversation_id: a })).toEqual([]);
    expect(problems(group, { ...example, random_id: b })).toEqual([]);
  });

  it('declares IAM (SigV4) authorization the way API Gateway exports it', () => {
    const document = raw as unknown as { security: unknown; components: { securitySchemes: Record<string, unknown> } };
    expect(document.security).toEqual([{ sigv4: [] }]);
    expect(document.components.securitySchemes.sigv4).toMatchObject({
      type: 'apiKey',
      name: 'Authorization',
      in: 'header',
      'x-amazon-apigateway-authtype': 'awsSigv4',
    });
  });
});

describe('the handlers answer as the document says', () => {
  let h: Harness;
  const handlers = {} as Record<Route, Http>;

  beforeAll(async () => {
    h = await startHarness();
    handlers['/groups'] = h.load<{ handler: Http }>('../../functions/create-group/http').handler;
    handlers['/contacts'] = h.load<{ handler: Http }>('../../functions/create-contact/http').handler;
  });
  afterAll(() => h.stop());
  beforeEach(() => h.sandbox.reset());

  /** Sends `body` to the real handler of `route`; returns its status and body once the document's response for that status is checked. */
  const call = async (route: Route, body: unknown, headers: Record<string, string> = {}) => {
    const res = await handlers[route](
      httpEvent(typeof body === 'string' ? body : JSON.stringify(body), { path: route, headers }),
      lambdaContext(),
    );
    const documented = operation(route).responses[String(res.statusCode)];
    expect({ route, status: res.statusCode, documented: documented !== undefined }).toEqual({
      route,
      status: res.statusCode,
      documented: true,
    });
    const parsed = JSON.parse(String(res.body)) as {
      data?: Record<string, unknown>;
      error?: { code: string; details?: unknown };
    };
    expect(res.headers?.['content-type']).toBe(JSON_TYPE);
    expect(problems(jsonOf(documented!).schema, parsed)).toEqual([]);
    if (parsed.error) expect(Object.keys(jsonOf(documented!).examples)).toContain(parsed.error.code);
    for (const [name, header] of Object.entries(documented!.headers ?? {})) {
      const value = res.headers?.[name.toLowerCase()];
      if (header.required) expect(problems(header.schema, Number(value))).toEqual([]);
    }
    return { status: res.statusCode, body: parsed };
  };

  it('the request example of each route (with the Idempotency-Key example) gets 201 and the documented conversation', async () => {
    const key = only(keyParameter('/groups').examples).value as string;
    const group = await call('/groups', requestExample('/groups'), { 'Idempotency-Key': key });
    expect(group).toMatchObject({
      status: 201,
      body: { data: { category: 'GROUP', name: requestExample('/groups').name } },
    });
    const contact = await call('/contacts', requestExample('/contacts'));
    expect(contact).toMatchObject({ status: 201, body: { data: { category: 'CONTACT' } } });
    expect(h.sandbox.created).toBe(2);
  });

  it('the group example without `name` gets 400 invalid_request naming the field; Mixin is never asked', async () => {
    const { name: _name, ...nameless } = requestExample('/groups');
    const res = await call('/groups', nameless);
    expect(res).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', details: [{ field: 'name', message: 'is required' }] } },
    });
    expect(h.sandbox.postCount).toBe(0);
  });

  it.each<Route>(['/groups', '/contacts'])(
    '%s: a media type the document does not list gets 415, an over-64 KB body 413',
    async (route) => {
      expect(Object.keys(operation(route).requestBody.content)).toEqual([JSON_TYPE]);
      const wrongType = await call(route, requestExample(route), { 'content-type': 'text/plain' });
      expect(wrongType).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type' } } });
      const tooLarge = await call(route, { ...requestExample(route), padding: 'x'.repeat(64 * 1024) });
      expect(tooLarge).toMatchObject({ status: 413, body: { error: { code: 'body_too_large' } } });
      expect(h.sandbox.postCount).toBe(0);
    },
  );

  it('Idempotency-Key: /groups takes the longest key bare or quoted, and refuses one more, "" and a quoted empty key (400); /contacts ignores it', async () => {
    const schema = keyParameter('/groups').schema;
    const longest = 'k'.repeat(256);
    for (const key of [longest, `"${longest}"`, `"${'\\"'.repeat(256)}"`]) {
      expect({
        key,
        schema: problems(schema, key),
        status: (await call('/groups', requestExample('/groups'), { 'Idempotency-Key': key })).status,
      }).toEqual({ key, schema: [], status: 201 });
    }
    for (const key of ['', '""', `${longest}k`, `"${longest}k"`]) {
      const refused = await call('/groups', requestExample('/groups'), { 'Idempotency-Key': key });
      expect(refused).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid_request', details: [{ field: 'Idempotency-Key' }] } },
      });
      expect({ key, schema: problems(schema, key).length > 0 }).toEqual({ key, schema: true });
    }
    expect(keyParameter('/contacts').schema).toEqual({ type: 'string' });
    expect(await call('/contacts', requestExample('/contacts'), { 'Idempotency-Key': `"${longest}k"` })).toMatchObject({
      status: 201,
    });
  });

  it('Idempotency-Key: the header schema and the handler accept exactly the same keys (property)', async () => {
    const schema = keyParameter('/groups').schema;
    expect(schema.oneOf).toHaveLength(2);
    // Every request names one conversation_id: the key is checked, and Mixin returns the one group after the first.
    const body = { ...requestExample('/groups'), conversation_id: '9d4c3f1e-2b7a-4c8e-9f01-3a5b6c7d8e9f' };
    const unit = fc.constantFrom('k', '"', '\\', ' ', '~', '\t', 'é', '😀', '\u0000');
    const run = (n: number) => fc.nat({ max: 4 }).map((extra) => 'k'.repeat(n + extra));
    const key = fc.oneof(
      fc.string({ unit, maxLength: 12 }),
      fc.string({ unit, maxLength: 12 }).map((k) => `"${k}"`),
      fc
        .tuple(fc.constantFrom(250, 254, 255, 256, 257), fc.constantFrom('', '"', '\\"', '\\\\'))
        .chain(([n, escape]) => run(n - 4).map((k) => `"${escape}${k}"`)),
      run(253),
      fc.string({ unit: 'grapheme-ascii', maxLength: 300 }),
    );
    const seen = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(key, async (k) => {
        const res = await handlers['/groups'](
          httpEvent(JSON.stringify(body), { path: '/groups', headers: { 'Idempotency-Key': k } }),
          lambdaContext(),
        );
        const byHandler = res.statusCode === 201;
        if (!byHandler)
          expect(JSON.parse(String(res.body))).toMatchObject({ error: { details: [{ field: 'Idempotency-Key' }] } });
        seen[byHandler ? 'accepted' : 'refused']++;
        expect({ key: k, bySchema: problems(schema, k).length === 0 }).toEqual({ key: k, bySchema: byHandler });
      }),
      { numRuns: 400 },
    );
    expect(seen.accepted).toBeGreaterThan(50);
    expect(seen.refused).toBeGreaterThan(50);
  });

  it('/groups: the documented key sent again with another name gets 422 idempotency_key_reused', async () => {
    const key = only(keyParameter('/groups').examples).value as string;
    const example = requestExample('/groups');
    expect(await call('/groups', example, { 'Idempotency-Key': key })).toMatchObject({ status: 201 });
    const reused = await call('/groups', { ...example, name: `${String(example.name)} 2` }, { 'Idempotency-Key': key });
    expect(reused).toMatchObject({
      status: 422,
      body: { error: { code: 'idempotency_key_reused', details: [{ field: 'name' }] } },
    });
  });

  it('/contacts: Mixin failing gets 503 with the documented Retry-After header', async () => {
    h.sandbox.inject({ kind: 'html-500' });
    const res = await call('/contacts', requestExample('/contacts'));
    expect(res).toMatchObject({ status: 503, body: { error: { code: 'mixin_unavailable' } } });
    expect(operation('/contacts').responses['503']!.headers).toHaveProperty('Retry-After.required', true);
  });
});
