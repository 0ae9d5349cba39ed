// Every operation of the Anthropic spec, sent through the generated resource method of the real client (real
// addon, loopback HTTP) to Prism serving specs/anthropic.openapi.json, one test per operation of
// src/providers/anthropic/generated/operations.ts; the same machinery as __test__/openai-operations.test.ts
// (read its header). Anthropic's paths carry `/v1`, so the client's base URL is the mock's root. Besides
// method, path, query and body, each request is checked for the client's `x-api-key` and
// `anthropic-version` headers, and beta operations for the `anthropic-beta` value the SDK always sends.
//
// Streams (`stream: true` on messages/completions, the session event streams) go to this file's own loopback
// server (Prism cannot serve text/event-stream), which answers with events sampled from the spec.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import sampler from 'openapi-sampler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestError, UnprocessableEntityError } from '../src/core/errors.js';
import { IdCursorPage, NextPageCursorPage } from '../src/core/pagination/index.js';
import { Stream } from '../src/core/streaming.js';
import { toFile } from '../src/core/uploads.js';
import { OPERATIONS, type Operation } from '../src/providers/anthropic/generated/operations.js';
import { Anthropic } from '../src/providers/anthropic/index.js';
import { type PrismServer, startPrism } from './helpers/prism.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// ---------------------------------------------------------------------------------------------------------
// the plan (shared with scripts/generate/tested.mjs)

interface Plan {
  bodies: Record<string, Record<string, unknown>>;
  ownServer: Record<string, string>;
  exampleBreaksSchema: Record<string, string>;
  untested: Record<string, string>;
}
const PLAN: Plan = JSON.parse(
  readFileSync(path.join(ROOT, '__test__', 'anthropic-operations.plan.json'), 'utf8'),
);
const PRISM_NO_SSE = 'Prism cannot serve text/event-stream';

// ---------------------------------------------------------------------------------------------------------
// the spec, its sampler and its validator

type Schema = Record<string, unknown>;
interface SpecParam {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}
interface SpecOp {
  parameters?: Array<SpecParam | { $ref: string }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
// biome-ignore lint/suspicious/noExplicitAny: the parsed OpenAPI document
type Spec = any;

const spec: Spec = JSON.parse(readFileSync(path.join(ROOT, 'specs', 'anthropic.openapi.json'), 'utf8'));
const API_KEY = 'sk-ant-test';
const anthropic = (baseURL: string) => new Anthropic({ apiKey: API_KEY, baseURL, maxRetries: 0 });

function deref<T>(node: T | { $ref: string }): T {
  let s: unknown = node;
  for (let i = 0; i < 20 && s && typeof s === 'object' && '$ref' in s; i++) {
    const ref = (s as { $ref: string }).$ref;
    s = ref
      .split('/')
      .slice(1)
      .reduce((o: Spec, k: string) => o?.[k], spec);
  }
  return s as T;
}

function specOp(op: Operation): { item: Spec; op: SpecOp } {
  const item = spec.paths[op.path];
  return { item, op: item[op.method] };
}

function specParams(op: Operation): SpecParam[] {
  const { item, op: o } = specOp(op);
  return [...(item.parameters ?? []), ...(o.parameters ?? [])].map((p) => deref<SpecParam>(p));
}

const sample = (schema: Schema | undefined, opts: Record<string, unknown> = {}): unknown =>
  sampler.sample((schema ?? {}) as never, { skipReadOnly: true, skipNonRequired: true, ...opts }, spec);

// OpenAPI 3.x schema -> JSON Schema 2020-12 for ajv: `nullable: true` becomes a type union (or an anyOf with
// null where there is no type), OpenAPI-only keywords go, local `$ref`s point into the document added as
// `spec.json`.
const MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
const LISTS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
const ONE = new Set([
  'items',
  'additionalProperties',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
  'unevaluatedProperties',
  'unevaluatedItems',
]);
function toJsonSchema(s: unknown): unknown {
  if (!s || typeof s !== 'object' || Array.isArray(s)) return s;
  const src = s as Schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(src)) {
    if (MAPS.has(k) && v && typeof v === 'object')
      out[k] = Object.fromEntries(Object.entries(v).map(([n, x]) => [n, toJsonSchema(x)]));
    else if (LISTS.has(k) && Array.isArray(v)) out[k] = v.map(toJsonSchema);
    else if (ONE.has(k)) out[k] = toJsonSchema(v);
    else if (k === '$ref' && typeof v === 'string') out[k] = v.startsWith('#/') ? `spec.json${v}` : v;
    else if (k === 'nullable' || k === 'discriminator' || k === 'example' || k.startsWith('x-')) continue;
    else out[k] = v;
  }
  // OpenAPI 3.0's boolean form, left in places of this 3.1 document
  for (const [ex, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof out[ex] === 'boolean') {
      if (out[ex] === true) out[ex] = out[bound];
      else delete out[ex];
      if (out[ex] !== undefined) delete out[bound];
    }
  }
  if (src.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type)) out.type = [...new Set([...out.type, 'null'])];
    else return { anyOf: [out, { type: 'null' }] };
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  return out;
}

const ajv = new Ajv2020.default({ strict: false, allErrors: true, logger: false, validateFormats: true });
addFormats.default(ajv);
ajv.addSchema(
  {
    $id: 'spec.json',
    components: {
      schemas: Object.fromEntries(
        Object.entries(spec.components.schemas).map(([n, s]) => [n, toJsonSchema(s)]),
      ),
    },
  },
  'spec.json',
);

/** Validates `data` against a spec schema; returns ajv's errors as text ('' when valid). */
function schemaErrors(schema: Schema, data: unknown): string {
  const validate = ajv.compile(toJsonSchema(schema) as Schema);
  if (validate(data)) return '';
  return ajv.errorsText(validate.errors?.slice(0, 8), { separator: '\n' });
}

/** The 2xx JSON response schema of an operation, and the text/event-stream one. */
function responseSchemas(op: Operation): { json: Schema | null; sse: Schema | null; status: number } {
  const ok = Object.entries(specOp(op).op.responses ?? {}).filter(([s]) => /^2/.test(s));
  const content = ok.flatMap(([, r]) => Object.entries(r.content ?? {}));
  const json = content.find(([ct]) => /json/.test(ct))?.[1].schema ?? null;
  const sse = content.find(([ct]) => ct === 'text/event-stream')?.[1].schema ?? null;
  return { json, sse: sse ?? json, status: Number(ok[0]?.[0] ?? 200) };
}

// ---------------------------------------------------------------------------------------------------------
// arguments of a call, from the spec

/** A schema that is a file in a multipart body. */
function isFileSchema(schema: Schema | undefined): boolean {
  const s = deref<Schema>(schema ?? {});
  if (
    s.format === 'binary' ||
    typeof s.contentMediaType === 'string' ||
    typeof s.contentEncoding === 'string'
  )
    return true;
  const alts = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  return !!alts?.some((a) => isFileSchema(a));
}

interface Call {
  /** Positional argument, params object (undefined when the method takes none). */
  args: unknown[];
  /** The path the request should have, path params filled in. */
  path: string;
  /** Query params the request should carry. */
  query: Record<string, string>;
  /** The body the params object carries (before multipart encoding), or undefined. */
  body: Record<string, unknown> | undefined;
}

const pathValue = (p: SpecParam): string => {
  const s = deref<Schema>(p.schema ?? {});
  if (s.enum || (s.type && s.type !== 'string')) return String(sample(s));
  return `${p.name}_123`;
};

async function buildCall(op: Operation, stream = false): Promise<Call> {
  const params = specParams(op);
  const values = new Map(
    op.pathParams.map((n) => [
      n,
      pathValue(params.find((p) => p.name === n && p.in === 'path') ?? { name: n, in: 'path' }),
    ]),
  );
  const args: unknown[] = [];
  if (op.positional) args.push(values.get(op.positional));
  const obj: Record<string, unknown> = {};
  for (const n of op.pathParams.slice(0, -1)) obj[n] = values.get(n);
  for (const [header, prop] of Object.entries(op.headerParams ?? {})) {
    const h = params.find((p) => p.in === 'header' && p.name === header);
    if (h?.required) obj[prop] = sample(h.schema);
  }
  const query: Record<string, string> = {};
  for (const q of params.filter((p) => p.in === 'query' && p.required)) {
    const v = sample(q.schema);
    obj[q.name] = v;
    query[q.name] = String(v);
  }
  let body: Record<string, unknown> | undefined;
  if (op.params === 'body') {
    const content = specOp(op).op.requestBody?.content ?? {};
    const ct = op.multipart
      ? 'multipart/form-data'
      : (Object.keys(content).find((c) => /json/.test(c)) ?? Object.keys(content)[0] ?? '');
    const schema = content[ct]?.schema;
    body = { ...(sample(schema) as Record<string, unknown>), ...PLAN.bodies[op.operationId] };
    if (op.multipart) {
      const props = propsOf(schema);
      for (const [k, s] of Object.entries(props)) {
        const r = deref<Schema>(s);
        if (!(k in body)) continue;
        if (isFileSchema(r)) body[k] = await file(k);
        else if (r.type === 'array' && isFileSchema(r.items as Schema)) body[k] = [await file(k)];
      }
    }
    if (stream) body.stream = true;
    else if (op.stream && 'stream' in body) delete body.stream;
    Object.assign(obj, body);
  }
  const hasArg = op.params !== 'none' || op.pathParams.length > 1 || !!op.headerParams;
  if (hasArg) args.push(obj);
  const filled = op.path
    .replace(/\?.*$/, '')
    .replace(/\{([^}]+)\}/g, (_, n: string) => encodeURIComponent(String(values.get(n))));
  for (const [k, v] of new URLSearchParams(op.path.includes('?') ? op.path.slice(op.path.indexOf('?')) : ''))
    query[k] = v;
  return { args, path: filled, query, body };
}

/** The properties of an object schema, through `$ref`s and `allOf`. */
function propsOf(schema: Schema | undefined): Record<string, Schema> {
  const s = deref<Schema>(schema ?? {});
  const out: Record<string, Schema> = { ...((s.properties as Record<string, Schema>) ?? {}) };
  for (const part of (s.allOf as Schema[]) ?? []) Object.assign(out, propsOf(part));
  return out;
}

/** A small in-memory file for a multipart field. */
const file = (field: string): Promise<unknown> =>
  toFile(Buffer.from(`{"field":"${field}"}\n`), `${field}.jsonl`);

function invoke(openai: Anthropic, op: Operation, args: unknown[]): unknown {
  const target = op.resource
    .split('.')
    .reduce((o: Record<string, unknown>, k) => o[k] as Record<string, unknown>, openai as never);
  const fn = target[op.name];
  if (typeof fn !== 'function') throw new Error(`client.${op.resource}.${op.name} is not a method`);
  return fn.apply(target, args);
}

// ---------------------------------------------------------------------------------------------------------
// servers: Prism behind a recording proxy, and this file's own server

interface Seen {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let prism: PrismServer;
let proxy: Server;
let viaPrism: Anthropic;
let own: Server;
let viaOwn: Anthropic;
let lastProxied: Seen | undefined;
let lastOwn: Seen | undefined;
/** The last request the own server saw (a function: tsc narrows the variable to its last assignment). */
const ownSeen = (): Seen | undefined => lastOwn;
let ownReply: { status: number; type: string; body: string | Buffer } = {
  status: 200,
  type: 'application/json',
  body: '{}',
};

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function readBody(req: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

beforeAll(async () => {
  // Prism routes by path alone, so `/v1/x?beta=true` (most beta operations have no twin without the query)
  // is never matched: Prism serves a copy whose `?beta=true` paths live under `/beta`, and the proxy
  // moves `?beta=true` requests there.
  const scratch = mkdtempSync(path.join(tmpdir(), 'aiwire-anthropic-spec-'));
  const routed = {
    ...spec,
    paths: Object.fromEntries(
      Object.entries(spec.paths).map(([p, item]) => [
        p.endsWith('?beta=true') ? `/beta${p.slice(0, -'?beta=true'.length)}` : p,
        item,
      ]),
    ),
  };
  writeFileSync(path.join(scratch, 'anthropic.openapi.json'), JSON.stringify(routed));
  prism = await startPrism('anthropic', { specFile: path.join(scratch, 'anthropic.openapi.json') });
  const target = new URL(prism.url);
  const prismPath = (url: string): string => {
    const u = new URL(url, 'http://x');
    if (u.searchParams.get('beta') !== 'true') return url;
    u.searchParams.delete('beta');
    return `/beta${u.pathname}${u.search}`;
  };
  proxy = createServer(async (req, res) => {
    const body = await readBody(req);
    lastProxied = {
      method: req.method ?? '',
      url: new URL(req.url ?? '/', prism.url),
      headers: req.headers,
      body,
    };
    const up = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: prismPath(req.url ?? '/'),
        headers: req.headers,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', (e) => res.writeHead(502).end(String(e)));
    up.end(body);
  });
  viaPrism = anthropic(await listen(proxy));
  own = createServer(async (req, res) => {
    const body = await readBody(req);
    lastOwn = {
      method: req.method ?? '',
      url: new URL(req.url ?? '/', 'http://own'),
      headers: req.headers,
      body,
    };
    res.writeHead(ownReply.status, { 'content-type': ownReply.type }).end(ownReply.body);
  });
  viaOwn = anthropic(await listen(own));
}, 120_000);

afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
  await new Promise((r) => own?.close(r));
  await prism?.close();
});

// ---------------------------------------------------------------------------------------------------------
// assertions

const PAGES = { IdCursorPage, NextPageCursorPage } as const;

function expectRequest(seen: Seen | undefined, op: Operation, call: Call): void {
  expect(seen, 'the request reached the server').toBeDefined();
  const s = seen as Seen;
  expect(s.method).toBe(op.method.toUpperCase());
  expect(s.url.pathname).toBe(call.path);
  expect(s.headers['x-api-key']).toBe(API_KEY);
  expect(s.headers['anthropic-version']).toBe('2023-06-01');
  const beta = op.beta;
  if (beta) expect(String(s.headers['anthropic-beta']).split(',')).toContain(beta);
  for (const [k, v] of Object.entries(call.query)) expect(s.url.searchParams.get(k), `query ${k}`).toBe(v);
  if (op.multipart) expect(s.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
  else if (call.body) {
    expect(s.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(s.body.toString('utf8'))).toEqual(call.body);
  }
}

/** Sends one operation and checks what came back against the spec. */
async function check(op: Operation, openai: Anthropic, own: boolean): Promise<void> {
  try {
    await checkOnce(op, openai, own);
  } catch (e) {
    // say why when the body did not go out as multipart (uploads not wired into the client)
    const ct = (own ? ownSeen() : lastProxied)?.headers['content-type'];
    if (op.multipart && ct && !ct.startsWith('multipart/form-data'))
      throw new Error(`multipart operation sent as ${ct}, not multipart/form-data: ${String(e)}`);
    throw e;
  }
}

async function checkOnce(op: Operation, openai: Anthropic, own: boolean): Promise<void> {
  const call = await buildCall(op);
  const schemas = responseSchemas(op);
  // `messages.batches.results()` reads the JSONL result file into typed items (lib/batch-results.ts)
  const jsonl = op.operationId.endsWith('message_batches_results');
  const lines = [
    { custom_id: 'a', result: { type: 'succeeded', message: { id: 'msg_1' } } },
    { custom_id: 'b', result: { type: 'errored', error: { type: 'error', error: { type: 'api_error' } } } },
  ];
  if (own) {
    ownReply = jsonl
      ? {
          status: 200,
          type: 'application/x-jsonl',
          body: Buffer.from(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`),
        }
      : op.kind === 'binary'
        ? { status: schemas.status, type: 'application/octet-stream', body: Buffer.from([1, 2, 3]) }
        : {
            status: schemas.status,
            type: 'application/json',
            body: JSON.stringify(sample(schemas.json ?? {}, { skipNonRequired: false })),
          };
    lastOwn = undefined;
  } else lastProxied = undefined;
  const badExample = !own && op.operationId in PLAN.exampleBreaksSchema;
  const promise = invoke(openai, op, call.args) as Promise<unknown> & {
    withResponse(): Promise<{ data: unknown; response: Response }>;
  };
  if (jsonl) {
    const items: unknown[] = [];
    for await (const item of (await promise) as AsyncIterable<unknown>) items.push(item);
    expect(items).toEqual(lines);
  } else if (op.kind === 'binary') {
    const res = await promise;
    expect(res).toBeInstanceOf(Response);
    expect((res as Response).ok).toBe(true);
    expect((await (res as Response).arrayBuffer()).byteLength).toBeGreaterThan(0);
  } else {
    const { data, response } = await promise.withResponse();
    expect(response.status).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(300);
    if (op.kind === 'list') {
      const Pg = PAGES[op.page as keyof typeof PAGES];
      expect(data).toBeInstanceOf(Pg);
      const items = (data as InstanceType<typeof Pg>).getPaginatedItems();
      expect(Array.isArray(items)).toBe(true);
      const raw = (await response.json()) as { data: unknown[] };
      expect(items).toEqual(raw.data);
      if (badExample) expect(schemaErrors(schemas.json as Schema, raw)).not.toBe('');
      else expect(schemaErrors(schemas.json as Schema, raw)).toBe('');
    } else if (schemas.json) {
      expect(data).toBeDefined();
      if (badExample) {
        const wire = (await response.json()) as Record<string, unknown>;
        expect(data).toEqual(wire);
        expect(schemaErrors(schemas.json, data), 'the spec example still breaks its schema').not.toBe('');
      } else expect(schemaErrors(schemas.json, data)).toBe('');
    }
  }
  expectRequest(own ? ownSeen() : lastProxied, op, call);
}

/** The schema of an operation's stream events: the generated chunk type's spec schema. */
function eventSchema(op: Operation): Schema {
  if (op.operationId === 'messages_post') return { $ref: '#/components/schemas/MessageStreamEvent' };
  if (op.operationId === 'beta_messages_post') return { $ref: '#/components/schemas/BetaMessageStreamEvent' };
  return responseSchemas(op).json ?? {};
}

/** One event of each alternative of a union (the sampler picks the first), else the schema's sample. */
function sampleEvents(schema: Schema): unknown[] {
  const s = deref<Schema>(schema);
  const alts = (s.oneOf ?? s.anyOf) as Schema[] | undefined;
  if (!alts) return [sample(schema, { skipNonRequired: false }), sample(schema)];
  return alts.map((a) => sample(a, { skipNonRequired: false }));
}

/**
 * Streams against the own server (Anthropic's wire form: an `event:` line naming the event's `type`, no
 * `[DONE]`): the stream yields the events sent, each valid per the spec.
 */
async function checkStream(op: Operation): Promise<void> {
  const call = await buildCall(op, op.kind === 'stream-or-json');
  const schema = eventSchema(op);
  const events = sampleEvents(schema);
  const frame = (e: unknown) => {
    const type = (e as { type?: unknown })?.type;
    return `${typeof type === 'string' ? `event: ${type}\n` : ''}data: ${JSON.stringify(e)}\n\n`;
  };
  ownReply = { status: 200, type: 'text/event-stream', body: events.map(frame).join('') };
  lastOwn = undefined;
  const stream = await (invoke(viaOwn, op, call.args) as Promise<AsyncIterable<unknown>>);
  expect(stream).toBeInstanceOf(Stream);
  const got: unknown[] = [];
  for await (const e of stream) got.push(e);
  // `ping` keeps the connection alive and is not handed out (as @anthropic-ai/sdk)
  const sent = events.filter((e) => (e as { type?: unknown })?.type !== 'ping');
  expect(got).toEqual(sent);
  // the sampler fills message_start's message from the spec's Message example, which breaks its own schema
  // (see `exampleBreaksSchema`): each event delivered is exactly as valid as the one sent
  for (const [i, e] of got.entries()) expect(schemaErrors(schema, e)).toBe(schemaErrors(schema, sent[i]));
  const seen = ownSeen();
  expectRequest(seen, op, call);
  expect(seen?.headers.accept).toMatch(/text\/event-stream/);
}

// ---------------------------------------------------------------------------------------------------------
// the tests

const TESTED = OPERATIONS.filter((op) => !(op.operationId in PLAN.untested));
const label = (op: Operation) => `${op.operationId}: client.${op.resource}.${op.name}()`;

describe('every Anthropic operation', () => {
  for (const op of TESTED) {
    const reason = PLAN.ownServer[op.operationId];
    if (op.kind === 'stream') {
      it(`${label(op)} [own server: ${PRISM_NO_SSE}]`, () => checkStream(op));
      continue;
    }
    if (reason) it(`${label(op)} [own server: ${reason}]`, () => check(op, viaOwn, true));
    else if (PLAN.exampleBreaksSchema[op.operationId])
      it(`${label(op)} [response: the spec's example breaks its own schema, checked against the wire]`, () =>
        check(op, viaPrism, false));
    else it(label(op), () => check(op, viaPrism, false));
    if (op.stream) it(`${label(op)} with stream: true [own server: ${PRISM_NO_SSE}]`, () => checkStream(op));
  }

  it('scripts/generate/tested-anthropic.json lists exactly the operations tested here', () => {
    const listed = JSON.parse(
      readFileSync(path.join(ROOT, 'scripts', 'generate', 'tested-anthropic.json'), 'utf8'),
    );
    expect(listed).toEqual(TESTED.map((op) => op.operationId).sort());
    for (const [id, why] of Object.entries(PLAN.untested)) {
      expect(
        OPERATIONS.some((op) => op.operationId === id),
        `${id} is an operation`,
      ).toBe(true);
      expect(why.length, `${id} has a reason`).toBeGreaterThan(10);
    }
  });
});

describe('Anthropic errors', () => {
  it('a body the spec rejects surfaces as the typed 4xx with the server message (Prism)', async () => {
    const err = await viaPrism.messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 'many' } as never)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toSatisfy(
      (e: unknown) => e instanceof BadRequestError || e instanceof UnprocessableEntityError,
    );
    const e = err as BadRequestError;
    expect(e.status).toBeGreaterThanOrEqual(400);
    expect(e.status).toBeLessThan(500);
    // Prism answers with problem+json (title 'Invalid request', the failed fields under `validation`)
    const wire = JSON.parse((lastProxied as Seen).body.toString('utf8'));
    expect(wire).toEqual({ model: 'claude-sonnet-4-5', max_tokens: 'many' });
    expect(e.message).toContain('Invalid request');
  });

  it("Anthropic's error envelope becomes a BadRequestError with the server's message and type", async () => {
    ownReply = {
      status: 400,
      type: 'application/json',
      body: JSON.stringify({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
        request_id: 'req_test_1',
      }),
    };
    const err = await viaOwn.messages
      .create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] } as never)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(BadRequestError);
    const e = err as BadRequestError;
    expect(e.status).toBe(400);
    expect(e.message).toContain('max_tokens: Field required');
    expect(JSON.stringify(e.error)).toContain('invalid_request_error');
  });
});
