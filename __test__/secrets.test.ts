// The API key never leaks: a child process runs the client through errors, retries, timeouts, aborts
// and broken streams with every log switch on, printing each error every way a user might (message,
// stack, JSON, util.inspect, console.error); its whole stdout and stderr (Rust side included) must not
// hold the key. The child is this repository's src/ bundled by esbuild, so it tests the current sources.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APIError } from '../src/index.js';
import { platformKey } from '../src/native/index.js';
import { type FaultServer, startFaultServer } from '../src/testing/index.js';
import { chunk, client, messages } from './helpers/client.js';

const KEY = 'sk-test-secret-0123456789';
const here = dirname(fileURLToPath(import.meta.url));

/** Every form of the key worth looking for: itself, its distinctive tail, the header value in base64. */
function leaks(text: string): string[] {
  const needles = [
    KEY,
    'secret-0123456789',
    Buffer.from(KEY).toString('base64'),
    Buffer.from(`Bearer ${KEY}`).toString('base64'),
    encodeURIComponent(KEY),
  ];
  return needles.filter((n) => text.includes(n));
}

/** The client's steps, in the order the fault server answers them. */
const CHILD = `
import { inspect } from 'node:util';
import { OpenAI } from './src/index.ts';

const urls = JSON.parse(process.env.FAULT_URLS);
const out = (label, err) => {
  console.log('---', label, err?.constructor?.name);
  console.log('message:', err?.message);
  console.log('string:', String(err));
  console.log('stack:', err?.stack);
  console.log('json:', JSON.stringify(err));
  console.log('inspect:', inspect(err, { depth: 10, showHidden: true }));
  if (err?.cause) console.log('cause:', inspect(err.cause, { depth: 10, showHidden: true }));
  console.error(err);
};
const attempt = async (label, fn) => {
  try {
    await fn();
    console.log('---', label, 'ok');
  } catch (err) {
    out(label, err);
  }
};
const messages = [{ role: 'user', content: 'hi' }];
// apiKey from OPENAI_API_KEY; log level from logLevel and AIWIRE_LOG / OPENAI_LOG. One server per
// scenario, so a change in how many attempts a fault takes can not shift the others.
const at = (name) => new OpenAI({ baseURL: urls[name], logLevel: 'debug', timeout: 2000 });
const openai = at('retry');
// Azure-style: the key also as a query parameter and in an api-key header.
const azure = new OpenAI({
  baseURL: urls.azure,
  defaultQuery: { 'api-key': process.env.OPENAI_API_KEY },
  defaultHeaders: { 'api-key': process.env.OPENAI_API_KEY, 'x-api-key': process.env.OPENAI_API_KEY },
});
console.log('client:', inspect(openai, { depth: 4 }));
console.log('azure client:', inspect(azure, { depth: 4 }));

await attempt('500 then 429 then 200', () => openai.chat.completions.create({ model: 'm', messages }));
await attempt('401', () => at('401').chat.completions.create({ model: 'm', messages }));
await attempt('reset twice', () => at('reset').chat.completions.create({ model: 'm', messages }, { maxRetries: 1 }));
await attempt('timeout', () => at('hang').chat.completions.create({ model: 'm', messages }, { maxRetries: 0, timeout: 100 }));
await attempt('stream reset', async () => {
  const stream = await at('streamReset').chat.completions.create({ model: 'm', messages, stream: true });
  for await (const part of stream) console.log('chunk', part.choices[0]?.delta?.content);
});
await attempt('stream 400', () => at('400').chat.completions.create({ model: 'm', messages, stream: true }));
await attempt('not json', () => at('html').chat.completions.create({ model: 'm', messages }));
await attempt('abort', () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  return at('hang').chat.completions.create({ model: 'm', messages }, { signal: controller.signal });
});
await attempt('azure 500 then 200', () => azure.chat.completions.create({ model: 'm', messages }));
await attempt('azure refused', () =>
  new OpenAI({ baseURL: 'http://127.0.0.1:1/v1', defaultQuery: { 'api-key': process.env.OPENAI_API_KEY }, maxRetries: 1 })
    .chat.completions.create({ model: 'm', messages }),
);
await attempt('invalid header value', () =>
  openai.chat.completions.create({ model: 'm', messages }, { headers: { 'x-api-key': process.env.OPENAI_API_KEY + '\\n' } }),
);
await attempt('invalid default header value', async () =>
  new OpenAI({ defaultHeaders: { authorization: 'Bearer ' + process.env.OPENAI_API_KEY + '\\r\\n' } }),
);
console.log('=== done');
`;

/** One fault server per scenario of the child (see CHILD). */
let servers: Record<string, FaultServer>;
let work: string;
let bundle: string;

/** The .node file this process loads, for the bundled child (which lives in a temporary directory). */
function nativePath(): string {
  const local = join(here, '..', 'src', 'native', `aiwire.${platformKey()}.node`);
  if (existsSync(local)) return local;
  return createRequire(import.meta.url).resolve(`aiwire-${platformKey()}`);
}

function runChild(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OPENAI_API_KEY: KEY,
    FAULT_URLS: JSON.stringify(Object.fromEntries(Object.entries(servers).map(([k, s]) => [k, s.url]))),
    // Every log switch the project reads, plus the Rust ones in case the engine ever logs.
    AIWIRE_LOG: 'debug',
    OPENAI_LOG: 'debug',
    RUST_LOG: 'trace',
    RUST_BACKTRACE: 'full',
    AIWIRE_NATIVE_PATH: nativePath(),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let server: FaultServer;
const SCENARIOS = ['retry', '401', 'reset', 'hang', 'streamReset', '400', 'html', 'azure'];

beforeAll(async () => {
  server = await startFaultServer();
  servers = Object.fromEntries(
    await Promise.all(SCENARIOS.map(async (name) => [name, await startFaultServer()] as const)),
  );
  work = mkdtempSync(join(tmpdir(), 'aiwire-secrets-'));
  const result = await build({
    stdin: { contents: CHILD, resolveDir: join(here, '..'), sourcefile: 'child.ts', loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  bundle = join(work, 'child.mjs');
  writeFileSync(bundle, result.outputFiles[0]?.text ?? '');
});
afterAll(async () => {
  await server?.close();
  for (const s of Object.values(servers ?? {})) await s.close();
  if (work) rmSync(work, { recursive: true, force: true });
});
beforeEach(() => {
  server.reset();
});

describe('secrets', () => {
  it('with debug logging on, errors and retries print the API key nowhere (stdout, stderr, errors)', async () => {
    const err = (message: string) => ({ error: { message, type: 'server_error' } });
    const completion = { id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [] };
    const by = servers as Record<(typeof SCENARIOS)[number], FaultServer>;
    by.retry?.enqueue(
      { kind: 'json', status: 500, body: err('boom') },
      { kind: 'json', status: 429, body: err('slow'), headers: { 'retry-after-ms': '10' } },
    );
    by.retry?.setFallback({ kind: 'json', body: completion });
    by['401']?.setFallback({
      kind: 'json',
      status: 401,
      body: { error: { message: 'Incorrect API key provided', code: 'invalid_api_key' } },
    });
    by.reset?.setFallback({ kind: 'reset' });
    by.hang?.setFallback({ kind: 'hang' });
    by.streamReset?.setFallback({ kind: 'sse', events: [chunk('a'), chunk('b')], thenReset: true });
    by['400']?.setFallback({ kind: 'json', status: 400, body: err('bad stream') });
    by.html?.setFallback({
      kind: 'raw',
      body: '<html>oops</html>',
      headers: { 'content-type': 'text/html' },
    });
    by.azure?.enqueue({
      kind: 'json',
      status: 500,
      body: err('azure boom'),
      headers: { 'retry-after-ms': '10' },
    });
    by.azure?.setFallback({ kind: 'json', body: completion });
    const { code, stdout, stderr } = await runChild();
    const all = `${stdout}\n${stderr}`;
    expect(stdout).toContain('=== done');
    expect(code).toBe(0);
    // The run went where it should: debug lines, retries, each kind of error printed.
    expect(all).toMatch(/aiwire: \[log_[0-9a-f]{6}\] POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions/);
    expect(all).toMatch(/failed with status 500 in \d+ms - retrying in \d+ms, \d attempts remaining/);
    expect(all).toMatch(/attempts: 3/);
    for (const name of [
      'AuthenticationError',
      'APIConnectionError',
      'APIConnectionTimeoutError',
      'BadRequestError',
      'APIResponseDecodeError',
      'APIUserAbortError',
      'AiwireError',
    ]) {
      expect(all).toContain(name);
    }
    expect(all).toContain('--- 500 then 429 then 200 ok');
    expect(all).toContain('--- azure 500 then 200 ok');
    // The key really was sent: in the header, and for the Azure-style client in the query and api-key.
    expect(by.retry?.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(by.azure?.requests.at(-1)?.url).toContain(`api-key=${KEY}`);
    expect(by.azure?.requests.at(-1)?.headers['api-key']).toBe(KEY);
    // And it is nowhere in what the process printed.
    expect(leaks(all)).toEqual([]);
  });

  it('in-process errors: message, stack, JSON and util.inspect hold no key', async () => {
    server.setFallback({
      kind: 'json',
      status: 401,
      body: { error: { message: 'Incorrect API key provided' } },
    });
    const c = client(server.url, { maxRetries: 0, logLevel: 'off' });
    const errors: unknown[] = [];
    await c.chat.completions.create({ model: 'm', messages }).catch((e: unknown) => errors.push(e));
    await c.chat.completions
      .create({ model: 'm', messages }, { headers: { authorization: `Bearer ${KEY}\n` } })
      .catch((e: unknown) => errors.push(e));
    const refused = client('http://127.0.0.1:1', { maxRetries: 0, defaultQuery: { key: KEY } });
    await refused.chat.completions.create({ model: 'm', messages }).catch((e: unknown) => errors.push(e));
    expect(errors).toHaveLength(3);
    for (const e of errors) {
      const err = e as Error;
      const text = [
        err.message,
        err.stack,
        String(err),
        JSON.stringify(err),
        inspect(err, { depth: 10, showHidden: true }),
      ].join('\n');
      expect(leaks(text)).toEqual([]);
    }
    expect(leaks(inspect(c, { depth: 4 }))).toEqual([]);
    expect(leaks(JSON.stringify(c.stats()))).toEqual([]);
  });

  it('debug log lines through a custom logger name no secret header and no key', async () => {
    server.enqueue(
      { kind: 'json', status: 503, headers: { 'retry-after-ms': '5' } },
      { kind: 'json', body: {} },
    );
    const lines: string[] = [];
    const sink = (message: string, ...rest: unknown[]) => {
      lines.push([message, ...rest.map((r) => inspect(r, { depth: 10 }))].join(' '));
    };
    const c = client(server.url, {
      logLevel: 'debug',
      logger: { error: sink, warn: sink, info: sink, debug: sink },
      defaultHeaders: { 'x-api-key': KEY, 'api-key': KEY, 'proxy-authorization': `Basic ${KEY}` },
    });
    await c.chat.completions.create({ model: 'm', messages }, { headers: { 'x-goog-api-key': KEY } });
    expect(lines.length).toBeGreaterThan(0);
    expect(leaks(lines.join('\n'))).toEqual([]);
  });
});

describe('fixed gaps (regression tests)', () => {
  // Some gateways echo request headers back. The issue: headers named authorization, api-key,
  // x-api-key and the like are redacted in error objects, so printing an error can not leak the key.
  it('secret headers echoed in an error response are redacted in the error object', async () => {
    server.setFallback({
      kind: 'json',
      status: 403,
      body: { error: { message: 'forbidden' } },
      headers: {
        authorization: `Bearer ${KEY}`,
        'x-api-key': KEY,
        'api-key': KEY,
        'set-cookie': `session=${KEY}`,
      },
    });
    const c = client(server.url, { maxRetries: 0 });
    const err = (await c.chat.completions
      .create({ model: 'm', messages })
      .catch((e: unknown) => e)) as APIError;
    expect(err).toBeInstanceOf(APIError);
    expect(err.status).toBe(403);
    for (const name of ['authorization', 'x-api-key', 'api-key', 'set-cookie']) {
      expect(err.headers?.get(name) ?? '').not.toContain(KEY);
    }
    expect(leaks(inspect(err, { depth: 10, showHidden: true }))).toEqual([]);
    expect(leaks(JSON.stringify(err))).toEqual([]);
  });
});
