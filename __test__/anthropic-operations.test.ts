// Every operation of the Anthropic spec, sent through the generated resource method of the real client (real
// addon, loopback HTTP) to Prism serving specs/anthropic.openapi.json, one test per operation of
// src/providers/anthropic/generated/operations.ts; the same machinery as __test__/openai-operations.test.ts
// (read its header). Anthropic's paths carry `/v1`, so the client's base URL is the mock's root. Besides
// method, path, query and body, each request is checked for the client's `x-api-key` and
// `anthropic-version` headers, and beta operations for the `anthropic-beta` value the SDK always sends.
//
// Streams (`stream: true` on messages/completions, the session event streams) go to this file's own loopback
// server (Prism cannot serve text/event-stream), which answers with events sampled from the spec.
// The shared machinery lives in __test__/helpers/operations.ts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestError, UnprocessableEntityError } from '../src/core/errors.js';
import { IdCursorPage, NextPageCursorPage } from '../src/core/pagination/index.js';
import { Stream } from '../src/core/streaming.js';
import { OPERATIONS, type Operation } from '../src/providers/anthropic/generated/operations.js';
import { Anthropic } from '../src/providers/anthropic/index.js';
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
  type Schema,
  type Seen,
  specTools,
} from './helpers/operations.js';
import { type PrismServer, startPrism } from './helpers/prism.js';

// the plan (shared with scripts/generate/tested.mjs), the spec, its sampler and its validator
const PLAN = loadPlan('anthropic');
const spec = loadSpec('anthropic.openapi.json');
const tools = specTools(spec, PLAN);
const { deref, sample, schemaErrors, responseSchemas, buildCall } = tools;
const API_KEY = 'sk-ant-test';
const anthropic = (baseURL: string) => new Anthropic({ apiKey: API_KEY, baseURL, maxRetries: 0 });

// ---------------------------------------------------------------------------------------------------------
// servers: Prism behind a recording proxy, and this file's own server

let prism: PrismServer;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let viaPrism: Anthropic;
let own: OwnServer;
let viaOwn: Anthropic;

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
  const prismPath = (url: string): string => {
    const u = new URL(url, 'http://x');
    if (u.searchParams.get('beta') !== 'true') return url;
    u.searchParams.delete('beta');
    return `/beta${u.pathname}${u.search}`;
  };
  proxy = await recordingProxy(prism.url, prismPath);
  viaPrism = anthropic(proxy.url);
  own = await ownServer();
  viaOwn = anthropic(own.url);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await own?.close();
  await prism?.close();
});

// ---------------------------------------------------------------------------------------------------------
// assertions

const PAGES = { IdCursorPage, NextPageCursorPage } as const;

const CHECKS = {
  afterPath: (s: Seen, op: Operation) => {
    expect(s.headers['x-api-key']).toBe(API_KEY);
    expect(s.headers['anthropic-version']).toBe('2023-06-01');
    const beta = op.beta;
    if (beta) expect(String(s.headers['anthropic-beta']).split(',')).toContain(beta);
  },
};

function expectRequest(seen: Seen | undefined, op: Operation, call: Call): void {
  expectRequestWith(seen, op, call, CHECKS);
}

const CONFIG: CheckConfig<Operation> = {
  tools,
  plan: PLAN,
  proxy: () => proxy,
  own: () => own,
  pages: PAGES,
  checks: CHECKS,
  special: (op) => {
    // `messages.batches.results()` reads the JSONL result file into typed items (lib/batch-results.ts)
    if (!op.operationId.endsWith('message_batches_results')) return undefined;
    const lines = [
      { custom_id: 'a', result: { type: 'succeeded', message: { id: 'msg_1' } } },
      { custom_id: 'b', result: { type: 'errored', error: { type: 'error', error: { type: 'api_error' } } } },
    ];
    return {
      reply: {
        status: 200,
        type: 'application/x-jsonl',
        body: Buffer.from(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`),
      },
      verify: async (promise) => {
        const items: unknown[] = [];
        for await (const item of (await promise) as AsyncIterable<unknown>) items.push(item);
        expect(items).toEqual(lines);
      },
    };
  },
};

/** Sends one operation and checks what came back against the spec. */
const check = (op: Operation, client: Anthropic, isOwn: boolean): Promise<void> =>
  checkOperation(CONFIG, op, client, isOwn);

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
  own.reply = { status: 200, type: 'text/event-stream', body: events.map(frame).join('') };
  own.clear();
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
  const seen = own.last();
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
    expectTestedList('anthropic', PLAN, OPERATIONS, TESTED);
  });
});

describe('Anthropic errors', () => {
  it('a body the spec rejects surfaces as the typed 4xx with the server message (Prism)', async () => {
    const err = await viaPrism.messages
      .create({ model: 'claude-sonnet-4-6', max_tokens: 'many' } as never)
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
    const wire = JSON.parse((proxy.last() as Seen).body.toString('utf8'));
    expect(wire).toEqual({ model: 'claude-sonnet-4-6', max_tokens: 'many' });
    expect(e.message).toContain('Invalid request');
  });

  it("Anthropic's error envelope becomes a BadRequestError with the server's message and type", async () => {
    own.reply = {
      status: 400,
      type: 'application/json',
      body: JSON.stringify({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
        request_id: 'req_test_1',
      }),
    };
    const err = await viaOwn.messages
      .create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] } as never)
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
