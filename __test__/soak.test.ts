// Short soak (the long one is `npm run soak`, scripts/soak.mjs): 5,000 requests and 500 streams left
// after 3 events, then nothing may stay behind: engine counters at zero, connections closed, active
// handles back to their baseline, no AbortSignal listener and no MaxListenersExceededWarning, bounded
// RSS growth after warm-up.
import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { APIError, type OpenAI } from '../src/index.js';
import { type FaultServer, startFaultServer } from '../src/testing/index.js';
import { chunk, client, messages } from './helpers/client.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const MB = 1024 * 1024;

const completion = {
  id: 'chatcmpl-soak',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
};

let json: FaultServer;
let failing: FaultServer;
let sse: FaultServer;
let servers: FaultServer[];

beforeAll(async () => {
  [json, failing, sse] = await Promise.all([startFaultServer(), startFaultServer(), startFaultServer()]);
  servers = [json, failing, sse];
  json.setFallback({ kind: 'json', body: completion });
  failing.setFallback({ kind: 'json', status: 400, body: { error: { message: 'bad request' } } });
  sse.setFallback({
    kind: 'sse',
    events: [...Array.from({ length: 12 }, (_, i) => chunk(`t${i}`)), 'data: [DONE]\n\n'],
  });
});
afterAll(async () => {
  for (const s of servers ?? []) await s.close();
});

/** Active resources by type. */
function handles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

it('5,000 requests and 500 streams left early leave nothing behind', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  // A short pool idle timeout so connections are closed soon after the run.
  const opts = { maxRetries: 0, poolIdleTimeout: 300 };
  const ok = client(json.url, opts);
  const bad = client(failing.url, opts);
  const streaming = client(sse.url, opts);
  const clients: OpenAI[] = [ok, bad, streaming];
  const signals: AbortSignal[] = [];
  const unexpected: unknown[] = [];
  const counts = { ok: 0, apiErrors: 0, streams: 0 };

  const run = async (requests: number, streams: number) => {
    let nextRequest = 0;
    let nextStream = 0;
    // One long-lived signal per worker, shared by its requests: a listener left per request would
    // pass Node's limit of 10 and raise MaxListenersExceededWarning.
    const requestWorker = async () => {
      const { signal } = new AbortController();
      signals.push(signal);
      while (nextRequest < requests) {
        const i = nextRequest++;
        if (i % 1_000 === 0) for (const s of servers) s.requests.length = 0;
        try {
          if (i % 100 === 99) {
            await bad.chat.completions.create({ model: 'm', messages }, { signal });
          } else {
            await ok.chat.completions.create({ model: 'm', messages }, { signal });
            counts.ok++;
          }
        } catch (e) {
          if (e instanceof APIError && e.status === 400) counts.apiErrors++;
          else unexpected.push(e);
        }
      }
    };
    const streamWorker = async () => {
      const { signal } = new AbortController();
      signals.push(signal);
      while (nextStream < streams) {
        nextStream++;
        try {
          const stream = await streaming.chat.completions.create(
            { model: 'm', messages, stream: true },
            { signal },
          );
          let n = 0;
          for await (const _ of stream) if (++n === 3) break;
          counts.streams++;
        } catch (e) {
          unexpected.push(e);
        }
      }
    };
    await Promise.all([
      ...Array.from({ length: 32 }, requestWorker),
      ...Array.from({ length: 8 }, streamWorker),
    ]);
  };

  /** Engine counters at zero and every connection closed (the pool idle timeout did it). */
  const settle = async () => {
    const deadline = performance.now() + 8_000;
    for (;;) {
      const busy = clients.some((c) => c.stats().requestsInFlight !== 0 || c.stats().streamsOpen !== 0);
      const open = servers.reduce((n, s) => n + s.connections().open, 0);
      if (!busy && open === 0) return;
      if (performance.now() > deadline) {
        throw new Error(`not settled: ${JSON.stringify({ stats: clients.map((c) => c.stats()), open })}`);
      }
      await sleep(25);
    }
  };

  try {
    await run(500, 50); // warm-up
    await settle();
    for (const s of servers) s.requests.length = 0;
    gc();
    const baseline = { rss: process.memoryUsage().rss, handles: handles() };
    const started = performance.now();
    await run(5_000, 500);
    const seconds = (performance.now() - started) / 1_000;
    await settle();
    for (const s of servers) s.requests.length = 0;
    gc();
    const after = { rss: process.memoryUsage().rss, handles: handles() };
    const growthMB = (after.rss - baseline.rss) / MB;
    const figures = {
      seconds: Math.round(seconds * 10) / 10,
      rssGrowthMB: Math.round(growthMB * 10) / 10,
      handles: { baseline: Object.fromEntries(baseline.handles), after: Object.fromEntries(after.handles) },
      stats: clients.map((c) => c.stats()),
    };
    console.log('soak (short):', JSON.stringify(figures));

    expect(unexpected).toEqual([]);
    expect(counts).toEqual({ ok: 5_445, apiErrors: 55, streams: 550 });
    for (const c of clients) expect(c.stats()).toMatchObject({ requestsInFlight: 0, streamsOpen: 0 });
    expect(ok.stats().requestsTotal + bad.stats().requestsTotal).toBe(5_500);
    expect(streaming.stats().requestsTotal).toBe(550);
    // Handles: the client's sockets are native (not Node handles); the servers' sockets are, and are
    // gone once the client closed its idle connections. No type may have more than at the baseline.
    for (const [type, n] of after.handles) {
      if (type === 'Timeout') continue; // vitest's own timers come and go
      expect({ type, n }).toEqual({ type, n: Math.min(n, baseline.handles.get(type) ?? 0) });
    }
    expect(signals.reduce((n, s) => n + getEventListeners(s, 'abort').length, 0)).toBe(0);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    expect(growthMB).toBeLessThan(48);
  } finally {
    process.off('warning', onWarning);
  }
});
