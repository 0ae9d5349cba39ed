// Every operation of the OpenAI spec, sent through the generated resource method of the real client (real
// addon, loopback HTTP) to Prism serving specs/openai.openapi.yaml, one test per operation of
// src/providers/openai/generated/operations.ts. Prism validates method, path, query and body against the spec
// (an invalid request gets a 4xx problem+json, an unknown path 404), so a 2xx says the spec accepts the
// request; the parsed response is then validated against the operation's 2xx response schema (ajv).
// A recording proxy in front of Prism checks the path params landed in their slots.
//
// Operations Prism cannot serve (text/event-stream; Prism bugs listed in openai-operations.plan.json) go to
// this file's own loopback server, which checks method, path and body and answers with a body sampled from
// the spec. The same plan file says which operations have no test; scripts/generate/tested.mjs turns it
// into scripts/generate/tested-openai.json (the coverage table's "tested" column), checked below.
// The machinery shared with the Anthropic and Replicate tests lives in __test__/helpers/operations.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConversationCursorPage,
  CursorPage,
  NextCursorPage,
  type OpenAI,
  Page,
  Stream,
} from '../src/index.js';
import { OPERATIONS, type Operation } from '../src/providers/openai/generated/operations.js';
import { client } from './helpers/client.js';
import {
  type Call,
  type CheckConfig,
  checkOperation,
  expectRequest as expectRequestWith,
  expectTestedList,
  invoke,
  loadPlan,
  loadSpec,
  type OwnServer,
  ownServer,
  PRISM_NO_SSE,
  recordingProxy,
  type Seen,
  specTools,
} from './helpers/operations.js';
import { type PrismServer, startPrism } from './helpers/prism.js';

// the plan (shared with scripts/generate/tested.mjs), the spec, its sampler and its validator
const PLAN = loadPlan('openai');
const tools = specTools(loadSpec('openai.openapi.yaml'), PLAN);
const { sample, schemaErrors, responseSchemas, buildCall } = tools;

// ---------------------------------------------------------------------------------------------------------
// servers: Prism behind a recording proxy, and this file's own server

let prism: PrismServer;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let viaPrism: OpenAI;
let own: OwnServer;
let viaOwn: OpenAI;

beforeAll(async () => {
  prism = await startPrism('openai');
  proxy = await recordingProxy(prism.url);
  viaPrism = client(proxy.url, { maxRetries: 0 });
  own = await ownServer();
  viaOwn = client(own.url, { maxRetries: 0 });
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await own?.close();
  await prism?.close();
});

// ---------------------------------------------------------------------------------------------------------
// assertions

const PAGES = { CursorPage, ConversationCursorPage, NextCursorPage, Page } as const;

function expectRequest(seen: Seen | undefined, op: Operation, call: Call): void {
  expectRequestWith(seen, op, call, CHECKS);
}
const CHECKS = {
  // embeddings.create asks for base64 vectors when the caller names no encoding (openai-node does too)
  sentBody: (op: Operation, body: Record<string, unknown>) =>
    op.operationId === 'createEmbedding' && !('encoding_format' in body)
      ? { ...body, encoding_format: 'base64' }
      : body,
};

const CONFIG: CheckConfig<Operation> = {
  tools,
  plan: PLAN,
  proxy: () => proxy,
  own: () => own,
  pages: PAGES,
  checks: CHECKS,
  // The client adds what openai-node adds on the client side: `output_text` on responses.
  fixWire: (wire, data) => {
    if (wire.object === 'response') wire.output_text = (data as { output_text?: unknown }).output_text;
  },
};

/** Sends one operation and checks what came back against the spec. */
const check = (op: Operation, openai: OpenAI, isOwn: boolean): Promise<void> =>
  checkOperation(CONFIG, op, openai, isOwn);

/** `stream: true` against the own server: the stream yields the events it sent, each valid per the spec. */
async function checkStream(op: Operation): Promise<void> {
  const call = await buildCall(op, true);
  const schema = responseSchemas(op).sse ?? {};
  const events = [sample(schema, { skipNonRequired: false }), sample(schema, { skipNonRequired: true })];
  own.reply = {
    status: 200,
    type: 'text/event-stream',
    body: `${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}data: [DONE]\n\n`,
  };
  own.clear();
  const stream = await (invoke(viaOwn, op, call.args) as Promise<AsyncIterable<unknown>>);
  expect(stream).toBeInstanceOf(Stream);
  const got: unknown[] = [];
  for await (const e of stream) got.push(e);
  expect(got).toEqual(events);
  for (const e of got) expect(schemaErrors(schema, e)).toBe('');
  const seen = own.last();
  expectRequest(seen, op, call);
  if (op.multipart) expect(seen?.body.toString('latin1')).toMatch(/name="stream"\r\n\r\ntrue/);
}

// ---------------------------------------------------------------------------------------------------------
// the tests

const TESTED = OPERATIONS.filter((op) => !(op.operationId in PLAN.untested));
const label = (op: Operation) => `${op.operationId}: client.${op.resource}.${op.name}()`;

describe('every OpenAI operation', () => {
  for (const op of TESTED) {
    const reason = PLAN.ownServer[op.operationId];
    if (reason) it(`${label(op)} [own server: ${reason}]`, () => check(op, viaOwn, true));
    else if (PLAN.exampleBreaksSchema[op.operationId])
      it(`${label(op)} [response: the spec's example breaks its own schema, checked against the wire]`, () =>
        check(op, viaPrism, false));
    else it(label(op), () => check(op, viaPrism, false));
    if (op.stream) it(`${label(op)} with stream: true [own server: ${PRISM_NO_SSE}]`, () => checkStream(op));
  }

  it('scripts/generate/tested-openai.json lists exactly the operations tested here', () => {
    expectTestedList('openai', PLAN, OPERATIONS, TESTED);
  });
});
