// Production transport (issue "Production transport"): what users running aiwire in worker threads,
// serverless handlers and corporate networks rely on. Each group failed on the engine before this work.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APIConnectionError, OpenAI } from '../src/index.js';
import { type FaultServer, startFaultServer } from '../src/testing/index.js';
import { chunk, completion } from './helpers/client.js';

const run = promisify(execFile);
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/transport/${name}`, import.meta.url));

describe('worker threads and exit', () => {
  // Before: terminating 4 workers mid-stream hung for good (napi-rs shut the runtime down with the last
  // environment and joined a thread spinning in mimalloc's thread teardown).
  for (const n of [4, 8]) {
    it(`terminating ${n} workers that are reading streams finishes in well under a second`, async () => {
      for (let round = 0; round < 3; round++) {
        const { stdout } = await run(
          process.execPath,
          [fixture('workers.mjs'), `${dist}index.cjs`, String(n), 'terminate'],
          { timeout: 20_000 },
        );
        const m = /terminated (\d+) workers in ([\d.]+) ms/.exec(stdout);
        expect(m, stdout).not.toBeNull();
        expect(Number(m?.[1])).toBe(n);
        expect(Number(m?.[2])).toBeLessThan(1000);
      }
    });
  }

  it('process.exit() on the main thread exits while workers stream', async () => {
    for (let round = 0; round < 3; round++) {
      const t0 = performance.now();
      await run(process.execPath, [fixture('workers.mjs'), `${dist}index.cjs`, '4', 'exit'], {
        timeout: 20_000,
      });
      expect(performance.now() - t0).toBeLessThan(15_000);
    }
  });
});

describe('options openai-node users pass that aiwire does not take', () => {
  it('each prints one warning per process naming the aiwire equivalent; the client still works', async () => {
    const warnings: string[] = [];
    const sink = (m: string) => warnings.push(m);
    const logger = { debug: () => {}, info: () => {}, warn: sink, error: sink };
    let fetchCalls = 0;
    const options = {
      apiKey: 'k',
      baseURL: 'http://127.0.0.1:9/v1',
      logger,
      fetch: () => {
        fetchCalls++;
        throw new Error('never called');
      },
      httpAgent: {},
      fetchOptions: {},
      dangerouslyAllowBrowser: true,
    };
    new OpenAI(options as never);
    new OpenAI(options as never);
    expect(warnings).toHaveLength(4);
    expect(warnings.find((w) => w.includes('`fetch`'))).toMatch(
      /never calls a custom fetch.*`proxy`.*aiwire\/fetch/,
    );
    expect(warnings.find((w) => w.includes('`httpAgent`'))).toMatch(/use `proxy` instead of a proxy agent/);
    expect(warnings.find((w) => w.includes('`fetchOptions`'))).toMatch(/use `proxy`, `ca`/);
    expect(warnings.find((w) => w.includes('`dangerouslyAllowBrowser`'))).toMatch(/Node\.js only/);
    expect(fetchCalls).toBe(0);
  });
});

describe('pools outlive their clients', () => {
  it('a client per invocation with a garbage collection in between reuses the previous connection', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const server = await startFaultServer();
    try {
      server.setFallback({ kind: 'json', body: completion });
      const invoke = async () => {
        // Settings of their own (a fresh pool for this test), as a serverless handler builds them.
        const c = new OpenAI({ apiKey: 'k', baseURL: `${server.url}/v1`, connectTimeout: 12_345 });
        await c.chat.completions.create({ model: 'm', messages: [] });
      };
      for (let i = 0; i < 5; i++) {
        await invoke();
        gc(); // the client is gone; its pool stays (one of the few most recent)
        await new Promise((r) => setTimeout(r, 20));
      }
      // One connection reused across the invocations (5 without the kept pools; 2 at most if a request
      // was sent before the previous one's connection was back in the pool).
      expect(server.connections().accepted).toBeLessThanOrEqual(2);
    } finally {
      await server.close();
    }
  });
});

describe('out of file descriptors', () => {
  it('the first client fails with a typed error that says so, and a client works once descriptors are free', async () => {
    const { stdout } = await run(
      'sh',
      ['-c', `ulimit -n 256 && exec "${process.execPath}" "${fixture('no-fds.mjs')}" "${dist}index.js"`],
      {
        timeout: 20_000,
      },
    );
    const { first, second } = JSON.parse(stdout.trim());
    expect(first.ok).toBe(false);
    expect(first.typed).toBe(true);
    expect(first.message).toMatch(/out of file descriptors \(EMFILE\)\. Raise the limit/);
    expect(second).toEqual({ ok: true, code: 'ECONNREFUSED' });
  });
});

describe('debug logs', () => {
  // One line per attempt (why it retries, the wait), the outcome with the request id, one line per
  // stream end; openai-node's `[log_xxxxxx]` prefix so the same filters work.
  let server: FaultServer;
  beforeAll(async () => {
    server = await startFaultServer();
  });
  afterAll(async () => {
    await server.close();
  });

  function capture(): { lines: string[]; client: OpenAI; details: unknown[] } {
    const lines: string[] = [];
    const details: unknown[] = [];
    const sink = (m: string, ...rest: unknown[]) => {
      lines.push(m);
      details.push(rest[0]);
    };
    const client = new OpenAI({
      apiKey: 'sk-secret-123',
      baseURL: `${server.url}/v1`,
      maxRetries: 2,
      retryMinDelay: 5,
      logLevel: 'debug',
      logger: { debug: sink, info: sink, warn: sink, error: sink },
    });
    return { lines, client, details };
  }

  it('a request retried after a 500 and a 429 logs each attempt, the wait and the outcome', async () => {
    server.reset();
    server.enqueue(
      { kind: 'json', status: 500, body: { error: { message: 'boom' } } },
      {
        kind: 'json',
        status: 429,
        body: { error: { message: 'slow' } },
        headers: { 'retry-after-ms': '10' },
      },
      { kind: 'json', body: completion, headers: { 'x-request-id': 'req_42' } },
    );
    const { lines, client, details } = capture();
    await client.chat.completions.create({ model: 'm', messages: [] });
    const url = `${server.url}/v1/chat/completions`;
    expect(lines).toHaveLength(4);
    const id = /^aiwire: \[(log_[0-9a-f]{6})\] sending request$/.exec(lines[0] ?? '')?.[1];
    expect(id).toBeDefined();
    expect(details[0]).toEqual({ method: 'POST', url });
    const at = (i: number) => lines[i]?.replace(/\d+ms/g, 'Nms');
    expect(at(1)).toBe(
      `aiwire: [${id}] POST ${url} failed with status 500 in Nms - retrying in Nms, 1 attempts remaining`,
    );
    expect(lines[2]).toMatch(/failed with status 429 in \d+ms - retrying in 10ms, 0 attempts remaining$/);
    expect(at(3)).toBe(`aiwire: [${id}] POST ${url} succeeded with status 200 in Nms`);
    expect(details[3]).toMatchObject({ requestId: 'req_42', attempts: 3 });
    expect(lines.join('\n')).not.toContain('sk-secret-123');
  });

  it('a connection failure logs the error and its code', async () => {
    const gone = await startFaultServer();
    const port = gone.port;
    await gone.close();
    const lines: string[] = [];
    const sink = (m: string) => lines.push(m);
    const client = new OpenAI({
      apiKey: 'k',
      baseURL: `http://127.0.0.1:${port}/v1`,
      maxRetries: 1,
      retryMinDelay: 5,
      logLevel: 'debug',
      logger: { debug: sink, info: sink, warn: sink, error: sink },
    });
    const err = await client.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect((err as APIConnectionError).code).toBe('ECONNREFUSED');
    expect(lines[1]).toMatch(
      /GET http:\/\/127\.0\.0\.1:\d+\/v1\/models connection failed \(.+\) after \d+ms - retrying in \d+ms, 0 attempts remaining$/,
    );
    expect(lines[2]).toMatch(/connection failed \(.+\) \[ECONNREFUSED\] in \d+ms$/);
  });

  it('a stream logs its head and one line at its end (events, bytes)', async () => {
    server.reset();
    const events = [chunk('a'), chunk('b'), chunk('c'), 'data: [DONE]\n\n'];
    server.setFallback({ kind: 'sse', events });
    const { lines, client } = capture();
    const stream = await client.chat.completions.create({ model: 'm', messages: [], stream: true });
    let n = 0;
    for await (const _ of stream) n++;
    expect(n).toBe(3);
    expect(lines[1]).toMatch(/POST .+\/v1\/chat\/completions stream opened with status 200 in \d+ms$/);
    const bytes = events.join('').length;
    expect(lines[2]).toMatch(new RegExp(`stream ended: 3 events, ${bytes} bytes in \\d+ms$`));
    expect(lines).toHaveLength(3);
  });
});
