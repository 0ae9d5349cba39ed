/**
 * The bundled mock's AIVillage API (specs/aivillage.openapi.yaml), mounted by `mock-server.ts` under
 * the path prefix `/aivillage` (base URL `http://HOST:PORT/aivillage/v1`), so it never meets the
 * OpenAI routes. Deterministic: every answer is computed from the request (the digital twin's profile
 * also from the updates sent before it).
 *
 * Routes (under `/aivillage/v1`): `GET /health`, `POST /chat`, `POST /query`, `GET /agents`,
 * `POST /agents/{agent_id}/task`, `GET /p2p/status`, `GET /p2p/peers`, `GET|POST /digital-twin/profile`.
 * - Every route but `/health` wants `Authorization: Bearer <key>` or `x-api-key: <key>` (any key): else 401.
 * - Bodies and query parameters are checked against the spec (required fields, types, enums, ranges):
 *   a violation gets 400 with the spec's `ErrorResponse` (`error_code: 'validation_error'`) plus a
 *   `validation` array, `[{ location: ['body', 'mode'], code, message }]`, one item per field.
 * - Errors on demand: the header `x-mock-error: <status>` (any route), or the text `mock-error-<status>`
 *   as the chat `message`, the `query` or the task's `task_description`, answers that status (400-599)
 *   with an `ErrorResponse` (429: `RateLimitResponse` and `retry-after: 1`) and `x-should-retry: false`
 *   (clients give up at once). `<status>-once` fails only the first attempt of each `Idempotency-Key`
 *   (a request without one: of each method, path and text), without `x-should-retry`, so a client's
 *   retry, carrying the same key, succeeds.
 * - A POST with an `Idempotency-Key` seen before is answered with the first answer (as the spec says
 *   the API does), with `idempotent-replayed: true`.
 * - Every request is recorded (method, path, key, auth, status; the last 1,000): `server.aivillage`.
 *
 * @module
 */

import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { CREATED, countWords, decodeBody, hashString, isObject, type JsonObject } from './mock-common.js';

/** One request the AIVillage mock answered. */
export interface AIVillageMockRequest {
  /** HTTP method, e.g. `POST`. */
  method: string;
  /** Path under the base URL, e.g. `/chat` (no query). */
  path: string;
  /** The `Idempotency-Key` header, if any. */
  idempotencyKey: string | undefined;
  /** How the key came: `bearer`, `x-api-key`, or undefined (none). */
  auth: 'bearer' | 'x-api-key' | undefined;
  /** The status answered. */
  status: number;
}

/** What the AIVillage mock recorded (`MockServer.aivillage`). */
export interface AIVillageMockLog {
  /** The requests answered, oldest first (the last 1,000). A copy: read it again for newer ones. */
  readonly requests: readonly AIVillageMockRequest[];
  /** Forget the recorded requests, the idempotent answers and the digital twin's updates. */
  clear(): void;
}

/** The mounted mock: its request handler and its log. */
export interface AIVillageMock {
  /** Answers one request whose path starts with `/aivillage` (`raw`: the request body, read). */
  handle(req: IncomingMessage, res: ServerResponse, raw: Buffer, n: number): void;
  readonly log: AIVillageMockLog;
}

/** The path prefix the AIVillage mock is mounted under. */
export const AIVILLAGE_PREFIX = '/aivillage';

/** Whether a request URL belongs to the AIVillage mock. */
export function isAIVillagePath(url: string): boolean {
  return url === AIVILLAGE_PREFIX || /^\/aivillage[/?]/.test(url);
}

const ISO = new Date(CREATED * 1000).toISOString();
const MAX_LOG = 1_000;
const MAX_KEYS = 10_000;
const AGENT_TYPES = ['king', 'magi', 'sage', 'oracle', 'navigator'] as const;
const CHAT_MODES = ['fast', 'balanced', 'comprehensive', 'creative'];
const QUERY_MODES = [...CHAT_MODES, 'analytical'];
const CATEGORIES = ['governance', 'infrastructure', 'knowledge', 'culture', 'economy', 'language', 'health'];

const AGENTS = [
  agent('king-001', 'King Coordinator Agent', 'governance', 'available', 0.35, ['coordination', 'oversight']),
  agent('magi-001', 'Magi Research Agent', 'knowledge', 'available', 0.2, ['research', 'analysis']),
  agent('sage-001', 'Sage Knowledge Agent', 'knowledge', 'busy', 0.85, ['knowledge', 'wisdom']),
  agent('oracle-001', 'Oracle Forecasting Agent', 'economy', 'available', 0.5, ['prediction', 'forecasting']),
  agent('navigator-001', 'Navigator Routing Agent', 'infrastructure', 'available', 0.1, [
    'routing',
    'mobile',
  ]),
];

function agent(id: string, name: string, category: string, status: string, load: number, caps: string[]) {
  return { id, name, category, capabilities: caps, status, current_load: load, specializations: caps };
}

const PEERS = [
  peer('peer-bitchat-01', 'bitchat', 'connected', ['relay', 'store_forward']),
  peer('peer-bitchat-02', 'bitchat', 'connecting', ['relay']),
  peer('peer-betanet-01', 'betanet', 'connected', ['mixnet', 'htx']),
];

function peer(id: string, transport: string, status: string, capabilities: string[]) {
  return { id, transport, status, capabilities, last_seen: ISO, metadata: { hops: 1 } };
}

/** A violation of the spec by the request. */
interface Violation {
  location: string[];
  code: string;
  message: string;
}

/** An error answer, thrown inside the handlers. */
class MockFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errorCode: string,
    readonly extra: JsonObject = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const round = (v: number, digits = 3): number => Number(v.toFixed(digits));
const hex = (h: number): string => h.toString(16).padStart(8, '0');
const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Checks values against the spec's rules; collects every violation before failing. */
class Checker {
  readonly violations: Violation[] = [];
  constructor(readonly where: 'body' | 'query') {}

  private add(path: string[], code: string, message: string): void {
    this.violations.push({ location: [this.where, ...path], code, message });
  }
  /** A required or optional string field (with `allowed` values). */
  string(o: JsonObject, key: string, path: string[], opts: { required?: boolean; allowed?: string[] } = {}) {
    const v = o[key];
    if (v === undefined) {
      if (opts.required) this.add(path, 'required', `must have required property '${key}'`);
      return;
    }
    if (typeof v !== 'string') this.add([...path, key], 'type', 'must be string');
    else if (opts.allowed && !opts.allowed.includes(v))
      this.add(
        [...path, key],
        'enum',
        `must be equal to one of the allowed values: ${opts.allowed.join(', ')}`,
      );
  }
  /** An optional number (`integer`: whole) within [min, max]. */
  number(o: JsonObject, key: string, path: string[], min: number, max: number, integer = false) {
    const v = o[key];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)))
      this.add([...path, key], 'type', `must be ${integer ? 'integer' : 'number'}`);
    else if (v < min || v > max) this.add([...path, key], 'range', `must be between ${min} and ${max}`);
  }
  /** An optional boolean. */
  boolean(o: JsonObject, key: string, path: string[]) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean')
      this.add([...path, key], 'type', 'must be boolean');
  }
  /** An optional object; returns it (or an empty one). */
  object(o: JsonObject, key: string, path: string[]): JsonObject {
    const v = o[key];
    if (v === undefined) return {};
    if (!isObject(v)) this.add([...path, key], 'type', 'must be object');
    return isObject(v) ? v : {};
  }
  /** Throws the 400 when anything was wrong. */
  done(): void {
    if (!this.violations.length) return;
    const list = this.violations.map((v) => `${v.location.slice(1).join('.') || this.where}: ${v.message}`);
    throw new MockFailure(400, `Validation failed: ${list.join('; ')}`, 'validation_error', {
      validation: this.violations,
    });
  }
}

/** Creates the AIVillage mock (its own log, idempotent answers and digital twin). */
export function createAIVillageMock(): AIVillageMock {
  let requests: AIVillageMockRequest[] = [];
  let failedOnce = new Set<string>();
  let answered = new Map<string, { status: number; body: unknown }>();
  const twin = { interactions: 0, improvements: 0, accuracySum: 0, accuracyCount: 0 };

  const log: AIVillageMockLog = {
    get requests() {
      return requests.slice();
    },
    clear() {
      requests = [];
      failedOnce = new Set();
      answered = new Map();
      Object.assign(twin, { interactions: 0, improvements: 0, accuracySum: 0, accuracyCount: 0 });
    },
  };

  const chat = (body: JsonObject) => {
    const c = new Checker('body');
    c.string(body, 'message', [], { required: true });
    c.string(body, 'conversation_id', []);
    c.string(body, 'agent_preference', [], { allowed: [...AGENT_TYPES, 'any'] });
    c.string(body, 'mode', [], { allowed: CHAT_MODES });
    const ctx = c.object(body, 'user_context', []);
    c.string(ctx, 'device_type', ['user_context'], { allowed: ['mobile', 'desktop', 'tablet'] });
    c.number(ctx, 'battery_level', ['user_context'], 0, 100);
    c.string(ctx, 'network_type', ['user_context'], { allowed: ['wifi', 'cellular', 'offline'] });
    c.done();
    const message = body.message as string;
    const h = hashString(message);
    const pref = body.agent_preference as string | undefined;
    const used = pref && pref !== 'any' ? pref : (AGENT_TYPES[h % AGENT_TYPES.length] as string);
    const mode = (body.mode as string | undefined) ?? 'balanced';
    const features = ['multi_agent', `mode_${mode}`];
    if (ctx.device_type === 'mobile') features.push('mobile_optimization');
    return {
      response: `${cap(used)} (${mode}) answers: ${message}`,
      conversation_id: (body.conversation_id as string | undefined) ?? `conv-mock-${hex(h)}`,
      agent_used: used,
      processing_time_ms: 10 + 2 * countWords(message),
      metadata: {
        confidence: round(0.6 + (h % 40) / 100, 2),
        features_used: features,
        thought_process: `Routed to ${used} for a ${mode} answer.`,
      },
    };
  };

  const query = (body: JsonObject) => {
    const c = new Checker('body');
    c.string(body, 'query', [], { required: true });
    c.string(body, 'mode', [], { allowed: QUERY_MODES });
    c.boolean(body, 'include_sources', []);
    c.number(body, 'max_results', [], 1, 50, true);
    c.string(body, 'user_id', []);
    c.done();
    const text = body.query as string;
    const h = hashString(text);
    const mode = (body.mode as string | undefined) ?? 'balanced';
    const count =
      body.include_sources === false ? 0 : Math.min((body.max_results as number | undefined) ?? 10, 3);
    const topic = text.split(/\s+/).slice(0, 6).join(' ');
    const sources = Array.from({ length: count }, (_, i) => ({
      title: `Source ${i + 1} on "${topic}"`,
      content: `Passage ${i + 1} retrieved for: ${text}`,
      confidence: round(0.9 - 0.1 * i - (h % 10) / 100),
      url: `https://docs.aivillage.io/mock/${hex(h)}/${i + 1}`,
    }));
    const mean = sources.length ? sources.reduce((s, x) => s + x.confidence, 0) / sources.length : 0.5;
    return {
      query_id: `q-mock-${hex(h)}`,
      response: `Mock RAG answer (${mode}) to "${text}", from ${sources.length} source(s).`,
      sources,
      metadata: {
        processing_time_ms: 20 + 5 * countWords(text),
        mode,
        features_enabled: { bayesian_trust: true, cognitive_nexus: mode !== 'fast' },
        bayesian_confidence: round(mean),
      },
    };
  };

  const agents = (q: URLSearchParams) => {
    const c = new Checker('query');
    const params: JsonObject = Object.fromEntries(q);
    c.string(params, 'category', [], { allowed: CATEGORIES });
    c.string(params, 'available_only', [], { allowed: ['true', 'false'] });
    c.done();
    const list = AGENTS.filter(
      (a) =>
        (!params.category || a.category === params.category) &&
        (params.available_only === 'false' || a.status === 'available'),
    );
    return { agents: list, total: list.length, categories: [...new Set(list.map((a) => a.category))] };
  };

  const assignTask = (agentId: string, body: JsonObject) => {
    const found = AGENTS.find((a) => a.id === agentId);
    if (!found) throw new MockFailure(404, `Agent '${agentId}' not found`, 'agent_not_found');
    const c = new Checker('body');
    c.string(body, 'task_description', [], { required: true });
    c.string(body, 'priority', [], { allowed: ['low', 'medium', 'high', 'urgent'] });
    c.number(body, 'timeout_seconds', [], 1, 3600, true);
    c.object(body, 'context', []);
    c.done();
    const timeout = (body.timeout_seconds as number | undefined) ?? 300;
    return {
      task_id: `task-mock-${hex(hashString(`${agentId}\n${body.task_description as string}`))}`,
      agent_id: agentId,
      status: 'accepted',
      result: {},
      estimated_completion_time: new Date((CREATED + timeout) * 1000).toISOString(),
      metadata: { priority: (body.priority as string | undefined) ?? 'medium', timeout_seconds: timeout },
    };
  };

  const peers = (q: URLSearchParams) => {
    const c = new Checker('query');
    const params: JsonObject = Object.fromEntries(q);
    c.string(params, 'transport', [], { allowed: ['bitchat', 'betanet', 'all'] });
    c.done();
    const t = params.transport ?? 'all';
    const list = PEERS.filter((p) => t === 'all' || p.transport === t);
    const count = (name: string) => PEERS.filter((p) => p.transport === name).length;
    return {
      peers: list,
      total: list.length,
      transports: { bitchat: count('bitchat'), betanet: count('betanet') },
    };
  };

  const p2pStatus = () => ({
    status: 'connected',
    peer_count: PEERS.length,
    transports: {
      bitchat: { status: 'active', peer_count: PEERS.filter((p) => p.transport === 'bitchat').length },
      betanet: { status: 'active', peer_count: PEERS.filter((p) => p.transport === 'betanet').length },
    },
    network_health: { message_success_rate: 0.98, average_latency_ms: 42 },
  });

  const profile = () => ({
    user_id: 'user-mock',
    model_size_mb: round(1.5 + twin.interactions * 0.001),
    learning_stats: {
      total_interactions: twin.interactions,
      surprise_based_improvements: twin.improvements,
      accuracy_score: twin.accuracyCount ? round(twin.accuracySum / twin.accuracyCount) : 0.75,
    },
    privacy_settings: { data_retention_hours: 24, differential_privacy_enabled: true },
    last_updated: new Date((CREATED + twin.interactions) * 1000).toISOString(),
  });

  const updateProfile = (body: JsonObject) => {
    const c = new Checker('body');
    c.string(body, 'data_type', [], { allowed: ['conversation', 'interaction', 'preference', 'context'] });
    const points = body.data_points;
    if (points !== undefined && !Array.isArray(points))
      c.violations.push({ location: ['body', 'data_points'], code: 'type', message: 'must be array' });
    const list: unknown[] = Array.isArray(points) ? points : [];
    list.forEach((p, i) => {
      if (!isObject(p)) {
        c.violations.push({
          location: ['body', 'data_points', String(i)],
          code: 'type',
          message: 'must be object',
        });
        return;
      }
      c.string(p, 'timestamp', ['data_points', String(i)]);
      c.object(p, 'content', ['data_points', String(i)]);
      c.number(p, 'prediction_accuracy', ['data_points', String(i)], 0, 1);
    });
    c.done();
    const scores = list.map((p) => round(1 - (((p as JsonObject).prediction_accuracy as number) ?? 0.5)));
    for (const p of list) {
      const acc = (p as JsonObject).prediction_accuracy;
      if (typeof acc === 'number') {
        twin.accuracySum += acc;
        twin.accuracyCount++;
      }
    }
    twin.interactions += list.length;
    twin.improvements += scores.filter((s) => s > 0.5).length;
    return {
      processed_points: list.length,
      model_updated: list.length > 0,
      privacy_preserved: true,
      surprise_scores: scores,
    };
  };

  const health = () => ({
    status: 'healthy',
    timestamp: ISO,
    services: { database: 'up', p2p_network: 'up', agents: 'up', rag_system: 'up' },
    version: '1.0.0',
  });

  /** Routes one request; returns the 200 body or throws a MockFailure. */
  const route = (method: string, path: string, q: URLSearchParams, body: () => JsonObject): unknown => {
    const task = /^\/agents\/([^/]+)\/task$/.exec(path);
    const routes: Record<string, Record<string, () => unknown>> = {
      '/health': { GET: health },
      '/chat': { POST: () => chat(body()) },
      '/query': { POST: () => query(body()) },
      '/agents': { GET: () => agents(q) },
      '/p2p/status': { GET: p2pStatus },
      '/p2p/peers': { GET: () => peers(q) },
      '/digital-twin/profile': { GET: profile, POST: () => updateProfile(body()) },
    };
    const methods = task
      ? { POST: () => assignTask(decodeURIComponent(task[1] as string), body()) }
      : routes[path];
    if (!methods) throw new MockFailure(404, `Not found: ${method} ${path}`, 'not_found');
    const fn = methods[method];
    if (!fn) throw new MockFailure(405, `Method ${method} not allowed on ${path}`, 'method_not_allowed');
    return fn();
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer, n: number): void => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://mock');
    let path = url.pathname.slice(AIVILLAGE_PREFIX.length) || '/';
    if (path === '/v1' || path.startsWith('/v1/')) path = path.slice(3) || '/';
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    const key = header(req.headers, 'idempotency-key');
    const auth = authOf(req.headers);
    let status = 200;
    try {
      if (!auth && path !== '/health')
        throw new MockFailure(
          401,
          'Missing API key: send Authorization: Bearer <key> or x-api-key: <key>',
          'unauthorized',
        );
      let parsed: JsonObject | undefined;
      const body = (): JsonObject => {
        parsed ??= parseBody(raw, req.headers['content-encoding']);
        return parsed;
      };
      if (key !== undefined && method === 'POST') {
        const prior = answered.get(key);
        if (prior) {
          status = prior.status;
          res.setHeader('idempotent-replayed', 'true');
          reply(res, prior.status, prior.body);
          return;
        }
      }
      const text = method === 'POST' ? triggerText(path, body) : undefined;
      const trigger = parseTrigger(header(req.headers, 'x-mock-error'), true) ?? parseTrigger(text, false);
      if (trigger) {
        const onceKey = key ?? `${method} ${path} ${text ?? ''}`;
        if (!trigger.once || !failedOnce.has(onceKey)) {
          if (trigger.once) {
            if (failedOnce.size >= MAX_KEYS) failedOnce.clear();
            failedOnce.add(onceKey);
          }
          throw triggered(trigger.status, trigger.once);
        }
      }
      const result = route(method, path, url.searchParams, body);
      if (key !== undefined && method === 'POST') {
        if (answered.size >= MAX_KEYS) answered.clear();
        answered.set(key, { status: 200, body: result });
      }
      reply(res, 200, result);
    } catch (err) {
      const f =
        err instanceof MockFailure
          ? err
          : new MockFailure(500, `Mock server error: ${String(err)}`, 'internal_error');
      status = f.status;
      for (const [k, v] of Object.entries(f.headers)) res.setHeader(k, v);
      reply(res, f.status, {
        detail: f.message,
        error_code: f.errorCode,
        timestamp: ISO,
        request_id: `req_mock_${n}`,
        ...f.extra,
      });
    } finally {
      requests.push({ method, path, idempotencyKey: key, auth, status });
      if (requests.length > MAX_LOG) requests.splice(0, requests.length - MAX_LOG);
    }
  };

  return { handle, log };
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function authOf(h: IncomingHttpHeaders): AIVillageMockRequest['auth'] {
  if (/^Bearer\s+\S/i.test(header(h, 'authorization') ?? '')) return 'bearer';
  return header(h, 'x-api-key')?.trim() ? 'x-api-key' : undefined;
}

function parseBody(raw: Buffer, encoding: string | undefined): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeBody(raw, encoding).toString('utf8'));
  } catch {
    throw new MockFailure(400, 'The request body is not valid JSON.', 'invalid_json');
  }
  if (!isObject(parsed))
    throw new MockFailure(400, 'The request body must be a JSON object.', 'invalid_json');
  return parsed;
}

/** The text that may ask for an error: the chat message, the query, the task description. */
function triggerText(path: string, body: () => JsonObject): string | undefined {
  const field =
    path === '/chat'
      ? 'message'
      : path === '/query'
        ? 'query'
        : /\/task$/.test(path)
          ? 'task_description'
          : undefined;
  if (!field) return undefined;
  try {
    const v = body()[field];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An error asked for: `mock-error-<status>[-once]` (the text fields), or also `<status>[-once]` (the
 * `x-mock-error` header, `bare`), status 400-599.
 */
function parseTrigger(
  value: string | undefined,
  bare: boolean,
): { status: number; once: boolean } | undefined {
  const m = /^(mock-error-)?([45]\d\d)(-once)?$/.exec(value?.trim() ?? '');
  if (!m || (!m[1] && !bare)) return undefined;
  return { status: Number(m[2]), once: Boolean(m[3]) };
}

/** The error answered for a trigger: 429 as a `RateLimitResponse` with `retry-after: 1`. */
function triggered(status: number, once: boolean): MockFailure {
  const headers: Record<string, string> = once ? {} : { 'x-should-retry': 'false' };
  if (status === 429) {
    Object.assign(headers, { 'retry-after': '1', 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '0' });
    return new MockFailure(
      429,
      'Rate limit exceeded',
      'rate_limited',
      { retry_after: 1, limit: 100, window_seconds: 60 },
      headers,
    );
  }
  return new MockFailure(
    status,
    `Mock error ${status} (asked for)`,
    status >= 500 ? 'internal_error' : 'mock_error',
    {},
    headers,
  );
}

function reply(res: ServerResponse, status: number, payload: unknown): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
