// Every Replicate operation, sent through the generated resource method of the real client (real addon,
// loopback HTTP) to Prism serving specs/replicate.openapi.json, one test per operation of
// src/providers/replicate/generated/operations.ts; the same machinery as __test__/anthropic-operations.test.ts
// (read __test__/openai-operations.test.ts's header). Replicate's paths have no `/v1` (it is in the base URL),
// so the client's base URL is the mock's root. Calls are made in replicate-javascript's style: every path
// parameter positional, then the lifted fields (`models.create(owner, name, …)`), then the params object.
// Besides method, path, query and body, each request is checked for `Authorization: Bearer <token>`, and
// operations with a `Prefer` header parameter are sent with `wait: 5` and checked for `Prefer: wait=5`.
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import sampler from 'openapi-sampler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnprocessableEntityError } from '../src/core/errors.js';
import { NextURLPage } from '../src/core/pagination/index.js';
import { toFile } from '../src/core/uploads.js';
import { OPERATIONS, type Operation } from '../src/providers/replicate/generated/operations.js';
import { Replicate } from '../src/providers/replicate/index.js';
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
  readFileSync(path.join(ROOT, '__test__', 'replicate-operations.plan.json'), 'utf8'),
);

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

const spec: Spec = JSON.parse(readFileSync(path.join(ROOT, 'specs', 'replicate.openapi.json'), 'utf8'));
const TOKEN = 'r8_test';
const replicate = (baseURL: string) => new Replicate({ auth: TOKEN, baseURL, maxRetries: 0 });

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
  // OpenAPI 3.0's boolean form (exclusiveMinimum: true), should a schema use it
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
  return s.format === 'binary' || typeof s.contentMediaType === 'string';
}

interface Call {
  /** Positional arguments (path parameters, lifted fields), then the params object when the method takes one. */
  args: unknown[];
  /** The path the request should have, path params filled in. */
  path: string;
  /** Query params the request should carry. */
  query: Record<string, string>;
  /** Headers the request should carry (lower-case names). */
  headers: Record<string, string>;
  /** The body sent (lifted fields included, before multipart encoding), or undefined. */
  body: Record<string, unknown> | undefined;
}

const pathValue = (p: SpecParam): string => {
  const s = deref<Schema>(p.schema ?? {});
  if (s.enum || (s.type && s.type !== 'string')) return String(sample(s));
  return `${p.name}_123`;
};

/** The properties of an object schema, through `$ref`s and `allOf`. */
function propsOf(schema: Schema | undefined): Record<string, Schema> {
  const s = deref<Schema>(schema ?? {});
  const out: Record<string, Schema> = { ...((s.properties as Record<string, Schema>) ?? {}) };
  for (const part of (s.allOf as Schema[]) ?? []) Object.assign(out, propsOf(part));
  return out;
}

async function buildCall(op: Operation): Promise<Call> {
  const params = specParams(op);
  const values = new Map(
    op.pathParams.map((n) => [
      n,
      pathValue(params.find((p) => p.name === n && p.in === 'path') ?? { name: n, in: 'path' }),
    ]),
  );
  const lift = op.lift ?? [];
  const args: unknown[] = op.positional.map((n) => values.get(n));
  const lifted = new Map<string, unknown>();
  const obj: Record<string, unknown> = {};
  const headers: Record<string, string> = {};
  for (const [header, prop] of Object.entries(op.headerParams ?? {})) {
    if (header === 'Prefer') {
      obj[prop] = 5;
      headers.prefer = 'wait=5';
    }
  }
  const query: Record<string, string> = {};
  for (const q of params.filter((p) => p.in === 'query' && p.required)) {
    const v = q.name === 'query' ? 'hello world' : sample(q.schema);
    if (lift.includes(q.name)) lifted.set(q.name, v);
    else obj[q.name] = v;
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
      for (const [k, s] of Object.entries(propsOf(schema))) {
        if (k in body && isFileSchema(s)) body[k] = await toFile(Buffer.from('{"hello":1}\n'), `${k}.json`);
      }
    }
    for (const [k, v] of Object.entries(body)) {
      if (lift.includes(k)) lifted.set(k, v);
      else obj[k] = v;
    }
  }
  for (const n of lift) args.push(lifted.get(n));
  if (op.params !== 'none' || op.headerParams) args.push(obj);
  const filled = op.path.replace(/\{([^}]+)\}/g, (_, n: string) => encodeURIComponent(String(values.get(n))));
  return { args, path: filled, query, headers, body };
}

function invoke(client: Replicate, op: Operation, args: unknown[]): unknown {
  const target = op.resource
    .split('.')
    .reduce((o: Record<string, unknown>, k) => o[k] as Record<string, unknown>, client as never);
  const fn = target[op.name];
  if (typeof fn !== 'function') throw new Error(`client.${op.resource}.${op.name} is not a method`);
  return fn.apply(target, args);
}

// ---------------------------------------------------------------------------------------------------------
// Prism behind a recording proxy

interface Seen {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let prism: PrismServer;
let proxy: Server;
let client: Replicate;
let lastSeen: Seen | undefined;
/** The last request the proxy saw (a function: tsc narrows the variable to its last assignment). */
const seen = (): Seen | undefined => lastSeen;

function readBody(req: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

beforeAll(async () => {
  prism = await startPrism('replicate');
  const target = new URL(prism.url);
  proxy = createServer(async (req, res) => {
    const body = await readBody(req);
    lastSeen = {
      method: req.method ?? '',
      url: new URL(req.url ?? '/', prism.url),
      headers: req.headers,
      body,
    };
    const up = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', (e) => res.writeHead(502).end(String(e)));
    up.end(body);
  });
  const url = await new Promise<string>((resolve) =>
    proxy.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`)),
  );
  client = replicate(url);
}, 120_000);

afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
  await prism?.close();
});

// ---------------------------------------------------------------------------------------------------------
// assertions

function expectRequest(s: Seen | undefined, op: Operation, call: Call): void {
  expect(s, 'the request reached the server').toBeDefined();
  const r = s as Seen;
  expect(r.method).toBe(op.method.toUpperCase());
  expect(r.url.pathname).toBe(call.path);
  expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
  for (const [k, v] of Object.entries(call.query)) expect(r.url.searchParams.get(k), `query ${k}`).toBe(v);
  for (const [k, v] of Object.entries(call.headers)) expect(r.headers[k], `header ${k}`).toBe(v);
  if (op.multipart) expect(r.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
  else if (call.body) {
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(r.body.toString('utf8'))).toEqual(call.body);
  } else expect(r.body.byteLength).toBe(0);
}

/** Sends one operation and checks what came back against the spec. */
async function check(op: Operation): Promise<void> {
  const call = await buildCall(op);
  const schemas = responseSchemas(op);
  lastSeen = undefined;
  const promise = invoke(client, op, call.args) as Promise<unknown> & {
    withResponse(): Promise<{ data: unknown; response: Response }>;
  };
  const badExample = op.operationId in PLAN.exampleBreaksSchema;
  if (op.kind === 'binary') {
    const res = await promise;
    expect(res).toBeInstanceOf(Response);
    expect((res as Response).ok).toBe(true);
    expect((await (res as Response).arrayBuffer()).byteLength).toBeGreaterThan(0);
  } else {
    const { data, response } = await promise.withResponse();
    expect(response.status).toBe(schemas.status);
    if (op.kind === 'list') {
      expect(data).toBeInstanceOf(NextURLPage);
      const page = data as NextURLPage<unknown>;
      const raw = (await response.json()) as { results: unknown[]; next?: string | null };
      expect(page.getPaginatedItems()).toEqual(raw.results);
      expect(page.next).toBe(raw.next || null);
      expect(schemaErrors(schemas.json as Schema, raw) !== '').toBe(badExample);
    } else if (schemas.json) {
      expect(data).toBeDefined();
      expect(schemaErrors(schemas.json, data) !== '').toBe(badExample);
    } else expect(data).toBeUndefined();
  }
  expectRequest(seen(), op, call);
}

// ---------------------------------------------------------------------------------------------------------
// the tests

const TESTED = OPERATIONS.filter((op) => !(op.operationId in PLAN.untested));
const label = (op: Operation) => `${op.operationId}: client.${op.resource}.${op.name}()`;

describe('every Replicate operation', () => {
  for (const op of TESTED) {
    if (PLAN.exampleBreaksSchema[op.operationId])
      it(`${label(op)} [response: the spec's example breaks its own schema]`, () => check(op));
    else it(label(op), () => check(op));
  }

  it('scripts/generate/tested-replicate.json lists exactly the operations tested here', () => {
    const listed = JSON.parse(
      readFileSync(path.join(ROOT, 'scripts', 'generate', 'tested-replicate.json'), 'utf8'),
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

  it('`wait: true` sends `Prefer: wait`; no `wait` sends no Prefer header', async () => {
    await client.predictions.create({ version: 'v1', input: {}, wait: true });
    expect(seen()?.headers.prefer).toBe('wait');
    await client.deployments.predictions.create('acme', 'dep', { input: {} });
    expect(seen()?.headers.prefer).toBeUndefined();
    expect(seen()?.url.pathname).toBe('/deployments/acme/dep/predictions');
  });
});

describe('Replicate errors', () => {
  const rejection = (p: Promise<unknown>): Promise<unknown> =>
    p.then(
      () => null,
      (e: unknown) => e,
    );

  it('`Prefer: wait=abc` (outside the spec pattern) surfaces as UnprocessableEntityError with the body', async () => {
    const err = await rejection(
      client.predictions.create({ version: 'v1', input: {} }, { headers: { Prefer: 'wait=abc' } }),
    );
    expect(err).toBeInstanceOf(UnprocessableEntityError);
    const e = err as UnprocessableEntityError;
    expect(e.status).toBe(422);
    expect(seen()?.headers.prefer).toBe('wait=abc');
    // Prism answers with problem+json: title 'Invalid request', the failed fields under `validation`
    expect(e.error).toMatchObject({ title: 'Invalid request', status: 422 });
    expect(JSON.stringify(e.error)).toMatch(/prefer/i);
  });

  it('a missing `version` surfaces as UnprocessableEntityError with the body', async () => {
    const err = await rejection(client.predictions.create({ input: {} } as never));
    expect(err).toBeInstanceOf(UnprocessableEntityError);
    const e = err as UnprocessableEntityError;
    expect(e.status).toBe(422);
    expect(JSON.parse((seen() as Seen).body.toString('utf8'))).toEqual({ input: {} });
    expect(e.error).toMatchObject({ title: 'Invalid request', status: 422 });
    expect(JSON.stringify(e.error)).toContain('version');
  });
});
