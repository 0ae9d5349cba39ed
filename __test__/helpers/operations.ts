/**
 * Test helper: the machinery shared by __test__/{openai,anthropic,replicate}-operations.test.ts (read the
 * header of __test__/openai-operations.test.ts): the plan file, the spec with its sampler (openapi-sampler)
 * and validator (ajv, after converting OpenAPI schemas to JSON Schema 2020-12), the arguments of a call built
 * from the generated operation table, Prism behind a recording proxy and an own loopback server (from
 * helpers/recording-server.ts), the check of a recorded request, the check of one operation's response, and
 * the tested-list drift check. What differs between providers comes in as parameters and hooks.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import sampler from 'openapi-sampler';
import { expect } from 'vitest';
import YAML from 'yaml';
import { toFile } from '../../src/core/uploads.js';
import type { OwnReply, OwnServer, Recording, Seen } from './recording-server.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const PRISM_NO_SSE = 'Prism cannot serve text/event-stream';

// ---------------------------------------------------------------------------------------------------------
// the plan (shared with scripts/generate/tested.mjs)

export interface Plan {
  bodies: Record<string, Record<string, unknown>>;
  ownServer: Record<string, string>;
  exampleBreaksSchema: Record<string, string>;
  untested: Record<string, string>;
}

/** `__test__/<provider>-operations.plan.json`. */
export function loadPlan(provider: string): Plan {
  return JSON.parse(readFileSync(path.join(ROOT, '__test__', `${provider}-operations.plan.json`), 'utf8'));
}

// ---------------------------------------------------------------------------------------------------------
// the spec, its sampler and its validator

export type Schema = Record<string, unknown>;
export interface SpecParam {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}
export interface SpecOp {
  parameters?: Array<SpecParam | { $ref: string }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
// biome-ignore lint/suspicious/noExplicitAny: the parsed OpenAPI document
export type Spec = any;

/** What the helpers read of a generated operation (every provider's `Operation` has it). */
export interface OperationBase {
  operationId: string;
  method: string;
  path: string;
  resource: string;
  name: string;
  kind: string;
  pathParams: readonly string[];
  params: 'body' | 'query' | 'none';
  headerParams?: Readonly<Record<string, string>>;
  stream?: boolean;
  multipart?: boolean;
  page?: string;
}

/** `specs/<file>`, YAML or JSON by its extension. */
export function loadSpec(file: string): Spec {
  const text = readFileSync(path.join(ROOT, 'specs', file), 'utf8');
  return file.endsWith('.yaml') ? YAML.parse(text, { maxAliasCount: -1 }) : JSON.parse(text);
}

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
export function toJsonSchema(s: unknown): unknown {
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
  // OpenAPI 3.0's boolean form (exclusiveMinimum: true), left in places of the OpenAI 3.1 document
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

/** Positional arguments, then the params object (when the method takes one). */
export interface Call {
  /** Positional argument(s), then the params object (absent when the method takes none). */
  args: unknown[];
  /** The path the request should have, path params filled in. */
  path: string;
  /** Query params the request should carry. */
  query: Record<string, string>;
  /** The body the params object carries (before multipart encoding), or undefined. */
  body: Record<string, unknown> | undefined;
}

/** The spec's helpers: `$ref`s, parameters, sampling, validation, and the arguments of a call. */
export function specTools(spec: Spec, plan: Plan) {
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

  function specOp(op: OperationBase): { item: Spec; op: SpecOp } {
    const item = spec.paths[op.path];
    return { item, op: item[op.method] };
  }

  function specParams(op: OperationBase): SpecParam[] {
    const { item, op: o } = specOp(op);
    return [...(item.parameters ?? []), ...(o.parameters ?? [])].map((p) => deref<SpecParam>(p));
  }

  const sample = (schema: Schema | undefined, opts: Record<string, unknown> = {}): unknown =>
    sampler.sample((schema ?? {}) as never, { skipReadOnly: true, skipNonRequired: true, ...opts }, spec);

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
  function responseSchemas(op: OperationBase): { json: Schema | null; sse: Schema | null; status: number } {
    const ok = Object.entries(specOp(op).op.responses ?? {}).filter(([s]) => /^2/.test(s));
    const content = ok.flatMap(([, r]) => Object.entries(r.content ?? {}));
    const json = content.find(([ct]) => /json/.test(ct))?.[1].schema ?? null;
    const sse = content.find(([ct]) => ct === 'text/event-stream')?.[1].schema ?? null;
    return { json, sse: sse ?? json, status: Number(ok[0]?.[0] ?? 200) };
  }

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

  /** The properties of an object schema, through `$ref`s and `allOf`. */
  function propsOf(schema: Schema | undefined): Record<string, Schema> {
    const s = deref<Schema>(schema ?? {});
    const out: Record<string, Schema> = { ...((s.properties as Record<string, Schema>) ?? {}) };
    for (const part of (s.allOf as Schema[]) ?? []) Object.assign(out, propsOf(part));
    return out;
  }

  const pathValue = (p: SpecParam): string => {
    const s = deref<Schema>(p.schema ?? {});
    if (s.enum || (s.type && s.type !== 'string')) return String(sample(s));
    return `${p.name}_123`;
  };

  /** Each path parameter's value. */
  function pathValues(op: OperationBase): Map<string, string> {
    const params = specParams(op);
    return new Map(
      op.pathParams.map((n) => [
        n,
        pathValue(params.find((p) => p.name === n && p.in === 'path') ?? { name: n, in: 'path' }),
      ]),
    );
  }

  /** The body of a request: a sample of the schema of its content type, then the plan's fields. */
  function sampleBody(op: OperationBase): { body: Record<string, unknown>; schema: Schema | undefined } {
    const content = specOp(op).op.requestBody?.content ?? {};
    const ct = op.multipart
      ? 'multipart/form-data'
      : (Object.keys(content).find((c) => /json/.test(c)) ?? Object.keys(content)[0] ?? '');
    const schema = content[ct]?.schema;
    return {
      body: { ...(sample(schema) as Record<string, unknown>), ...plan.bodies[op.operationId] },
      schema,
    };
  }

  /**
   * The call of an operation whose method takes its last path parameter positionally and the rest in the
   * params object (openai-node's and @anthropic-ai/sdk's style).
   */
  async function buildCall(op: OperationBase & { positional: string | null }, stream = false): Promise<Call> {
    const params = specParams(op);
    const values = pathValues(op);
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
      const sampled = sampleBody(op);
      body = sampled.body;
      if (op.multipart) {
        const props = propsOf(sampled.schema);
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
    for (const [k, v] of new URLSearchParams(
      op.path.includes('?') ? op.path.slice(op.path.indexOf('?')) : '',
    ))
      query[k] = v;
    return { args, path: filled, query, body };
  }

  return {
    deref,
    specOp,
    specParams,
    sample,
    schemaErrors,
    responseSchemas,
    propsOf,
    pathValues,
    sampleBody,
    buildCall,
  };
}
export type SpecTools = ReturnType<typeof specTools>;

/** A small in-memory file for a multipart field. */
const file = (field: string): Promise<unknown> =>
  toFile(Buffer.from(`{"field":"${field}"}\n`), `${field}.jsonl`);

/** Calls `client.<op.resource>.<op.name>(...args)` (resource '': `client.<op.name>()`). */
export function invoke(client: object, op: OperationBase, args: unknown[]): unknown {
  const target = op.resource
    .split('.')
    .filter(Boolean)
    .reduce((o: Record<string, unknown>, k) => o[k] as Record<string, unknown>, client as never);
  const fn = target[op.name];
  if (typeof fn !== 'function') throw new Error(`client.${op.resource}.${op.name} is not a method`);
  return fn.apply(target, args);
}

// ---------------------------------------------------------------------------------------------------------
// servers: Prism behind a recording proxy, and a test file's own server (helpers/recording-server.ts)
export type { OwnReply, OwnServer, Seen } from './recording-server.js';
export { ownServer, recordingProxy } from './recording-server.js';

// ---------------------------------------------------------------------------------------------------------
// assertions

export interface RequestChecks<Op, C extends Call> {
  /** After method and path: the client's headers. */
  afterPath?(s: Seen, op: Op, call: C): void;
  /** After the query: more of the request. */
  afterQuery?(s: Seen, op: Op, call: C): void;
  /** The JSON body expected on the wire (default: `call.body`). */
  sentBody?(op: Op, body: Record<string, unknown>): unknown;
  /** When the call has no body. */
  noBody?(s: Seen): void;
}

/** Checks the request a server saw: method, path, query, body. */
export function expectRequest<Op extends OperationBase, C extends Call>(
  seen: Seen | undefined,
  op: Op,
  call: C,
  checks: RequestChecks<Op, C> = {},
): void {
  expect(seen, 'the request reached the server').toBeDefined();
  const s = seen as Seen;
  expect(s.method).toBe(op.method.toUpperCase());
  expect(s.url.pathname).toBe(call.path);
  checks.afterPath?.(s, op, call);
  for (const [k, v] of Object.entries(call.query)) expect(s.url.searchParams.get(k), `query ${k}`).toBe(v);
  checks.afterQuery?.(s, op, call);
  if (op.multipart) expect(s.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
  else if (call.body) {
    expect(s.headers['content-type']).toMatch(/^application\/json/);
    const sent = checks.sentBody ? checks.sentBody(op, call.body) : call.body;
    expect(JSON.parse(s.body.toString('utf8'))).toEqual(sent);
  } else checks.noBody?.(s);
}

/** A binary operation resolves to the raw `Response`, ok and with a body. */
export async function expectBinary(promise: Promise<unknown>): Promise<void> {
  const res = await promise;
  expect(res).toBeInstanceOf(Response);
  expect((res as Response).ok).toBe(true);
  expect((await (res as Response).arrayBuffer()).byteLength).toBeGreaterThan(0);
}

// biome-ignore lint/suspicious/noExplicitAny: page classes take their own constructor arguments
type PageClass = abstract new (...args: any[]) => { getPaginatedItems(): unknown[] };

/** How {@link checkOperation} checks one provider's operations. */
export interface CheckConfig<Op extends OperationBase & { positional: string | null }> {
  tools: SpecTools;
  plan: Plan;
  proxy: () => Recording;
  own: () => OwnServer;
  pages: Record<string, PageClass>;
  checks?: RequestChecks<Op, Call>;
  /** An operation with its own reply (on the own server) and its own check of the result. */
  special?(op: Op): { reply: OwnReply; verify(result: Promise<unknown>): Promise<void> } | undefined;
  /** Adds to the wire body what the client adds to a response (spec example broken, checked against it). */
  fixWire?(wire: Record<string, unknown>, data: unknown): void;
}

/**
 * Sends one operation through `client` (Prism behind the proxy, or the own server when `own`) and checks
 * what came back against the spec, then the request.
 */
export async function checkOperation<Op extends OperationBase & { positional: string | null }>(
  cfg: CheckConfig<Op>,
  op: Op,
  client: object,
  own: boolean,
): Promise<void> {
  try {
    await checkOnce(cfg, op, client, own);
  } catch (e) {
    // say why when the body did not go out as multipart (uploads not wired into the client)
    const ct = (own ? cfg.own() : cfg.proxy()).last()?.headers['content-type'];
    if (op.multipart && ct && !ct.startsWith('multipart/form-data'))
      throw new Error(`multipart operation sent as ${ct}, not multipart/form-data: ${String(e)}`);
    throw e;
  }
}

async function checkOnce<Op extends OperationBase & { positional: string | null }>(
  cfg: CheckConfig<Op>,
  op: Op,
  client: object,
  own: boolean,
): Promise<void> {
  const { tools, plan } = cfg;
  const call = await tools.buildCall(op);
  const schemas = tools.responseSchemas(op);
  const special = cfg.special?.(op);
  if (own) {
    cfg.own().reply = special
      ? special.reply
      : op.kind === 'binary'
        ? { status: schemas.status, type: 'application/octet-stream', body: Buffer.from([1, 2, 3]) }
        : {
            status: schemas.status,
            type: 'application/json',
            body: JSON.stringify(tools.sample(schemas.json ?? {}, { skipNonRequired: false })),
          };
    cfg.own().clear();
  } else cfg.proxy().clear();
  const badExample = !own && op.operationId in plan.exampleBreaksSchema;
  const promise = invoke(client, op, call.args) as Promise<unknown> & {
    withResponse(): Promise<{ data: unknown; response: Response }>;
  };
  if (special) await special.verify(promise);
  else if (op.kind === 'binary') {
    await expectBinary(promise);
  } else {
    const { data, response } = await promise.withResponse();
    expect(response.status).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(300);
    if (op.kind === 'list') {
      const Pg = cfg.pages[op.page as string] as PageClass;
      expect(data).toBeInstanceOf(Pg);
      const items = (data as InstanceType<PageClass>).getPaginatedItems();
      expect(Array.isArray(items)).toBe(true);
      const raw = (await response.json()) as { data: unknown[] };
      expect(items).toEqual(raw.data);
      if (badExample) expect(tools.schemaErrors(schemas.json as Schema, raw)).not.toBe('');
      else expect(tools.schemaErrors(schemas.json as Schema, raw)).toBe('');
    } else if (schemas.json) {
      expect(data).toBeDefined();
      if (badExample) {
        const wire = (await response.json()) as Record<string, unknown>;
        cfg.fixWire?.(wire, data);
        expect(data).toEqual(wire);
        expect(tools.schemaErrors(schemas.json, data), 'the spec example still breaks its schema').not.toBe(
          '',
        );
      } else expect(tools.schemaErrors(schemas.json, data)).toBe('');
    }
  }
  expectRequest((own ? cfg.own() : cfg.proxy()).last(), op, call, cfg.checks);
}

// ---------------------------------------------------------------------------------------------------------
// the tested list

/** `scripts/generate/tested-<provider>.json` lists exactly the operations tested, and each untested has a reason. */
export function expectTestedList(
  provider: string,
  plan: Plan,
  operations: readonly OperationBase[],
  tested: readonly OperationBase[],
): void {
  const listed = JSON.parse(
    readFileSync(path.join(ROOT, 'scripts', 'generate', `tested-${provider}.json`), 'utf8'),
  );
  expect(listed).toEqual(tested.map((op) => op.operationId).sort());
  for (const [id, why] of Object.entries(plan.untested)) {
    expect(
      operations.some((op) => op.operationId === id),
      `${id} is an operation`,
    ).toBe(true);
    expect(why.length, `${id} has a reason`).toBeGreaterThan(10);
  }
}
