// aiwire's fetch (src/fetch/) through the real addon over loopback HTTP: what is aiwire's own (engine
// options, retries, timeouts, typed causes, backpressure, streamed uploads) and where it differs from
// Node's fetch on purpose (compressed bodies' headers, redirect modes, url after a redirect).
import { createHash } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { AiwireError, APIConnectionError, APIConnectionTimeoutError } from '../src/core/errors.js';
import { createFetch, FetchResponse, fetch } from '../src/fetch/index.js';
import { type Echo, fetchServer, patternBytes } from './helpers/fetch-server.js';

const server = fetchServer();

async function rejection(p: Promise<unknown>): Promise<Error & { cause?: unknown }> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: Error) => e,
  );
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('aiwire fetch: requests', () => {
  it('adds no Idempotency-Key, sends user-agent aiwire unless told otherwise', async () => {
    const echo = (await (
      await fetch(`${server.baseURL}/echo?agent=1`, { method: 'POST', body: '{}' })
    ).json()) as Echo;
    expect([echo.idempotencyKey, echo.userAgent]).toEqual([null, 'aiwire']);
    const own = (await (
      await fetch(`${server.baseURL}/echo?agent=1`, { headers: { 'User-Agent': 'mine/1.0' } })
    ).json()) as Echo;
    expect(own.userAgent).toBe('mine/1.0');
    const custom = createFetch({ defaultHeaders: { 'X-Team': 'a', 'user-agent': 'svc' } });
    const echoed = (await (
      await custom(`${server.baseURL}/echo?agent=1`, { headers: { 'x-team': 'b' } })
    ).json()) as Echo;
    expect([echoed.custom['x-team'], echoed.userAgent]).toEqual(['b', 'svc']);
  });

  it('streams a 5 MiB ReadableStream body and a Node Readable (duplex: half), bytes intact', async () => {
    const data = patternBytes(5 * 1024 * 1024);
    const want = createHash('sha256').update(data).digest('hex');
    let offset = 0;
    const web = new ReadableStream<Uint8Array>({
      pull(c) {
        if (offset >= data.length) return c.close();
        c.enqueue(data.subarray(offset, offset + 100_000));
        offset += 100_000;
      },
    });
    const init = (body: unknown) => ({ method: 'POST', body, duplex: 'half' }) as RequestInit;
    expect(await (await fetch(`${server.baseURL}/hash`, init(web))).text()).toBe(want);
    const node = Readable.from(
      (function* () {
        for (let i = 0; i < data.length; i += 65_536) yield data.subarray(i, i + 65_536);
      })(),
    );
    expect(await (await fetch(`${server.baseURL}/hash`, init(node))).text()).toBe(want);
  });

  it('refuses non-http(s) URLs and header values the engine cannot send, as TypeErrors', async () => {
    const data = await rejection(fetch('data:,hello'));
    expect(data).toBeInstanceOf(TypeError);
    expect(data.message).toMatch(/only http: and https:/);
    // Node's fetch sends characters 0x80-0xFF as Latin-1 bytes; the engine would send UTF-8.
    const latin = await rejection(fetch(`${server.baseURL}/echo`, { headers: { 'x-name': 'José' } }));
    expect(latin).toBeInstanceOf(TypeError);
    expect(latin.message).toContain('header "x-name" has non-ASCII characters');
  });
});

describe('aiwire fetch: responses', () => {
  it('decodes gzip and br bodies and drops content-encoding/content-length (Node keeps them)', async () => {
    for (const enc of ['gzip', 'br']) {
      const url = `${server.baseURL}/compressed?enc=${enc}`;
      const [mine, node] = await Promise.all([fetch(url), globalThis.fetch(url)]);
      const [a, b] = await Promise.all([mine.text(), node.text()]);
      expect(a).toBe('compressed body '.repeat(200));
      expect(a).toBe(b);
      expect([mine.headers.get('content-encoding'), mine.headers.get('content-length')]).toEqual([
        null,
        null,
      ]);
      expect(node.headers.get('content-encoding')).toBe(enc);
    }
  });

  it('is a Response subclass; clone() keeps url and type', async () => {
    const res = await fetch(`${server.baseURL}/json#x`);
    expect(res).toBeInstanceOf(Response);
    expect(res).toBeInstanceOf(FetchResponse);
    const copy = res.clone();
    expect([copy.url, copy.type, copy.redirected]).toEqual([`${server.baseURL}/json`, 'basic', false]);
    expect(await copy.json()).toEqual(await res.json());
  });

  it('backpressure: a reader that stops holds the server back; cancelling closes the connection', async () => {
    const closed = server.closed;
    const res = await fetch(`${server.baseURL}/big`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let got = 0;
    while (got < 1024 * 1024) got += ((await reader.read()).value as Uint8Array).byteLength;
    await new Promise((r) => setTimeout(r, 300));
    // 64 MiB offered; socket buffers plus the engine's ~1 MiB of pending bytes hold far less.
    expect(server.bigWritten).toBeLessThan(24 * 1024 * 1024);
    await reader.cancel();
    await until(() => server.closed > closed);
  });

  it('follows redirects but reports the request URL and redirected: false (engine limit)', async () => {
    const res = await fetch(`${server.baseURL}/redirect/302`);
    const echo = (await res.json()) as Echo;
    expect([res.status, echo.path, res.url, res.redirected]).toEqual([
      200,
      '/echo?from=redirect',
      `${server.baseURL}/redirect/302`,
      false,
    ]);
  });

  it("refuses redirect: 'manual' and 'error' with a TypeError naming the option", async () => {
    for (const redirect of ['manual', 'error'] as const) {
      const err = await rejection(fetch(`${server.baseURL}/redirect/302`, { redirect }));
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toContain(`redirect: '${redirect}' is not supported`);
    }
  });
});

describe('aiwire fetch: errors, aborts, timeouts, retries', () => {
  it('a refused connection: TypeError "fetch failed" with an APIConnectionError cause', async () => {
    const err = await rejection(fetch('http://127.0.0.1:9/'));
    expect([err.constructor, err.message]).toEqual([TypeError, 'fetch failed']);
    expect(err.cause).toBeInstanceOf(APIConnectionError);
  });

  it('abort before the body is read: text() rejects with the signal reason itself', async () => {
    const c = new AbortController();
    const res = await fetch(`${server.baseURL}/hang-body`, { signal: c.signal });
    c.abort(new Error('stop'));
    expect(await res.text().catch((e: unknown) => e)).toBe(c.signal.reason);
  });

  it('an abort signal shared by many requests keeps no listener once their bodies are read', async () => {
    const c = new AbortController();
    for (let i = 0; i < 20; i++) await (await fetch(`${server.baseURL}/json`, { signal: c.signal })).json();
    await (await fetch(`${server.baseURL}/status/404`, { signal: c.signal })).text();
    expect(getEventListeners(c.signal, 'abort')).toHaveLength(0);
  });

  it('timeout (until the head): TypeError with an APIConnectionTimeoutError cause', async () => {
    const f = createFetch({ timeout: 150 });
    const err = await rejection(f(`${server.baseURL}/hang-head`));
    expect([err.constructor, err.message]).toEqual([TypeError, 'fetch failed']);
    expect(err.cause).toBeInstanceOf(APIConnectionTimeoutError);
  });

  it('streamIdleTimeout: a stalled body errors with TypeError "terminated", timeout as cause', async () => {
    const f = createFetch({ streamIdleTimeout: 150 });
    const res = await f(`${server.baseURL}/hang-body`);
    const err = await rejection(res.text());
    expect([err.constructor, err.message]).toEqual([TypeError, 'terminated']);
    expect(err.cause).toBeInstanceOf(APIConnectionTimeoutError);
  });

  it('retries nothing by default; maxRetries retries 5xx in the engine', async () => {
    const before = server.hits.get('/status/503') ?? 0;
    expect((await fetch(`${server.baseURL}/status/503`)).status).toBe(503);
    expect(server.hits.get('/status/503')).toBe(before + 1);
    const retrying = createFetch({ maxRetries: 2, retryMinDelay: 1, retryMaxDelay: 5 });
    const res = await retrying(`${server.baseURL}/status/503`, { method: 'POST', body: 'x' });
    expect([res.status, await res.text()]).toEqual([503, 'body of 503']);
    expect(server.hits.get('/status/503')).toBe(before + 4);
  });

  it('invalid options throw AiwireError', () => {
    expect(() => createFetch({ timeout: -1 })).toThrow(AiwireError);
    expect(() => createFetch({ maxRetries: 1.5 })).toThrow(AiwireError);
    expect(() => createFetch({ retryMinDelay: 10, retryMaxDelay: 1 })).toThrow(AiwireError);
  });
});

describe('aiwire fetch: dropped responses', () => {
  it('a response dropped unread is collected: its connection closes, a long-lived signal keeps no listener', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const signal = new AbortController().signal;
    const closed = server.closed;
    await (async () => {
      const res = await fetch(`${server.baseURL}/hang-body`, { signal });
      expect(res.status).toBe(200);
    })();
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    for (
      let i = 0;
      i < 50 && (server.closed === closed || getEventListeners(signal, 'abort').length > 0);
      i++
    ) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(server.closed).toBeGreaterThan(closed);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});
