/**
 * A local stand-in for Mixin's `POST /conversations` and `GET /conversations/:id`: checks every token
 * like Mixin does, validates bodies, stores conversations in memory and injects faults on request.
 * A development tool only: used by the tests, the load and bench scripts and `npm start`.
 */
import { createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { groupConversationId, uniqueConversationId } from '../../lib/conversation-id';
import { requestSignature } from '../../lib/mixin/token';
import { isUuid } from '../../lib/uuid';

/** A bot the sandbox knows: who it is and the session public key its tokens must verify against. */
export interface SandboxApp {
  appId: string;
  sessionId: string;
  /** Raw 32-byte Ed25519 public key, hex. */
  publicKeyHex: string;
}

/**
 * A fault to inject. `count` limits how many requests it hits; `userId` and `category` limit it to bodies
 * naming that user or of that category; `probability` makes it hit that share of the requests it matches.
 */
export type FaultSpec = (
  | { kind: 'html-500' }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'error'; code: number; description?: string; extra?: unknown }
  | { kind: 'http-status'; status: number; body?: string; retryAfter?: string }
) & { count?: number; userId?: string; category?: 'GROUP' | 'CONTACT'; probability?: number };

/** One request the sandbox received, for assertions. */
export interface SandboxRequestLog {
  method: string;
  path: string;
  requestId: string | undefined;
  jti: string | undefined;
  body: string;
  /** The Content-Type header as received (a write is JSON; a read carries none). */
  contentType: string | undefined;
  outcome: string;
  /** The bot the token proved to be, when it verified. */
  uid?: string;
  /** The bearer token as received (tests assert it never leaks into logs or responses). */
  token?: string;
  /** When it arrived (epoch ms). */
  at: number;
}

interface StoredConversation {
  data: Record<string, unknown>;
}

const MIXIN_ERRORS: Record<number, string> = {
  400: 'The request body can’t be parsed as valid data.',
  401: 'Unauthorized, maybe invalid token.',
  403: 'Forbidden.',
  404: 'The endpoint is not found.',
  429: 'Too Many Requests.',
  500: 'Internal Server Error.',
  7000: 'Blaze server error.',
  7001: 'The blaze operation timeout.',
  10002: 'The request data has invalid field.',
  20116: 'The group chat is full.',
};

// Mixin's own limits, modelled independently of our schemas (lib/schemas/definitions.mjs) so that the sandbox
// would catch a schema that let through what Mixin refuses.
const MAX_PARTICIPANTS = 256;
const MAX_GROUP_NAME_CODE_POINTS = 512;

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Options of {@link startMixinSandbox}. */
export interface SandboxOptions {
  port?: number;
  host?: string;
  apps?: SandboxApp[];
  /** Seconds of clock skew tolerated on `iat`. */
  clockSkewSeconds?: number;
  /**
   * Mixin's per-bot rate limit, modelled as a token bucket of R tokens refilled at R per second (0 or unset: no
   * limit). A refused call costs no token and is answered as Mixin does: HTTP 202, error code 429, no Retry-After.
   */
  rateLimitPerSecond?: number;
  /** Added to every answer, to model Mixin's own latency (default 0). */
  latencyMs?: number;
}

/** One bot's token bucket: tokens left and when they were last topped up. */
interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** A running sandbox and its test controls. */
export class MixinSandbox {
  readonly conversations = new Map<string, StoredConversation>();
  readonly requests: SandboxRequestLog[] = [];
  /** How many conversations were newly created (not returned again). */
  created = 0;
  /** Requests being handled right now, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** Added to every answer, to model Mixin's own latency (see {@link setLatency}). */
  latencyMs: number;
  /** Calls per second and per bot the sandbox takes before it answers 429 (0: no limit; see {@link setRateLimit}). */
  rateLimitPerSecond: number;
  /** Every request received, and those refused by the rate limit (code 429 from the token bucket, not injected faults). */
  calls = 0;
  rateLimited = 0;
  private readonly buckets = new Map<string, Bucket>();
  private readonly apps = new Map<string, { app: SandboxApp; key: KeyObject }>();
  private readonly usedJtis = new Set<string>();
  private faults: FaultSpec[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  private server: Server | undefined;
  url = '';

  constructor(private readonly options: SandboxOptions = {}) {
    for (const app of options.apps ?? []) this.registerApp(app);
    this.latencyMs = checkNonNegative('latencyMs', options.latencyMs ?? 0);
    this.rateLimitPerSecond = checkNonNegative('rateLimitPerSecond', options.rateLimitPerSecond ?? 0);
  }

  /** Changes the per-bot rate limit of a running sandbox (0: none); every bot starts again with a full bucket. */
  setRateLimit(perSecond: number): void {
    this.rateLimitPerSecond = checkNonNegative('rateLimitPerSecond', perSecond);
    this.buckets.clear();
  }

  /** Changes the latency added to every answer of a running sandbox. */
  setLatency(ms: number): void {
    this.latencyMs = checkNonNegative('latencyMs', ms);
  }

  /** Starts listening on 127.0.0.1 (an ephemeral port unless one is given). */
  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.server = server;
    const { address, port } = server.address() as AddressInfo;
    this.url = `http://${address}:${port}`;
    return this;
  }

  /** Stops the server and drops every open connection, hanging ones included. */
  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Registers (or replaces, as a key rotation does) the session key of a bot. */
  registerApp(app: SandboxApp): void {
    const key = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(app.publicKeyHex, 'hex')]),
      format: 'der',
      type: 'spki',
    });
    this.apps.set(app.appId.toLowerCase(), { app: { ...app, appId: app.appId.toLowerCase() }, key });
  }

  /** Queues a fault; faults are tried in the order they were added. */
  inject(fault: FaultSpec): void {
    this.faults.push({ ...fault });
  }

  /** Removes every queued fault and releases hanging requests. */
  clearFaults(): void {
    this.faults = [];
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  /** Forgets conversations, requests and faults (apps stay registered). */
  reset(): void {
    this.clearFaults();
    this.conversations.clear();
    this.requests.length = 0;
    this.created = 0;
    this.maxInFlight = this.inFlight;
    this.calls = 0;
    this.rateLimited = 0;
    this.latencyMs = this.options.latencyMs ?? 0;
    this.rateLimitPerSecond = this.options.rateLimitPerSecond ?? 0;
    this.buckets.clear();
  }

  /**
   * Takes one token from the bot's bucket, if it has one: R tokens at most, refilled continuously at R per second.
   * A call refused here takes nothing, so a client that keeps calling gets exactly R calls a second through.
   */
  private takeToken(uid: string): boolean {
    const rate = this.rateLimitPerSecond;
    if (rate <= 0) return true;
    const now = performance.now();
    const capacity = Math.max(1, rate);
    const bucket = this.buckets.get(uid) ?? { tokens: capacity, updatedAt: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.updatedAt) / 1000) * rate);
    bucket.updatedAt = now;
    this.buckets.set(uid, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Requests to `POST /conversations` received so far. */
  get postCount(): number {
    return this.requests.filter((r) => r.method === 'POST').length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.once('close', () => this.inFlight--);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const path = req.url ?? '/';
    const log: SandboxRequestLog = {
      method: req.method ?? '',
      path,
      requestId: header(req, 'x-request-id'),
      jti: undefined,
      body,
      contentType: header(req, 'content-type'),
      outcome: 'pending',
      at: Date.now(),
    };
    this.requests.push(log);

    const auth = this.authenticate(req, path, body, log);
    const fault = this.takeFault(body);
    if (fault) return this.applyFault(fault, res, log);
    if ('refused' in auth) {
      log.outcome = `error:401:${auth.refused}`;
      return this.sendError(res, log, 401);
    }
    if (!this.takeToken(auth.uid)) {
      this.rateLimited++;
      log.outcome = 'error:429:rate limit';
      return this.sendError(res, log, 429);
    }

    if (req.method === 'POST' && path === '/conversations') return this.create(body, auth.uid, res, log);
    const match = /^\/conversations\/([^/?]+)$/.exec(path);
    if (req.method === 'GET' && match) {
      const stored = this.conversations.get(match[1]!.toLowerCase());
      if (!stored) return this.sendError(res, log, 404);
      return this.sendData(res, log, stored.data);
    }
    return this.sendError(res, log, 404);
  }

  /** Verifies the token as Mixin does; records its jti either way. */
  private authenticate(
    req: IncomingMessage,
    uri: string,
    body: string,
    log: SandboxRequestLog,
  ): { uid: string } | { refused: string } {
    const refused = this.refusal(req, uri, body, log);
    return refused === undefined ? { uid: log.uid! } : { refused };
  }

  private refusal(req: IncomingMessage, uri: string, body: string, log: SandboxRequestLog): string | undefined {
    const authorization = header(req, 'authorization');
    if (!authorization?.startsWith('Bearer ')) return 'missing bearer token';
    log.token = authorization.slice(7);
    const parts = log.token.split('.');
    if (parts.length !== 3) return 'malformed token';
    const [h, p, s] = parts as [string, string, string];
    let headerJson: { alg?: unknown };
    let claims: Record<string, unknown>;
    try {
      headerJson = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      return 'token is not JSON';
    }
    if (headerJson.alg !== 'EdDSA') return 'alg must be EdDSA';
    const jti = typeof claims.jti === 'string' ? claims.jti : undefined;
    log.jti = jti;
    const app = typeof claims.uid === 'string' ? this.apps.get(claims.uid.toLowerCase()) : undefined;
    if (!app) return 'unknown uid';
    if (claims.sid !== app.app.sessionId) return 'unknown sid';
    if (!verify(null, Buffer.from(`${h}.${p}`), app.key, Buffer.from(s, 'base64url'))) return 'bad signature';
    const expected = Buffer.from(requestSignature({ method: req.method ?? '', uri, body }));
    const got = Buffer.from(typeof claims.sig === 'string' ? claims.sig : '');
    if (expected.length !== got.length || !timingSafeEqual(expected, got))
      return 'sig does not match method + uri + body';
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= now) return 'token expired';
    if (typeof claims.iat !== 'number' || claims.iat > now + (this.options.clockSkewSeconds ?? 60))
      return 'iat in the future';
    if (claims.scp !== 'FULL') return 'scp must be FULL';
    if (!jti || !isUuid(jti)) return 'jti must be a UUID';
    if (this.usedJtis.has(jti)) return 'jti reused';
    this.usedJtis.add(jti);
    log.uid = app.app.appId;
    return undefined;
  }

  private takeFault(body: string): FaultSpec | undefined {
    for (const fault of this.faults) {
      if (fault.count !== undefined && fault.count <= 0) continue;
      if (fault.userId && !body.toLowerCase().includes(fault.userId.toLowerCase())) continue;
      if (fault.category && !body.includes(`"category":"${fault.category}"`)) continue;
      if (fault.probability !== undefined && Math.random() >= fault.probability) continue;
      if (fault.count !== undefined) fault.count--;
      return fault;
    }
    return undefined;
  }

  private applyFault(fault: FaultSpec, res: ServerResponse, log: SandboxRequestLog): void {
    log.outcome = `fault:${fault.kind}`;
    switch (fault.kind) {
      case 'html-500':
        res
          .writeHead(500, { 'Content-Type': 'text/html' })
          .end('<html><body><h1>500 Internal Server Error</h1></body></html>');
        return;
      case 'reset':
        res.socket?.destroy();
        return;
      case 'hang':
        this.hanging.add(res);
        res.once('close', () => this.hanging.delete(res));
        return;
      case 'error':
        this.sendError(res, log, fault.code, fault.description, fault.extra);
        log.outcome = `fault:error:${fault.code}`;
        return;
      case 'http-status':
        log.outcome = `fault:http-status:${fault.status}`;
        res.writeHead(fault.status, fault.retryAfter ? { 'Retry-After': fault.retryAfter } : {}).end(fault.body ?? '');
        return;
    }
  }

  private create(body: string, uid: string, res: ServerResponse, log: SandboxRequestLog): void {
    let input: unknown;
    try {
      input = JSON.parse(body);
    } catch {
      return this.sendError(res, log, 400);
    }
    const problem = validateCreate(input, uid);
    if (problem)
      return this.sendError(res, log, problem.code, undefined, { field: problem.field, reason: problem.reason });
    const request = input as CreateBody;
    const id = request.conversation_id.toLowerCase();
    const existing = this.conversations.get(id);
    if (existing) {
      log.outcome = 'existing';
      return this.sendData(res, log, existing.data);
    }
    const now = new Date().toISOString();
    const participants = [
      { type: 'participant', user_id: uid, role: request.category === 'GROUP' ? 'OWNER' : '', created_at: now },
      ...request.participants
        .filter((p) => p.user_id.toLowerCase() !== uid)
        .map((p) => ({ type: 'participant', user_id: p.user_id.toLowerCase(), role: p.role ?? '', created_at: now })),
    ];
    const data = {
      type: 'conversation',
      conversation_id: id,
      creator_id: uid,
      category: request.category,
      name: request.category === 'GROUP' ? (request.name ?? '') : '',
      icon_url: '',
      announcement: request.announcement ?? '',
      created_at: now,
      code_id: '',
      code_url: '',
      mute_until: '0001-01-01T00:00:00Z',
      expire_in: 0,
      participants,
      participant_sessions: [],
      circles: [],
    };
    this.conversations.set(id, { data });
    this.created++;
    log.outcome = 'created';
    this.sendData(res, log, data);
  }

  private sendData(res: ServerResponse, log: SandboxRequestLog, data: unknown): void {
    if (log.outcome === 'pending') log.outcome = 'ok';
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ data }));
  }

  private sendError(
    res: ServerResponse,
    log: SandboxRequestLog,
    code: number,
    description?: string | undefined,
    extra?: unknown,
  ): void {
    if (log.outcome === 'pending') log.outcome = `error:${code}`;
    const error: Record<string, unknown> = {
      status: 202,
      code,
      description: description ?? MIXIN_ERRORS[code] ?? 'Error.',
    };
    if (extra !== undefined) error.extra = extra;
    res.writeHead(202, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error }));
  }
}

const checkNonNegative = (name: string, value: number): number => {
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0, got ${value}`);
  return value;
};

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

interface CreateBody {
  category: 'GROUP' | 'CONTACT';
  conversation_id: string;
  name?: string;
  announcement?: string;
  random_id?: string;
  participants: { user_id: string; role?: string }[];
}

type Problem = { code: number; field: string; reason: string };

/** Mixin's checks on a create body, as far as they are known (see shared/mixin-api.md). */
export const validateCreate = (input: unknown, uid: string): Problem | undefined => {
  const bad = (field: string, reason: string, code = 10002): Problem => ({ code, field, reason });
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return bad('', 'body must be an object', 400);
  const body = input as Record<string, unknown>;
  if (body.category !== 'GROUP' && body.category !== 'CONTACT') return bad('category', 'must be GROUP or CONTACT');
  if (!isUuid(body.conversation_id)) return bad('conversation_id', 'must be a UUID');
  if (!Array.isArray(body.participants)) return bad('participants', 'must be an array');
  if (body.participants.length > MAX_PARTICIPANTS) return bad('participants', `at most ${MAX_PARTICIPANTS}`, 20116);
  for (const [i, p] of body.participants.entries()) {
    if (typeof p !== 'object' || p === null || !isUuid((p as { user_id?: unknown }).user_id))
      return bad(`participants[${i}].user_id`, 'must be a UUID');
    const role = (p as { role?: unknown }).role;
    if (role !== undefined && role !== '' && role !== 'ADMIN' && role !== 'OWNER')
      return bad(`participants[${i}].role`, 'must be "", ADMIN or OWNER');
  }
  const participants = body.participants as { user_id: string }[];
  if (body.category === 'CONTACT') {
    if (participants.length !== 1) return bad('participants', 'CONTACT takes exactly one participant', 500);
    const expected = uniqueConversationId(uid, participants[0]!.user_id);
    if (body.conversation_id.toLowerCase() !== expected)
      return bad('conversation_id', 'is not the unique ID of bot and participant');
    return undefined;
  }
  if (typeof body.name !== 'string' || body.name.length === 0) return bad('name', 'is required for GROUP');
  if ([...body.name].length > MAX_GROUP_NAME_CODE_POINTS)
    return bad('name', `at most ${MAX_GROUP_NAME_CODE_POINTS} characters`);
  if (body.announcement !== undefined && typeof body.announcement !== 'string')
    return bad('announcement', 'must be a string');
  if (body.random_id !== undefined) {
    if (!isUuid(body.random_id)) return bad('random_id', 'must be a UUID');
    const expected = groupConversationId(
      uid,
      body.name,
      participants.map((p) => p.user_id),
      body.random_id,
    );
    if (body.conversation_id.toLowerCase() !== expected)
      return bad('conversation_id', 'is not the group ID derived from random_id');
  }
  return undefined;
};
