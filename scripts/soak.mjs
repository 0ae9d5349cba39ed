#!/usr/bin/env node
// Soak: many requests and early-abandoned streams against the fault server on 127.0.0.1, then checks
// that nothing stayed behind: RSS growth after warm-up, active handles back to their baseline, no
// MaxListenersExceededWarning, AbortSignal listeners gone, and the engine's own counters (requests in
// flight, open streams) back to zero. Prints a JSON summary and a human one; exits 1 if a check fails.
//
// Uses the build in dist/ (`npm run build:ts` first). Tunables (environment):
//   SOAK_REQUESTS (100000)  SOAK_STREAMS (10000)  SOAK_CONCURRENCY (32 requests + 8 streams)
//   SOAK_MAX_SECONDS (240: no new work is started after it; the run then fails)
//   SOAK_MAX_RSS_GROWTH_MB (64)
import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { OpenAI } from '../dist/index.js';
import { startFaultServer } from '../dist/testing/index.js';

const num = (name, fallback) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const REQUESTS = num('SOAK_REQUESTS', 100_000);
const STREAMS = num('SOAK_STREAMS', 10_000);
const CONCURRENCY = num('SOAK_CONCURRENCY', 32);
const STREAM_CONCURRENCY = Math.max(1, Math.round(CONCURRENCY / 4));
const MAX_SECONDS = num('SOAK_MAX_SECONDS', 240);
const MAX_RSS_GROWTH_MB = num('SOAK_MAX_RSS_GROWTH_MB', 64);
const WARMUP_REQUESTS = Math.min(2_000, REQUESTS);
const WARMUP_STREAMS = Math.min(200, STREAMS);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function collect() {
  for (let i = 0; i < 3; i++) gc();
}

/** Active resources by type (process.getActiveResourcesInfo), without this script's own sleep timer. */
function handles() {
  const counts = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

const chunk = (content) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-soak',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  })}\n\n`;
const completion = {
  id: 'chatcmpl-soak',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
};
const messages = [{ role: 'user', content: 'soak' }];

const warnings = [];
process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));

const started = performance.now();
const deadline = started + MAX_SECONDS * 1000;
const json = await startFaultServer();
const failing = await startFaultServer();
const sse = await startFaultServer();
json.setFallback({ kind: 'json', body: completion });
failing.setFallback({ kind: 'json', status: 400, body: { error: { message: 'bad request' } } });
// Streams longer than the 3 events read, so every one is left early with the server still writing.
sse.setFallback({
  kind: 'sse',
  events: [...Array.from({ length: 12 }, (_, i) => chunk(`t${i}`)), 'data: [DONE]\n\n'],
});
const servers = [json, failing, sse];
// The fault server records every request; forget them as the run goes, or they would be the growth.
const forgetRequests = () => {
  for (const s of servers) s.requests.length = 0;
};
const openConnections = () => servers.reduce((n, s) => n + s.connections().open, 0);

const ok = new OpenAI({ apiKey: 'sk-soak', baseURL: json.url, maxRetries: 0 });
const bad = new OpenAI({ apiKey: 'sk-soak', baseURL: failing.url, maxRetries: 0 });
const streaming = new OpenAI({ apiKey: 'sk-soak', baseURL: sse.url, maxRetries: 0 });
const clients = [ok, bad, streaming];

const counts = { requests: 0, ok: 0, apiErrors: 0, streams: 0, events: 0, unexpected: [] };
// One long-lived AbortSignal per worker, shared by all of its requests: a listener left behind per
// request would pass Node's limit of 10 and raise MaxListenersExceededWarning.
const signals = [];

async function run(requests, streams) {
  let nextRequest = 0;
  let nextStream = 0;
  const requestWorker = async () => {
    const { signal } = new AbortController();
    signals.push(signal);
    while (nextRequest < requests && performance.now() < deadline) {
      const i = nextRequest++;
      counts.requests++;
      if (i % 1_000 === 0) forgetRequests();
      try {
        if (i % 100 === 99) {
          await bad.chat.completions.create({ model: 'm', messages }, { signal });
          counts.unexpected.push('a 400 resolved');
        } else {
          await ok.chat.completions.create({ model: 'm', messages }, { signal });
          counts.ok++;
        }
      } catch (e) {
        if (e?.status === 400) counts.apiErrors++;
        else counts.unexpected.push(String(e));
      }
    }
  };
  const streamWorker = async () => {
    const { signal } = new AbortController();
    signals.push(signal);
    while (nextStream < streams && performance.now() < deadline) {
      if (nextStream++ % 1_000 === 0) forgetRequests();
      try {
        const stream = await streaming.chat.completions.create(
          { model: 'm', messages, stream: true },
          { signal },
        );
        let n = 0;
        for await (const _ of stream) {
          counts.events++;
          if (++n === 3) break;
        }
        counts.streams++;
      } catch (e) {
        counts.unexpected.push(String(e));
      }
    }
  };
  await Promise.all([
    ...Array.from({ length: CONCURRENCY }, requestWorker),
    ...Array.from({ length: STREAM_CONCURRENCY }, streamWorker),
  ]);
}

/** Waits until the engines' counters are zero and every connection is closed (pool idle timeout). */
async function settle(limitMs) {
  const until = performance.now() + limitMs;
  for (;;) {
    const busy = clients.some((c) => c.stats().requestsInFlight !== 0 || c.stats().streamsOpen !== 0);
    if (!busy && openConnections() === 0) return true;
    if (performance.now() > until) return false;
    await sleep(50);
  }
}

// Warm-up: allocator pools, JIT, the engine's runtime; then the baseline.
await run(WARMUP_REQUESTS, WARMUP_STREAMS);
const warmSettled = await settle(10_000);
forgetRequests();
collect();
await sleep(100);
const baseline = { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, handles: handles() };
const runStarted = performance.now();
const before = { ...counts, unexpected: counts.unexpected.length };

// RSS once a second during the run: a leak climbs steadily, allocator slack levels off.
const rssTimelineMB = [];
const sampler = setInterval(() => rssTimelineMB.push(mb(process.memoryUsage().rss)), 1_000);
await run(REQUESTS, STREAMS);
clearInterval(sampler);
const runSeconds = (performance.now() - runStarted) / 1000;
const completed = counts.requests - before.requests >= REQUESTS && counts.streams - before.streams >= STREAMS;
const settled = await settle(15_000);
forgetRequests();
collect();
await sleep(100);
const after = { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, handles: handles() };
const stats = Object.fromEntries(clients.map((c, i) => [['json', 'errors', 'streams'][i], c.stats()]));
const listeners = signals.reduce((n, s) => n + getEventListeners(s, 'abort').length, 0);
for (const s of servers) await s.close();

const total = (h) => Object.values(h).reduce((a, b) => a + b, 0);
const handleGrowth = Object.fromEntries(
  Object.keys({ ...baseline.handles, ...after.handles })
    .map((k) => [k, (after.handles[k] ?? 0) - (baseline.handles[k] ?? 0)])
    .filter(([, d]) => d !== 0),
);
const rssGrowthMB = mb(after.rss - baseline.rss);
const listenerWarnings = warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'));
const checks = {
  completedWithinTime: completed,
  warmupSettled: warmSettled,
  countersBackToZero:
    settled && clients.every((c) => c.stats().requestsInFlight === 0 && c.stats().streamsOpen === 0),
  connectionsClosed: settled,
  handlesBackToBaseline: total(after.handles) <= total(baseline.handles),
  noListenerWarnings: listenerWarnings.length === 0,
  noAbortListenersLeft: listeners === 0,
  noUnexpectedOutcomes: counts.unexpected.length === 0,
  rssGrowthWithinBound: rssGrowthMB <= MAX_RSS_GROWTH_MB,
};
const summary = {
  requests: counts.requests - before.requests,
  streamsLeftEarly: counts.streams - before.streams,
  ok: counts.ok - before.ok,
  apiErrors: counts.apiErrors - before.apiErrors,
  streamEventsRead: counts.events - before.events,
  unexpected: counts.unexpected.slice(0, 5),
  concurrency: { requests: CONCURRENCY, streams: STREAM_CONCURRENCY },
  runSeconds: Math.round(runSeconds * 10) / 10,
  requestsPerSecond: Math.round((counts.requests - before.requests) / runSeconds),
  totalSeconds: Math.round((performance.now() - started) / 100) / 10,
  rss: {
    baselineMB: mb(baseline.rss),
    afterMB: mb(after.rss),
    growthMB: rssGrowthMB,
    boundMB: MAX_RSS_GROWTH_MB,
  },
  jsHeapGrowthMB: mb(after.heap - baseline.heap),
  rssTimelineMB,
  handles: { baseline: baseline.handles, after: after.handles, growth: handleGrowth },
  engineStats: stats,
  abortListenersLeft: listeners,
  warnings,
  checks,
  pass: Object.values(checks).every(Boolean),
};

console.log(JSON.stringify(summary, null, 2));
console.log(
  [
    '',
    `soak: ${summary.requests} requests (${summary.apiErrors} API errors by design) and ${summary.streamsLeftEarly} streams left after 3 events`,
    `      in ${summary.runSeconds} s (${summary.requestsPerSecond} req/s), ${summary.totalSeconds} s in all`,
    `RSS:  ${summary.rss.baselineMB} MB after warm-up -> ${summary.rss.afterMB} MB (growth ${rssGrowthMB} MB, bound ${MAX_RSS_GROWTH_MB} MB; JS heap ${summary.jsHeapGrowthMB} MB)`,
    `handles: ${total(baseline.handles)} -> ${total(after.handles)} ${JSON.stringify(handleGrowth)}`,
    `engine: ${Object.entries(stats)
      .map(
        ([k, s]) =>
          `${k} inFlight=${s.requestsInFlight} streamsOpen=${s.streamsOpen} total=${s.requestsTotal}`,
      )
      .join('; ')}`,
    `warnings: ${warnings.length} (MaxListenersExceededWarning: ${listenerWarnings.length}); abort listeners left: ${listeners}`,
    `checks: ${Object.entries(checks)
      .map(([k, v]) => `${v ? 'ok' : 'FAIL'} ${k}`)
      .join(', ')}`,
    summary.pass ? 'PASS' : 'FAIL',
  ].join('\n'),
);
process.exitCode = summary.pass ? 0 : 1;
