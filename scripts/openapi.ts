/**
 * `npm run openapi`: writes infra/openapi.json, the OpenAPI 3.1 contract of the HTTP API, from what the handlers
 * themselves run on, so the two cannot disagree:
 *   - the request bodies are the JSON Schemas the validators are compiled from (lib/schemas/definitions.mjs), as is:
 *     JSON Schema 2020-12 is OpenAPI 3.1's own dialect;
 *   - the statuses and error `code`s are HTTP_ERRORS (lib/lambda/http-status.ts);
 *   - each error example (and its Retry-After header) is what httpErrorResponse answers for an error of that code;
 *   - the Idempotency-Key limit is MAX_IDEMPOTENCY_KEY_LENGTH (lib/idempotency-key.ts).
 * Deterministic output (no dates, no machine paths); test/openapi.test.ts fails when the committed file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { groupIdForKey, uniqueConversationId } from '../lib/conversation-id';
import {
  ConversationConflictError,
  HttpRequestError,
  IdempotencyKeyReusedError,
  InvalidRequestError,
  KeystoreError,
  KeystoreUnavailableError,
  MixinRateLimitError,
  MixinRequestError,
  MixinUnavailableError,
} from '../lib/errors';
import { MAX_IDEMPOTENCY_KEY_LENGTH, QUOTED_KEY } from '../lib/idempotency-key';
import { PRINTABLE_ASCII } from '../lib/lambda/http-headers';
import { type ErrorCode, HTTP_ERRORS, httpErrorResponse } from '../lib/lambda/http-status';
import { MAX_RETRY_AFTER_SECONDS } from '../lib/mixin/retry';
import { schemas } from '../lib/schemas/definitions.mjs';

/** A JSON object of the document. */
type Json = Record<string, unknown>;

/** The conversation category a route creates. */
type Category = 'GROUP' | 'CONTACT';

/** Where the published document lives. */
export const OPENAPI_FILE = join(__dirname, '..', 'infra', 'openapi.json');

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

// Made-up IDs for the examples; the conversation IDs are derived from them by the service's own rules.
const EXAMPLE_BOT_ID = '3f1c9a7e-52d4-4b8e-9c06-7a2e1d4b8f35';
const EXAMPLE_USERS = ['6e1f4b02-8f3a-4b49-9a4e-1f6b2a7d5c11', '0c0b3f2e-3c4e-4a7e-b1f8-2d5c9e1a4b77'] as const;
const EXAMPLE_KEY = 'order-42';
const EXAMPLE_TIME = '2026-01-15T09:30:00.123456789Z';

/**
 * One error of every code, as a handler meets it. Typed by ErrorCode, so a code added to HTTP_ERRORS does not
 * compile until it has an example here.
 */
const errorSamples: Record<ErrorCode, (category: Category) => unknown> = {
  invalid_request: () => InvalidRequestError.field('participants', 'is required'),
  conversation_conflict: (category) =>
    category === 'GROUP'
      ? new ConversationConflictError('GROUP', 'CONTACT', uniqueConversationId(EXAMPLE_BOT_ID, EXAMPLE_USERS[0]))
      : new ConversationConflictError('CONTACT', 'GROUP', groupIdForKey(EXAMPLE_BOT_ID, EXAMPLE_KEY)),
  body_too_large: () =>
    new HttpRequestError(413, 'body_too_large', 'the body is 70000 bytes; at most 65536 are accepted'),
  unsupported_media_type: () =>
    new HttpRequestError(415, 'unsupported_media_type', 'Content-Type must be application/json, got "text/plain"'),
  idempotency_key_reused: () =>
    new IdempotencyKeyReusedError(
      [{ field: 'name', message: 'differs from the name of the group this key created' }],
      groupIdForKey(EXAMPLE_BOT_ID, EXAMPLE_KEY),
    ),
  mixin_rejected: () => new MixinRequestError(10002, 'The request data has invalid field.', null, 1),
  mixin_rate_limited: () => new MixinRateLimitError(4, 2),
  keystore_invalid: () => new KeystoreError('must be 64 hex characters', 'session_private_key'),
  internal_error: () => new TypeError('a bug'),
  mixin_credentials_rejected: () => new MixinRequestError(401, 'Unauthorized, maybe invalid token.', null, 2),
  mixin_bad_response: () => new MixinUnavailableError('bad-response', 'Mixin answered something that is not JSON', 4),
  mixin_unavailable: () => new MixinUnavailableError('server-error', 'Mixin answered HTTP 500', 4),
  keystore_unavailable: () => new KeystoreUnavailableError('Secrets Manager answered InternalServiceError'),
  mixin_timeout: () => new MixinUnavailableError('timeout', 'Mixin did not answer within the attempt timeout', 2),
  deadline_exceeded: () => MixinUnavailableError.deadlineBeforeMixin(),
};

/** What the handlers answer for an error of `code`: its body and headers, checked to carry that code and its status. */
const errorExample = (code: ErrorCode, category: Category): { body: Json; headers: Record<string, unknown> } => {
  const response = httpErrorResponse(errorSamples[code](category));
  const body = JSON.parse(String(response.body)) as { error: { code: string } };
  if (response.statusCode !== HTTP_ERRORS[code].status || body.error.code !== code) {
    throw new Error(
      `the example error for ${code} answers ${response.statusCode} ${body.error.code}: fix errorSamples`,
    );
  }
  return { body, headers: response.headers ?? {} };
};

// ---------------------------------------------------------------------------------------------------------------
// Components

/** The conversation object as Mixin sends it (lib/mixin/conversation.ts `Conversation`); only checked keys required. */
const conversationSchema = (): Json => ({
  type: 'object',
  description:
    "Mixin's conversation object, keys as Mixin sends them (more may appear). `conversation_id` and `category` are " +
    'always the ones asked for: the service checks them before answering.',
  required: ['conversation_id', 'category'],
  properties: {
    type: { type: 'string', description: '`conversation`' },
    conversation_id: { type: 'string', format: 'uuid' },
    category: { type: 'string', enum: ['GROUP', 'CONTACT'] },
    creator_id: { type: 'string', format: 'uuid', description: 'the bot' },
    name: { type: 'string', description: 'the group name; empty for a contact' },
    icon_url: { type: 'string' },
    announcement: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    code_id: { type: 'string' },
    code_url: { type: 'string' },
    mute_until: { type: 'string', format: 'date-time' },
    expire_in: {
      type: 'integer',
      description: 'seconds after which messages of this conversation disappear; 0: never',
    },
    participants: { type: 'array', items: ref('ConversationParticipant') },
    participant_sessions: {
      type: 'array',
      items: {
        type: 'object',
        properties: { user_id: { type: 'string', format: 'uuid' }, session_id: { type: 'string', format: 'uuid' } },
      },
    },
    circles: { type: 'array', items: { type: 'object' } },
  },
});

const participantSchema = (): Json => ({
  type: 'object',
  required: ['user_id'],
  properties: {
    type: { type: 'string', description: '`participant`' },
    user_id: { type: 'string', format: 'uuid' },
    role: { type: 'string', description: '`OWNER` (the bot, in a group), `ADMIN`, or empty for a member' },
    created_at: { type: 'string', format: 'date-time' },
  },
});

const errorSchemas = (): Record<string, Json> => ({
  ErrorCode: {
    type: 'string',
    description: 'Stable: clients may branch on it. Each response lists the codes it can carry.',
    enum: Object.keys(HTTP_ERRORS),
  },
  FieldProblem: {
    type: 'object',
    description: 'One reason the request was refused.',
    required: ['field', 'message'],
    properties: {
      field: {
        type: 'string',
        description:
          'the JSON path of the field (`participants[1].user_id`), `body`, or a header name (`Idempotency-Key`)',
      },
      message: { type: 'string' },
    },
  },
  Error: {
    type: 'object',
    required: ['code', 'message'],
    properties: {
      code: ref('ErrorCode'),
      message: { type: 'string', description: 'for people; never key material or a token' },
      details: {
        type: 'array',
        items: ref('FieldProblem'),
        description: 'with `invalid_request` and `idempotency_key_reused`: each field and why',
      },
      mixin_code: {
        type: 'integer',
        description:
          "with `mixin_rejected` and `mixin_credentials_rejected`: Mixin's error code (10002, 20116, 401, ...)",
      },
    },
  },
  ErrorResponse: { type: 'object', required: ['error'], properties: { error: ref('Error') } },
  GatewayError: {
    type: 'object',
    description: "API Gateway's own answer, before the function runs.",
    required: ['message'],
    properties: { message: { type: 'string' } },
  },
});

/** Every schema of the document. The request bodies are the validators' own schemas, unchanged. */
const componentSchemas = (): Record<string, Json> => ({
  CreateGroupRequest: schemas.group,
  CreateContactRequest: schemas.contact,
  Created: { type: 'object', required: ['data'], properties: { data: ref('Conversation') } },
  Conversation: conversationSchema(),
  ConversationParticipant: participantSchema(),
  ...errorSchemas(),
});

/**
 * Exactly the keys the handler takes (a property test holds the two equal): bare, 1 to 256 printable ASCII
 * characters that are not one whole quoted string; or quoted, a Structured Field String holding 1 to 256 of them,
 * `\"` and `\\` escaped (an escape is one character of the key).
 */
const idempotencyKeySchema = (): Json => {
  const max = MAX_IDEMPOTENCY_KEY_LENGTH;
  const printable = PRINTABLE_ASCII.source.replace(/^\^|\*\$$/g, ''); // [\x20-\x7E]
  return {
    type: 'string',
    oneOf: [
      {
        title: 'bare',
        description: `1 to ${max} printable ASCII characters, as Stripe sends the key; not one whole quoted string (that is the quoted form).`,
        pattern: `^(?!${QUOTED_KEY.source.slice(1)})${printable}{1,${max}}$`,
      },
      {
        title: 'quoted',
        description: `A Structured Field String, as the IETF draft sends the key: 1 to ${max} characters between double quotes, \`\\"\` and \`\\\\\` escaped; the same key as without the quotes. \`""\` is an empty key, refused.`,
        pattern: `^"(?:[\\x20\\x21\\x23-\\x5B\\x5D-\\x7E]|\\\\["\\\\]){1,${max}}"$`,
      },
    ],
  };
};

const idempotencyKeyParameters = (): Record<string, Json> => ({
  GroupIdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      `1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, bare (\`order-42\`) or as a Structured Field String ` +
      '(`"order-42"`, the same key; so are the SQS `IdempotencyKey` attribute and the workflow `idempotency_key`, quoted ' +
      'or not). The same key from the same bot always addresses the same ' +
      'group: a retried request, however many times, returns the group the first one made (201). The same key with a ' +
      'different `name` is refused (422 `idempotency_key_reused`). With `random_id` or `conversation_id` in the body, the ' +
      'key must still fit these limits but does not choose the group.',
    schema: idempotencyKeySchema(),
    examples: { order: { value: EXAMPLE_KEY } },
  },
  ContactIdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      'Accepted and ignored, whatever its value: a contact has one ID per bot and user, so creating it is idempotent by nature.',
    schema: { type: 'string' },
  },
});

/** IAM authorization, as API Gateway's own OpenAPI export spells it. */
const securitySchemes = (): Record<string, Json> => ({
  sigv4: {
    type: 'apiKey',
    name: 'Authorization',
    in: 'header',
    description:
      'AWS Signature Version 4 (service `execute-api`), by a principal allowed `execute-api:Invoke` on the route ' +
      '(the API\'s routes use `AWS_IAM` authorization). For example `curl --aws-sigv4 "aws:amz:$AWS_REGION:execute-api"`.',
    'x-amazon-apigateway-authtype': 'awsSigv4',
  },
});

const components = (): Json => ({
  schemas: componentSchemas(),
  parameters: idempotencyKeyParameters(),
  headers: {
    RetryAfter: {
      description: 'Seconds to wait before trying again.',
      required: true,
      schema: { type: 'integer', minimum: 1, maximum: MAX_RETRY_AFTER_SECONDS },
    },
  },
  securitySchemes: securitySchemes(),
});

// ---------------------------------------------------------------------------------------------------------------
// Operations

/** One route of the HTTP API and what is particular to it. */
interface Route {
  path: string;
  category: Category;
  operationId: string;
  summary: string;
  description: string;
  request: { schema: string; description: string; example: Json };
  idempotencyKey: string;
  created: { description: string; example: Json };
  /** Every error code this route can answer. */
  codes: ErrorCode[];
}

const exampleParticipant = (userId: string, role: string): Json => ({
  type: 'participant',
  user_id: userId,
  role,
  created_at: EXAMPLE_TIME,
});

const exampleConversation = (fields: Json, participants: Json[]): Json => ({
  type: 'conversation',
  ...fields,
  creator_id: EXAMPLE_BOT_ID,
  icon_url: '',
  created_at: EXAMPLE_TIME,
  code_id: '',
  code_url: '',
  mute_until: '0001-01-01T00:00:00Z',
  expire_in: 0,
  participants,
  participant_sessions: [],
  circles: [],
});

const allCodes = Object.keys(HTTP_ERRORS) as ErrorCode[];

const groupRoute = (): Route => ({
  path: '/groups',
  category: 'GROUP',
  operationId: 'createGroup',
  summary: 'Create a group conversation',
  description:
    'Creates a GROUP conversation owned by the bot, or returns the one its ID already names (also 201). The ID, first ' +
    "rule that applies: `conversation_id` as given; derived from `random_id` (the scheme of Mixin's Go SDK); the " +
    'group of the `Idempotency-Key` for this bot; a fresh derived ID. **Send an `Idempotency-Key`**: then a retried ' +
    'request, however many times, creates one group.\n\n' +
    'The schema says `conversation_id` and `random_id` exclude each other (400 naming `conversation_id`). Rules beyond ' +
    'the schema, each a 400 `invalid_request` naming the field: the same user twice (in any letter case); only the bot ' +
    "itself among the participants (the bot's own ID is dropped: Mixin makes the bot the owner). Invalid input never " +
    'reaches Mixin.',
  request: {
    schema: 'CreateGroupRequest',
    description: '`name` and `participants` are required; `role` is `ADMIN` or empty.',
    example: {
      name: 'Team room',
      participants: [{ user_id: EXAMPLE_USERS[0], role: 'ADMIN' }, { user_id: EXAMPLE_USERS[1] }],
      announcement: 'Welcome',
    },
  },
  idempotencyKey: 'GroupIdempotencyKey',
  created: {
    description: 'The group: created, or the existing one its ID names.',
    example: exampleConversation(
      {
        conversation_id: groupIdForKey(EXAMPLE_BOT_ID, EXAMPLE_KEY),
        category: 'GROUP',
        name: 'Team room',
        announcement: 'Welcome',
      },
      [
        exampleParticipant(EXAMPLE_BOT_ID, 'OWNER'),
        exampleParticipant(EXAMPLE_USERS[0], 'ADMIN'),
        exampleParticipant(EXAMPLE_USERS[1], ''),
      ],
    ),
  },
  codes: allCodes,
});

const contactRoute = (): Route => ({
  path: '/contacts',
  category: 'CONTACT',
  operationId: 'createContact',
  summary: 'Open a one-to-one conversation',
  description:
    'Opens the CONTACT conversation between the bot and one user, or returns it (also 201). Its ID is derived from ' +
    'the two user IDs, the same every time, so this call is idempotent by nature and ignores `Idempotency-Key`. ' +
    'The participant must not be the bot itself (400 `invalid_request`).',
  request: {
    schema: 'CreateContactRequest',
    description: 'Exactly one participant: the other party.',
    example: { participants: [{ user_id: EXAMPLE_USERS[0] }] },
  },
  idempotencyKey: 'ContactIdempotencyKey',
  created: {
    description: 'The contact conversation: created, or the existing one.',
    example: exampleConversation(
      {
        conversation_id: uniqueConversationId(EXAMPLE_BOT_ID, EXAMPLE_USERS[0]),
        category: 'CONTACT',
        name: '',
        announcement: '',
      },
      [exampleParticipant(EXAMPLE_BOT_ID, ''), exampleParticipant(EXAMPLE_USERS[0], '')],
    ),
  },
  codes: allCodes.filter((code) => code !== 'idempotency_key_reused'),
});

const json = (schema: Json, examples: Json): Json => ({ 'application/json': { schema, examples } });

/** One response per status: its codes and when each is answered, one example per code, Retry-After where sent. */
const errorResponse = (codes: ErrorCode[], category: Category): Json => {
  const examples = codes.map((code) => ({ code, ...errorExample(code, category) }));
  const withRetryAfter = examples.filter((e) => e.headers['retry-after'] !== undefined).length;
  if (withRetryAfter !== 0 && withRetryAfter !== examples.length)
    throw new Error(`only some of ${codes.join(', ')} send Retry-After`);
  return {
    description: codes
      .map((code) => `\`${code}\`: ${HTTP_ERRORS[code].when}. Retry: ${HTTP_ERRORS[code].retry}.`)
      .join('\n\n'),
    ...(withRetryAfter ? { headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } } } : {}),
    content: json(ref('ErrorResponse'), Object.fromEntries(examples.map((e) => [e.code, { value: e.body }]))),
  };
};

const errorResponses = (codes: ErrorCode[], category: Category): Record<string, Json> => {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes)
    byStatus.set(HTTP_ERRORS[code].status, [...(byStatus.get(HTTP_ERRORS[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, statusCodes]) => [String(status), errorResponse(statusCodes, category)]),
  );
};

/** The answer of the security scheme: API Gateway's, not the function's. */
const forbiddenResponse = (): Json => ({
  description:
    'Answered by API Gateway before the function runs: the request is not signed with SigV4, the signature is wrong ' +
    'or expired, or the signer may not call `execute-api:Invoke` on this route.',
  content: json(ref('GatewayError'), { forbidden: { value: { message: 'Forbidden' } } }),
});

const operation = (route: Route): Json => ({
  operationId: route.operationId,
  summary: route.summary,
  description: route.description,
  tags: ['conversations'],
  parameters: [{ $ref: `#/components/parameters/${route.idempotencyKey}` }],
  requestBody: {
    required: true,
    description: `${route.request.description} \`Content-Type\` must be \`application/json\` (or \`application/*+json\`), UTF-8; at most 64 KB.`,
    content: json(ref(route.request.schema), { [route.operationId]: { value: route.request.example } }),
  },
  responses: {
    '201': {
      description: route.created.description,
      content: json(ref('Created'), { [route.operationId]: { value: { data: route.created.example } } }),
    },
    '403': forbiddenResponse(),
    ...errorResponses(route.codes, route.category),
  },
});

const paths = (): Json =>
  Object.fromEntries([groupRoute(), contactRoute()].map((route) => [route.path, { post: operation(route) }]));

// ---------------------------------------------------------------------------------------------------------------
// Document

const info = (): Json => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    description: string;
    license: string;
    repository?: string | { url: string };
  };
  const repository = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  return {
    title: pkg.name,
    version: pkg.version,
    description:
      `${pkg.description} Every request is signed with AWS SigV4; every error has one shape, ` +
      '`{"error": {"code", "message", "details"?, "mixin_code"?}}`, with a stable `code`.\n\n' +
      'API Gateway itself answers a few requests before they reach the function, with a `{"message": "..."}` body: ' +
      '403 for a missing or bad signature, 429 when the stage is throttled, 500 or 503 when the function cannot run.\n\n' +
      'Generated by `npm run openapi` (scripts/openapi.ts) from the request schemas and the error table the handlers ' +
      'use: do not edit by hand.',
    // The repository is where questions and changes go: package.json's `repository`, when it names one.
    contact: {
      name: `the ${pkg.name} repository: issues and changes go there`,
      ...(repository ? { url: repository } : {}),
    },
    license: { name: pkg.license, identifier: pkg.license },
  };
};

const servers = (): Json[] => [
  {
    url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
    // No `description` on the variables: swagger-parser's copy of the 3.1 schema (2021-04-15) misspells that field.
    description: "A deployed stage: `apiId` is the HTTP API's ID (`npx serverless info` prints the endpoint).",
    variables: { apiId: { default: 'api-id' }, region: { default: 'us-east-1' } },
  },
  {
    url: 'http://127.0.0.1:3000',
    description: '`npm start` on this machine (serverless-offline; SigV4 is not checked).',
  },
];

/** The whole document, keys in a fixed order. */
export const openApiDocument = (): Json => ({
  openapi: '3.1.0',
  info: info(),
  servers: servers(),
  security: [{ sigv4: [] }],
  tags: [{ name: 'conversations', description: 'Mixin Messenger conversations of the bot' }],
  paths: paths(),
  components: components(),
});

/** The file's text: two-space indented JSON with a trailing newline. */
export const renderOpenApi = (document: Json = openApiDocument()): string => `${JSON.stringify(document, null, 2)}\n`;

/** Writes the file only when its text changed, and says which. */
const writeOpenApi = (text: string): void => {
  let current: string | undefined;
  try {
    current = readFileSync(OPENAPI_FILE, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) {
    console.log(`${OPENAPI_FILE} is up to date`);
    return;
  }
  writeFileSync(OPENAPI_FILE, text);
  console.log(`wrote ${OPENAPI_FILE}`);
};

const main = (): void => writeOpenApi(renderOpenApi());

if (require.main === module) main();
