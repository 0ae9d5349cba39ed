// `client.batches.run()` (aiwire's own helper) against the bundled mock's Batch API (src/testing/
// mock-batches.ts): upload (purpose batch), create, polls through validating → in_progress →
// finalizing → completed, then the output and error files read back line by line. Also: a JSONL file
// on disk as input, abort cancelling the batch, a failed batch (a small loopback server), bad input.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiwireError, APIUserAbortError } from '../src/core/errors.js';
import { BatchFailedError, type BatchResult, OpenAI } from '../src/openai.js';
import { type MockServer, startMockServer } from '../src/testing/index.js';

let mock: MockServer;
let dir: string;

beforeAll(async () => {
  mock = await startMockServer();
  dir = mkdtempSync(join(tmpdir(), 'aiwire-batch-'));
});
afterAll(async () => {
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = () => new OpenAI({ apiKey: 'sk-test', baseURL: `${mock.url}/v1`, maxRetries: 0 });
type Chat = { choices: { message: { content: string } }[] };

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

describe('batches.run() against the bundled mock', () => {
  it('an array of chat requests: progress through the statuses, results by custom_id, failures in the error file', async () => {
    const statuses: string[] = [];
    const questions = ['first question', 'second question', 'third question'];
    const run = await client().batches.run<Chat>(
      [
        ...questions.map((q, i) => ({
          custom_id: `q-${i}`,
          body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: q }] },
        })),
        { custom_id: 'bad', body: { model: 'mock-error-400', messages: [{ role: 'user', content: 'x' }] } },
      ],
      { endpoint: '/v1/chat/completions', pollIntervalMs: 5, onProgress: (b) => statuses.push(b.status) },
    );
    expect(statuses).toEqual(['in_progress', 'finalizing', 'completed']);
    expect(run.batch.status).toBe('completed');
    expect(run.batch.request_counts).toEqual({ total: 4, completed: 3, failed: 1 });
    const results = await collect(run);
    const byId = new Map(results.map((r) => [r.custom_id, r]));
    expect([...byId.keys()]).toEqual(['q-0', 'q-1', 'q-2', 'bad']);
    questions.forEach((q, i) => {
      const r = byId.get(`q-${i}`) as BatchResult<Chat>;
      expect(r.response?.status_code).toBe(200);
      expect(r.response?.body.choices[0]?.message.content).toBe(`Echo: ${q}`);
      expect(r.error).toBeNull();
    });
    expect(byId.get('bad')?.response?.status_code).toBe(400);
    // Iterating again reads the files again.
    expect(await collect(run)).toHaveLength(4);
  });

  it('a JSONL file on disk: the endpoint is read from its first line; a line for another endpoint is an error line', async () => {
    const path = join(dir, 'input.jsonl');
    const line = (id: string, url: string, input: string) =>
      JSON.stringify({
        custom_id: id,
        method: 'POST',
        url,
        body: { model: 'text-embedding-3-small', input, dimensions: 4 },
      });
    writeFileSync(
      path,
      `${[line('e1', '/v1/embeddings', 'alpha'), line('e2', '/v1/embeddings', 'beta'), line('e3', '/v1/chat/completions', 'gamma')].join('\n')}\n`,
    );
    const run = await client().batches.run<{ data: { embedding: number[] }[] }>(path);
    expect(run.batch.endpoint).toBe('/v1/embeddings');
    const results = await collect(run);
    expect(results.map((r) => r.custom_id)).toEqual(['e1', 'e2', 'e3']);
    expect(results[0]?.response?.body.data[0]?.embedding).toHaveLength(4);
    expect(results[2]).toMatchObject({ custom_id: 'e3', response: null, error: { code: 'invalid_request' } });
  });

  it('aborting while waiting cancels the batch and rejects with APIUserAbortError', async () => {
    const c = client();
    const controller = new AbortController();
    let batchId = '';
    const running = c.batches.run(
      [{ custom_id: 'a', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } }],
      {
        endpoint: '/v1/chat/completions',
        pollIntervalMs: 60_000,
        signal: controller.signal,
        onProgress: (b) => {
          batchId = b.id;
          controller.abort();
        },
      },
    );
    await expect(running).rejects.toBeInstanceOf(APIUserAbortError);
    expect(batchId).not.toBe('');
    expect((await c.batches.retrieve(batchId)).status).toBe('cancelled');
  });

  it('bad input: typed errors saying what to fix', async () => {
    const c = client();
    const body = { model: 'gpt-4o-mini', messages: [] };
    await expect(c.batches.run([])).rejects.toThrow(/no requests/);
    await expect(c.batches.run([{ custom_id: 'a', body }])).rejects.toThrow(/no endpoint/);
    await expect(
      c.batches.run(
        [
          { custom_id: 'a', body },
          { custom_id: 'a', body },
        ],
        { endpoint: '/v1/chat/completions' },
      ),
    ).rejects.toThrow(/custom_id "a" is used twice/);
    await expect(
      c.batches.run([
        { custom_id: 'a', url: '/v1/chat/completions', body },
        { custom_id: 'b', url: '/v1/embeddings', body },
      ]),
    ).rejects.toThrow(/one batch has one endpoint/);
    await expect(c.batches.run(join(dir, 'missing.jsonl'))).rejects.toThrow(/cannot read .*ENOENT/);
    await expect(c.batches.run(42 as never)).rejects.toBeInstanceOf(AiwireError);
  });
});

describe('the mock Batch API refuses what the API refuses', () => {
  it('an input file without purpose batch, an endpoint it cannot run, an unknown batch', async () => {
    const c = client();
    const notBatch = await c.files.create({ file: new File(['{}\n'], 'x.jsonl'), purpose: 'assistants' });
    await expect(
      c.batches.create({
        input_file_id: notBatch.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/purpose 'batch'/) });
    const batchFile = await c.files.create({ file: new File(['{}\n'], 'x.jsonl'), purpose: 'batch' });
    expect(await (await c.files.content(batchFile.id)).text()).toBe('{}\n');
    await expect(
      c.batches.create({ input_file_id: batchFile.id, endpoint: '/v1/responses', completion_window: '24h' }),
    ).rejects.toMatchObject({ status: 400, param: 'endpoint' });
    await expect(c.batches.retrieve('batch_nope')).rejects.toMatchObject({ status: 404 });
  });
});

describe('batches.run(): a batch that fails validation', () => {
  it('rejects with BatchFailedError carrying the batch and its line errors', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const url = req.url ?? '';
        const batch = (status: string) => ({
          id: 'batch_f',
          object: 'batch',
          status,
          endpoint: '/v1/chat/completions',
          errors:
            status === 'failed'
              ? { object: 'list', data: [{ code: 'invalid_json', line: 2, message: 'bad JSON' }] }
              : null,
        });
        res.writeHead(200, { 'content-type': 'application/json', 'openai-poll-after-ms': '5' });
        if (url.endsWith('/files'))
          res.end(JSON.stringify({ id: 'file-1', object: 'file', purpose: 'batch' }));
        else if (req.method === 'POST') res.end(JSON.stringify(batch('validating')));
        else res.end(JSON.stringify(batch('failed')));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = new OpenAI({
        apiKey: 'sk-test',
        baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
        maxRetries: 0,
      });
      const err = await c.batches
        .run([{ custom_id: 'a', body: {} }], { endpoint: '/v1/chat/completions' })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(BatchFailedError);
      expect((err as BatchFailedError).message).toBe('Batch batch_f failed: line 2: bad JSON');
      expect((err as BatchFailedError).batch.status).toBe('failed');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
