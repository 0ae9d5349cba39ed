// Every Replicate operation, sent through the generated resource method of the real client (real addon,
// loopback HTTP) to Prism serving specs/replicate.openapi.json, one test per operation of
// src/providers/replicate/generated/operations.ts; the same machinery as __test__/anthropic-operations.test.ts
// (read __test__/openai-operations.test.ts's header). Replicate's paths have no `/v1` (it is in the base URL),
// so the client's base URL is the mock's root. Calls are made in replicate-javascript's style: every path
// parameter positional, then the lifted fields (`models.create(owner, name, …)`), then the params object.
// Besides method, path, query and body, each request is checked for `Authorization: Bearer <token>`, and
// operations with a `Prefer` header parameter are sent with `wait: 5` and checked for `Prefer: wait=5`.
// The shared machinery lives in __test__/helpers/operations.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnprocessableEntityError } from '../src/core/errors.js';
import { NextURLPage } from '../src/core/pagination/index.js';
import { toFile } from '../src/core/uploads.js';
import { OPERATIONS, type Operation } from '../src/providers/replicate/generated/operations.js';
import { Replicate } from '../src/providers/replicate/index.js';
import {
  type Call as BaseCall,
  expectBinary,
  expectRequest as expectRequestWith,
  expectTestedList,
  invoke,
  loadPlan,
  loadSpec,
  recordingProxy,
  type Schema,
  type Seen,
  specTools,
} from './helpers/operations.js';
import { type PrismServer, startPrism } from './helpers/prism.js';

// the plan (shared with scripts/generate/tested.mjs), the spec, its sampler and its validator
const PLAN = loadPlan('replicate');
const { deref, specParams, sample, schemaErrors, responseSchemas, propsOf, pathValues, sampleBody } =
  specTools(loadSpec('replicate.openapi.json'), PLAN);
const TOKEN = 'r8_test';
const replicate = (baseURL: string) => new Replicate({ auth: TOKEN, baseURL, maxRetries: 0 });

// ---------------------------------------------------------------------------------------------------------
// arguments of a call, from the spec

/** A schema that is a file in a multipart body. */
function isFileSchema(schema: Schema | undefined): boolean {
  const s = deref<Schema>(schema ?? {});
  return s.format === 'binary' || typeof s.contentMediaType === 'string';
}

interface Call extends BaseCall {
  /** Positional arguments (path parameters, lifted fields), then the params object when the method takes one. */
  args: unknown[];
  /** Headers the request should carry (lower-case names). */
  headers: Record<string, string>;
  /** The body sent (lifted fields included, before multipart encoding), or undefined. */
  body: Record<string, unknown> | undefined;
}

async function buildCall(op: Operation): Promise<Call> {
  const params = specParams(op);
  const values = pathValues(op);
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
    const sampled = sampleBody(op);
    const schema = sampled.schema;
    body = sampled.body;
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

// ---------------------------------------------------------------------------------------------------------
// Prism behind a recording proxy

let prism: PrismServer;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let client: Replicate;
/** The last request the proxy saw. */
const seen = (): Seen | undefined => proxy.last();

beforeAll(async () => {
  prism = await startPrism('replicate');
  proxy = await recordingProxy(prism.url);
  client = replicate(proxy.url);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await prism?.close();
});

// ---------------------------------------------------------------------------------------------------------
// assertions

function expectRequest(s: Seen | undefined, op: Operation, call: Call): void {
  expectRequestWith(s, op, call, {
    afterPath: (r) => expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`),
    afterQuery: (r) => {
      for (const [k, v] of Object.entries(call.headers)) expect(r.headers[k], `header ${k}`).toBe(v);
    },
    noBody: (r) => expect(r.body.byteLength).toBe(0),
  });
}

/** Sends one operation and checks what came back against the spec. */
async function check(op: Operation): Promise<void> {
  const call = await buildCall(op);
  const schemas = responseSchemas(op);
  proxy.clear();
  const promise = invoke(client, op, call.args) as Promise<unknown> & {
    withResponse(): Promise<{ data: unknown; response: Response }>;
  };
  const badExample = op.operationId in PLAN.exampleBreaksSchema;
  if (op.kind === 'binary') {
    await expectBinary(promise);
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
    expectTestedList('replicate', PLAN, OPERATIONS, TESTED);
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
