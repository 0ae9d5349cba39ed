// Every Codegen operation, sent through the generated resource method of the real client (real addon,
// loopback HTTP) to Prism serving specs/codegen.openapi.json, one test per operation of
// src/providers/codegen/generated/operations.ts (the machinery of __test__/replicate-operations.test.ts;
// shared helpers in __test__/helpers/operations.ts). Codegen's paths include `/v1`, so the client's base
// URL is the mock's root. Calls in the naming table's style: the last path id positional, other path ids
// and the query and body fields in the params object; `org_id` (path or query) comes from the client's
// `orgId` and is checked on the wire. Besides method, path, query and body, each request is checked for
// `Authorization: Bearer <token>`; responses are validated against the spec with ajv, lists read as
// OffsetPages (`items`). Then: a per-call `org_id` override, and bad bodies as UnprocessableEntityError.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnprocessableEntityError } from '../src/core/errors.js';
import { OffsetPage } from '../src/core/pagination/index.js';
import { OPERATIONS, type Operation } from '../src/providers/codegen/generated/operations.js';
import { Codegen } from '../src/providers/codegen/index.js';
import {
  type Call,
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

const PLAN = loadPlan('codegen');
const { specParams, sample, schemaErrors, responseSchemas, pathValues, sampleBody } = specTools(
  loadSpec('codegen.openapi.json'),
  PLAN,
);
const TOKEN = 'cg_test';
const ORG = 323;

/** The arguments of one call, and what the request should carry. */
function buildCall(op: Operation): Call {
  const values = pathValues(op);
  values.set('org_id', String(ORG)); // from the client's orgId
  const clientParams = op.clientParams ?? [];
  const args: unknown[] = [];
  if (op.positional) args.push(values.get(op.positional));
  const obj: Record<string, unknown> = {};
  // parent ids other than the client's
  for (const n of op.pathParams.filter((p) => !clientParams.includes(p) && p !== op.positional))
    obj[n] = values.get(n);
  const query: Record<string, string> = {};
  for (const q of specParams(op).filter((p) => p.in === 'query' && p.required)) {
    if (clientParams.includes(q.name)) {
      query[q.name] = String(ORG);
      continue;
    }
    const v = sample(q.schema);
    obj[q.name] = v;
    query[q.name] = String(v);
  }
  let body: Record<string, unknown> | undefined;
  if (op.params === 'body') {
    body = sampleBody(op).body;
    Object.assign(obj, body);
  }
  if (Object.keys(obj).length || op.params === 'body') args.push(obj);
  const filled = op.path.replace(/\{([^}]+)\}/g, (_, n: string) => encodeURIComponent(String(values.get(n))));
  return { args, path: filled, query, body };
}

let prism: PrismServer;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let client: Codegen;
const seen = (): Seen | undefined => proxy.last();

beforeAll(async () => {
  prism = await startPrism('codegen');
  proxy = await recordingProxy(prism.url);
  client = new Codegen({ apiToken: TOKEN, orgId: ORG, baseURL: proxy.url, maxRetries: 0 });
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await prism?.close();
});

function expectRequest(s: Seen | undefined, op: Operation, call: Call): void {
  expectRequestWith(s, op, call, {
    afterPath: (r) => expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`),
    noBody: (r) => expect(r.body.byteLength).toBe(0),
  });
}

/** Sends one operation and checks what came back against the spec. */
async function check(op: Operation): Promise<void> {
  const call = buildCall(op);
  const schemas = responseSchemas(op);
  proxy.clear();
  const promise = invoke(client, op, call.args) as Promise<unknown> & {
    withResponse(): Promise<{ data: unknown; response: Response }>;
  };
  const badExample = op.operationId in PLAN.exampleBreaksSchema;
  const { data, response } = await promise.withResponse();
  expect(response.status).toBe(schemas.status);
  if (op.kind === 'list') {
    expect(data).toBeInstanceOf(OffsetPage);
    const page = data as OffsetPage<unknown>;
    const raw = (await response.json()) as { items: unknown[]; total: number };
    expect(page.getPaginatedItems()).toEqual(raw.items);
    expect(page.total).toBe(raw.total);
    expect(schemaErrors(schemas.json as Schema, raw) !== '').toBe(badExample);
  } else if (schemas.json) {
    expect(data).toBeDefined();
    expect(schemaErrors(schemas.json, data) !== '').toBe(badExample);
  }
  expectRequest(seen(), op, call);
}

const TESTED = OPERATIONS.filter((op) => !(op.operationId in PLAN.untested));
const label = (op: Operation) => `${op.operationId}: client.${op.resource}.${op.name}()`;

describe('every Codegen operation', () => {
  for (const op of TESTED) it(label(op), () => check(op));

  it('scripts/generate/tested-codegen.json lists exactly the operations tested here', () => {
    expectTestedList('codegen', PLAN, OPERATIONS, TESTED);
  });

  it("a per-call org_id overrides the client's (path and query)", async () => {
    await client.agentRuns.retrieve(7, { org_id: 999 });
    expect(seen()?.url.pathname).toBe('/v1/organizations/999/agent/run/7');
    await client.oauth.tokens.status({ org_id: 42 });
    expect(seen()?.url.searchParams.get('org_id')).toBe('42');
    await client.agentRuns.list({ org_id: '5', limit: 3, source_type: 'API' });
    expect(seen()?.url.pathname).toBe('/v1/organizations/5/agent/runs');
    expect(seen()?.url.searchParams.get('limit')).toBe('3');
    expect(seen()?.url.searchParams.get('source_type')).toBe('API');
  });
});

describe('Codegen errors', () => {
  const rejection = (p: Promise<unknown>): Promise<unknown> =>
    p.then(
      () => null,
      (e: unknown) => e,
    );

  it('a missing `prompt` surfaces as UnprocessableEntityError carrying the validation detail', async () => {
    const err = await rejection(client.agentRuns.create({ metadata: { a: 1 } } as never));
    expect(err).toBeInstanceOf(UnprocessableEntityError);
    const e = err as UnprocessableEntityError;
    expect(e.status).toBe(422);
    expect(JSON.parse((seen() as Seen).body.toString('utf8'))).toEqual({ metadata: { a: 1 } });
    // Prism answers the spec's own 422 (FastAPI's HTTPValidationError, with sampled values): the body is
    // `error`, its `detail` entries make the message (`loc: msg`)
    expect(schemaErrors({ $ref: '#/components/schemas/HTTPValidationError' }, e.error)).toBe('');
    const detail = (e.error as { detail: { loc: string[]; msg: string }[] }).detail;
    expect(detail.length).toBeGreaterThan(0);
    expect(e.message).toContain(`${detail[0]?.loc.join('.')}: ${detail[0]?.msg}`);
  });

  it('a wrongly typed field (agent_run_id as text) → UnprocessableEntityError', async () => {
    const err = await rejection(client.agentRuns.ban({ agent_run_id: 'seven' as never }));
    expect(err).toBeInstanceOf(UnprocessableEntityError);
    expect(JSON.parse((seen() as Seen).body.toString('utf8'))).toEqual({ agent_run_id: 'seven' });
    expect((err as UnprocessableEntityError).error).toHaveProperty('detail');
  });
});
