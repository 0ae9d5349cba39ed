// Every AIVillage operation, sent through the generated method of the real client (real addon, loopback
// HTTP) to Prism serving specs/aivillage.openapi.yaml, one test per operation of
// src/providers/aivillage/generated/operations.ts; the same machinery as __test__/replicate-operations.test.ts
// (shared helpers in __test__/helpers/operations.ts). The spec's paths have no `/v1` (it is in the base URL),
// so the client's base URL is the mock's root. Each request is checked for method, path, query (the
// optional query parameters are sent too), body (sampled, plus the plan's optional fields), the
// `Authorization: Bearer` key, and an `Idempotency-Key` on POSTs only; each answer is validated against
// the spec with ajv. Then the typed errors Prism answers to bad bodies: 400 (`sl-violations`) and 422
// (problem+json `validation`), both with the refused fields.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestError, UnprocessableEntityError } from '../src/core/errors.js';
import { OPERATIONS, type Operation } from '../src/providers/aivillage/generated/operations.js';
import {
  AIVillage,
  AIVillageUnprocessableEntityError,
  AIVillageValidationError,
} from '../src/providers/aivillage/index.js';
import {
  type Call,
  expectRequest,
  expectTestedList,
  invoke,
  loadPlan,
  loadSpec,
  recordingProxy,
  type Seen,
  specTools,
} from './helpers/operations.js';
import { type PrismServer, startPrism } from './helpers/prism.js';

const PLAN = loadPlan('aivillage');
const tools = specTools(loadSpec('aivillage.openapi.yaml'), PLAN);
const { specParams, sample, schemaErrors, responseSchemas } = tools;
const KEY = 'av-test-key';

let prism: PrismServer;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let client: AIVillage;
const seen = (): Seen | undefined => proxy.last();

beforeAll(async () => {
  prism = await startPrism('aivillage');
  proxy = await recordingProxy(prism.url);
  client = new AIVillage({ apiKey: KEY, baseURL: proxy.url, maxRetries: 0 });
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await prism?.close();
});

/** The call of an operation, with every query parameter (the spec's are all optional) given a value. */
async function buildCall(op: Operation): Promise<Call> {
  const call = await tools.buildCall(op);
  const optional = specParams(op).filter((p) => p.in === 'query' && !p.required);
  if (optional.length) {
    if (op.params === 'query' && call.args.length === 0) call.args.push({});
    const obj = call.args[call.args.length - 1] as Record<string, unknown>;
    for (const q of optional) {
      const v = sample(q.schema);
      obj[q.name] = v;
      call.query[q.name] = String(v);
    }
  }
  return call;
}

/** Sends one operation and checks the answer against the spec, then the request. */
async function check(op: Operation): Promise<void> {
  const call = await buildCall(op);
  const schemas = responseSchemas(op);
  proxy.clear();
  const promise = invoke(client, op, call.args) as Promise<unknown> & {
    withResponse(): Promise<{ data: unknown; response: Response }>;
  };
  const { data, response } = await promise.withResponse();
  expect(response.status).toBe(schemas.status);
  expect(data).toBeDefined();
  expect(schemaErrors(schemas.json as Record<string, unknown>, data)).toBe('');
  expectRequest(seen(), op, call, {
    afterPath: (r) => {
      expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
      if (op.method === 'post') expect(r.headers['idempotency-key']).toMatch(/^aiwire-retry-[0-9a-f]{32}$/);
      else expect(r.headers['idempotency-key']).toBeUndefined();
    },
    noBody: (r) => expect(r.body.byteLength).toBe(0),
  });
}

const TESTED = OPERATIONS.filter((op) => !(op.operationId in PLAN.untested));
const label = (op: Operation) =>
  `${op.operationId}: client.${op.resource ? `${op.resource}.` : ''}${op.name}()`;

describe('every AIVillage operation', () => {
  for (const op of TESTED) it(label(op), () => check(op));

  it('scripts/generate/tested-aivillage.json lists exactly the operations tested here', () => {
    expectTestedList('aivillage', PLAN, OPERATIONS, TESTED);
  });

  it("authScheme 'x-api-key' sends the key in x-api-key (the spec's ApiKeyAuth), which Prism accepts", async () => {
    const keyed = new AIVillage({ apiKey: KEY, baseURL: proxy.url, maxRetries: 0, authScheme: 'x-api-key' });
    const status = await keyed.p2p.status();
    expect(status.status).toBeDefined();
    expect(seen()?.headers['x-api-key']).toBe(KEY);
    expect(seen()?.headers.authorization).toBeUndefined();
  });
});

describe('AIVillage errors from Prism', () => {
  const rejection = (p: PromiseLike<unknown>): Promise<unknown> =>
    Promise.resolve(p).then(
      () => null,
      (e: unknown) => e,
    );

  it('a chat body without `message` and with a bad `mode` → AIVillageValidationError (400) naming both', async () => {
    const err = await rejection(client.chat({ mode: 'nope' } as never));
    expect(err).toBeInstanceOf(AIVillageValidationError);
    expect(err).toBeInstanceOf(BadRequestError);
    const e = err as AIVillageValidationError;
    expect(e.status).toBe(400);
    expect(JSON.parse((seen() as Seen).body.toString('utf8'))).toEqual({ mode: 'nope' });
    // the body is the spec's ErrorResponse example; the fields come from Prism's sl-violations header
    expect(e.error).toHaveProperty('detail');
    expect(e.fieldErrors.map((f) => [f.location, f.field, f.code])).toEqual([
      ['body', 'message', 'required'],
      ['body', 'mode', 'enum'],
    ]);
    expect(e.message).toMatch(/mode: .*allowed values: fast, balanced, comprehensive, creative/);
  });

  it('a task without `task_description` → AIVillageUnprocessableEntityError (422) naming it', async () => {
    const err = await rejection(client.agents.assignTask('magi-001', {} as never));
    expect(err).toBeInstanceOf(AIVillageUnprocessableEntityError);
    expect(err).toBeInstanceOf(UnprocessableEntityError);
    const e = err as AIVillageUnprocessableEntityError;
    expect(e.error).toMatchObject({ title: 'Invalid request', status: 422 });
    expect(e.fieldErrors).toEqual([
      {
        field: 'task_description',
        location: 'body',
        message: "Request body must have required property 'task_description'",
        code: 'required',
      },
    ]);
  });
});
