// The settle queue (src/native/settle.rs + settle.ts): buffered requests settle through one shared
// callback per process. What users rely on: a pending request keeps Node alive and nothing keeps it
// alive afterwards; the ESM and CJS builds loaded together share the queue; bodies and headers arrive
// intact whatever their bytes.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { InternalServerError } from '../src/index.js';
import { client, completion, messages } from './helpers/client.js';
import { loopbackServer } from './helpers/server.js';

const run = promisify(execFile);
const dist = fileURLToPath(new URL('../dist/', import.meta.url));

let baseURL: string;

const peer = loopbackServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const send = (status: number, headers: Record<string, string | string[]>, body: string | Buffer) => {
    res.writeHead(status, headers);
    res.end(body);
  };
  req.resume();
  req.on('end', () => {
    switch (url.pathname) {
      case '/slow/chat/completions':
        setTimeout(() => send(200, { 'content-type': 'application/json' }, JSON.stringify(completion)), 300);
        return;
      case '/utf8/chat/completions': {
        const body = structuredClone(completion);
        (body.choices[0] as (typeof completion.choices)[0]).message.content = 'héllo wörld ✓ 😀 日本語';
        send(200, { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify(body));
        return;
      }
      case '/headers/chat/completions':
        send(
          200,
          {
            'content-type': 'application/json',
            'x-request-id': 'req_123',
            'set-cookie': ['a=1', 'b=2'],
            'x-empty': '',
          },
          JSON.stringify(completion),
        );
        return;
      case '/bytes/models/x':
        // Not valid UTF-8 (a lone 0xff inside a JSON string): the engine hands a Buffer over.
        send(
          200,
          { 'content-type': 'application/json' },
          Buffer.from([...Buffer.from('{"id":"'), 0xff, ...Buffer.from('"}')]),
        );
        return;
      case '/error/chat/completions':
        send(
          500,
          { 'content-type': 'application/json', 'x-should-retry': 'false' },
          JSON.stringify({ error: { message: 'boom ✗', type: 'server_error' } }),
        );
        return;
      default:
        send(200, { 'content-type': 'application/json' }, JSON.stringify(completion));
    }
  });
});

beforeAll(() => {
  baseURL = peer.baseURL;
});

describe('settle queue', () => {
  it('a pending request keeps Node alive, and nothing keeps it alive once it settled', async () => {
    // The server is in this process: the child's event loop has nothing but the request in flight.
    const script = `
      import { OpenAI } from ${JSON.stringify(`${dist}index.js`)};
      const c = new OpenAI({ apiKey: 'k', baseURL: ${JSON.stringify(`${baseURL}/slow`)}, maxRetries: 0 });
      const r = await c.chat.completions.create({ model: 'm', messages: [] });
      console.log('content:' + r.choices[0].message.content);
    `;
    const started = Date.now();
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 15_000,
    });
    expect(stderr).toBe('');
    expect(stdout.trim()).toBe('content:ok');
    // The answer takes 300 ms; an engine keeping the loop alive afterwards would hit the timeout.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('the ESM and CJS builds loaded in one process share it: every request settles', async () => {
    const script = `
      import { createRequire } from 'node:module';
      import { OpenAI as EsmOpenAI } from ${JSON.stringify(`${dist}index.js`)};
      const { OpenAI: CjsOpenAI } = createRequire(import.meta.url)(${JSON.stringify(`${dist}index.cjs`)});
      if (EsmOpenAI === CjsOpenAI) throw new Error('expected two copies of the client');
      const opts = { apiKey: 'k', baseURL: ${JSON.stringify(baseURL)}, maxRetries: 0 };
      const clients = [new EsmOpenAI(opts), new CjsOpenAI(opts)];
      const results = await Promise.all(
        Array.from({ length: 400 }, (_, i) =>
          clients[i % 2].chat.completions.create({ model: 'm', messages: [] }).then((r) => r.choices[0].message.content),
        ),
      );
      console.log(results.filter((c) => c === 'ok').length);
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 30_000,
    });
    expect(stdout.trim()).toBe('400');
  });

  it('a UTF-8 body with non-ASCII text arrives intact', async () => {
    const r = await client(`${baseURL}/utf8`).chat.completions.create({ model: 'm', messages });
    expect(r.choices[0]?.message.content).toBe('héllo wörld ✓ 😀 日本語');
  });

  it('repeated and empty headers and the request id come through', async () => {
    const { response, request_id } = await client(`${baseURL}/headers`)
      .chat.completions.create({ model: 'm', messages })
      .withResponse();
    expect(request_id).toBe('req_123');
    expect(response.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(response.headers.get('x-empty')).toBe('');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual(completion);
  });

  it('a body that is not valid UTF-8 decodes as Node does (U+FFFD), and asResponse() has the raw bytes', async () => {
    const model = await client(`${baseURL}/bytes`).models.retrieve('x');
    expect(model.id).toBe('\ufffd');
    const raw = await client(`${baseURL}/bytes`).models.retrieve('x').asResponse();
    expect(Buffer.from(await raw.arrayBuffer())).toEqual(
      Buffer.from([...Buffer.from('{"id":"'), 0xff, ...Buffer.from('"}')]),
    );
  });

  it('an error body (non-ASCII) is parsed into the APIError', async () => {
    const err = await client(`${baseURL}/error`, { maxRetries: 0 })
      .chat.completions.create({ model: 'm', messages })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect((err as InternalServerError).status).toBe(500);
    expect((err as InternalServerError).message).toContain('boom ✗');
  });
});

describe('worker threads', () => {
  // Each worker loads the addon into its own environment (its own settle queue). This test found a
  // crash: mimalloc v3 faulted in a new thread's first allocation (a worker loading the addon after
  // another worker's thread had exited); mimalloc v2 is used since.
  it('requests in a worker settle, and terminating workers with requests in flight harms nothing', async () => {
    const script = `
      import { Worker } from 'node:worker_threads';
      const workerCode = \`
        const { parentPort, workerData } = require('node:worker_threads');
        const { OpenAI } = require(workerData.dist);
        const c = new OpenAI({ apiKey: 'k', baseURL: workerData.baseURL, maxRetries: 0 });
        const jobs = Array.from({ length: 50 }, () => c.chat.completions.create({ model: 'm', messages: [] }));
        Promise.all(jobs).then((r) => parentPort.postMessage(r.filter((x) => x.choices[0].message.content === 'ok').length));
      \`;
      const run = (baseURL) => new Worker(workerCode, { eval: true, execArgv: [], workerData: { dist: ${JSON.stringify(`${dist}index.cjs`)}, baseURL } });
      // 1. A worker whose requests all complete.
      const done = await new Promise((resolve, reject) => {
        const w = run(${JSON.stringify(baseURL)});
        w.once('message', (n) => { resolve(n); w.terminate(); });
        w.once('error', reject);
      });
      // 2. Workers terminated while their requests (300 ms each) are in flight.
      for (let i = 0; i < 5; i++) {
        const w = run(${JSON.stringify(`${baseURL}/slow`)});
        await new Promise((r) => setTimeout(r, 50));
        await w.terminate();
      }
      await new Promise((r) => setTimeout(r, 400)); // their responses arrive after the workers are gone
      // 3. The main thread still works.
      const { OpenAI } = await import(${JSON.stringify(`${dist}index.js`)});
      const c = new OpenAI({ apiKey: 'k', baseURL: ${JSON.stringify(baseURL)}, maxRetries: 0 });
      const r = await c.chat.completions.create({ model: 'm', messages: [] });
      console.log(done + ' ' + r.choices[0].message.content);
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 30_000,
    });
    expect(stdout.trim()).toBe('50 ok');
  });
});
