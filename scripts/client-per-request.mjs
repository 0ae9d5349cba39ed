#!/usr/bin/env node
/**
 * "A client per request" (a serverless handler that does `new OpenAI()` on every call), measured.
 *
 * Builds `--clients` clients (default 10,000), each making one `chat.completions.create` call, with
 * `--concurrency` of them (default 100) alive and in flight at once, against a loopback HTTP server
 * (node:http on 127.0.0.1) that runs in a child process, so the figures below are the client's alone
 * (its fds, its RSS) and the server can count the TCP connections it accepted. Prints one JSON line:
 *
 * - `ctorUsMean` / `ctorUsP50` / `ctorUsMax` / `ctorUsFirst`: µs around `new OpenAI(...)` only (the
 *   first one separately: it loads the addon / the SDK's lazy parts);
 * - `wallMs`: the whole loop (construction + calls), `reqPerSec`;
 * - `fdsStart` / `fdsPeak` / `fdsEnd` / `fdsAfterGc`: entries of /proc/self/fd, sampled every 100
 *   clients started (peak), at the end of the loop and after `global.gc()`; `fdsPeak` is null when a
 *   sample could not list them (EMFILE: at the limit), `unreadableSamples` counts failed RSS samples;
 * - `rssStartMB` (just before the loop, after a gc), `rssPeakMB` (max of the samples), `vmHwmMB` (the
 *   kernel's high-water mark, whole process life), `rssEndMB` (loop done, no gc), `rssAfterGcMB`;
 * - `heapUsedStartMB` / `heapUsedAfterGcMB`: the JS heap, to tell JS objects kept from native memory;
 * - `externalStartMB` / `externalPeakMB` / `externalAfterGcMB`: `process.memoryUsage().external`.
 *   Note: on Node 20 this figure does not include what addons report with
 *   napi_adjust_external_memory (V8 counts that apart; `--trace-gc-verbose` prints it as "External
 *   memory reported"), so aiwire's per-client native memory does not show here;
 * - `ok` / `failed` / `firstFailureAt` / `firstError`: every call must resolve to the expected
 *   completion; a failure (e.g. EMFILE under a low `ulimit -n`) is counted, not fatal, so the run says
 *   at which client things broke;
 * - `connections`: TCP connections the server accepted (a shared pool keeps it near the concurrency;
 *   one pool per client makes it one per client), `requests`: requests it answered.
 *
 *   node --expose-gc scripts/client-per-request.mjs [--sdk=aiwire|openai] [--clients=10000]
 *        [--concurrency=100] [--timeout-ms=120000]
 *
 * `--sdk=openai` runs the same loop with openai-node (a devDependency) for comparison. Without
 * --expose-gc the gc figures are absent (`gc: false`). Nothing leaves 127.0.0.1. The run is bounded:
 * past `--timeout-ms` it prints what it has with `timedOut: true` and exits with code 1; it also exits
 * with 1 when any call failed.
 */
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

const MB = 1024 * 1024;
const CONTENT = 'Hello from the loopback server.';
/** The answer to every request: a complete `chat.completion`, as the API sends it. */
const COMPLETION = JSON.stringify({
  id: 'chatcmpl-client-per-request',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: CONTENT, refusal: null },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 },
});

/**
 * The server half (child process): answers every request with COMPLETION after reading its body,
 * counts accepted connections and requests, reports its URL and, on `'stats'`, its counters over IPC.
 */
function serve() {
  let connections = 0;
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': COMPLETION.length });
      res.end(COMPLETION);
    });
  });
  // Longer than any pause of the loop: connections close only when the client closes them.
  server.keepAliveTimeout = 30_000;
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    process.send({ url: `http://127.0.0.1:${port}/v1` });
  });
  process.on('message', (m) => {
    if (m === 'stats') process.send({ connections, requests });
  });
  // The parent's exit closes the IPC channel: exit with it.
  process.on('disconnect', () => process.exit(0));
}

/** Open file descriptors of this process. */
/**
 * Open file descriptors of this process; NaN when they can not be listed (reading /proc needs an fd:
 * EMFILE once the limit is reached), which makes `fdsPeak` null in the JSON: "at the limit".
 */
function fds() {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return Number.NaN;
  }
}

/** `process.memoryUsage()`, or undefined when it fails (it reads /proc too: EMFILE at the limit). */
function memory() {
  try {
    return process.memoryUsage();
  } catch {
    return undefined;
  }
}

/** The kernel's high-water mark of this process's RSS (bytes), new at exec. */
function vmHwm() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Full collections with turns of the event loop between them, so finalizers (native ones) run. */
async function collect() {
  for (let i = 0; i < 4; i++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const round = (v, digits = 1) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : undefined);

async function main() {
  const sdk = arg('sdk', 'aiwire');
  const total = Number(arg('clients', '10000'));
  const concurrency = Number(arg('concurrency', '100'));
  const timeoutMs = Number(arg('timeout-ms', '120000'));
  if (sdk !== 'aiwire' && sdk !== 'openai') throw new Error(`--sdk=${sdk}: aiwire or openai`);
  const hasGc = typeof global.gc === 'function';

  const server = fork(fileURLToPath(import.meta.url), ['--serve'], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const { url: baseURL } = await new Promise((resolve, reject) => {
    server.once('message', resolve);
    server.once('error', reject);
    server.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  const serverStats = () =>
    new Promise((resolve) => {
      server.once('message', resolve);
      server.send('stats');
    });

  const OpenAI =
    sdk === 'aiwire' ? (await import('../dist/index.js')).OpenAI : (await import('openai')).default;
  const params = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }] };
  const options = { apiKey: 'sk-client-per-request', baseURL, maxRetries: 0 };

  const result = { sdk, clients: total, concurrency };
  const ctorNs = new Float64Array(total);
  let started = 0;
  let ok = 0;
  let failed = 0;
  let firstFailureAt;
  let firstError;
  let fdsPeak = 0;
  let rssPeak = 0;
  let externalPeak = 0;
  let timedOut = false;

  let unreadableSamples = 0;
  const sample = () => {
    fdsPeak = Math.max(fdsPeak, fds());
    const m = memory();
    if (!m) {
      unreadableSamples++;
      return;
    }
    rssPeak = Math.max(rssPeak, m.rss);
    externalPeak = Math.max(externalPeak, m.external);
  };

  if (hasGc) await collect();
  const m0 = process.memoryUsage();
  result.fdsStart = fds();
  result.rssStartMB = round(m0.rss / MB);
  result.externalStartMB = round(m0.external / MB, 2);
  result.heapUsedStartMB = round(m0.heapUsed / MB);
  sample();

  /** One handler: a new client, one call, the client dropped. */
  async function handle(i) {
    const t0 = performance.now();
    const client = new OpenAI(options);
    ctorNs[i] = (performance.now() - t0) * 1e6;
    const completion = await client.chat.completions.create(params);
    if (completion.choices[0].message.content !== CONTENT) throw new Error('unexpected completion');
  }

  const deadline = performance.now() + timeoutMs;
  // A call that never settles would keep its worker waiting: past the deadline (+10 s for the calls
  // in flight), print what was measured and exit.
  const watchdog = setTimeout(() => {
    Object.assign(result, { ok, failed, firstFailureAt, firstError, started, timedOut: true, fdsPeak });
    process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(1));
  }, timeoutMs + 10_000);
  watchdog.unref();
  const start = performance.now();
  async function worker() {
    while (started < total) {
      if (performance.now() > deadline) {
        timedOut = true;
        return;
      }
      const i = started++;
      if (i % 100 === 0) sample();
      try {
        await handle(i);
        ok++;
      } catch (err) {
        failed++;
        if (firstFailureAt === undefined) {
          firstFailureAt = i;
          firstError = String(err?.message ?? err).slice(0, 300);
        }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  const wallMs = performance.now() - start;
  sample();

  const built = ctorNs.subarray(0, started);
  const sorted = Float64Array.from(built.subarray(1)).sort();
  Object.assign(result, {
    ok,
    failed,
    firstFailureAt,
    firstError,
    timedOut,
    wallMs: round(wallMs),
    reqPerSec: Math.round(ok / (wallMs / 1000)),
    ctorUsFirst: round(built[0] / 1000),
    ctorUsMean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length / 1000, 2),
    ctorUsP50: round(sorted[Math.floor(sorted.length / 2)] / 1000, 2),
    ctorUsMax: round(sorted[sorted.length - 1] / 1000),
    fdsPeak,
    fdsEnd: fds(),
    rssPeakMB: round(rssPeak / MB),
    vmHwmMB: round(vmHwm() / MB),
    rssEndMB: round(memory()?.rss / MB),
    unreadableSamples,
    externalPeakMB: round(externalPeak / MB, 2),
    gc: hasGc,
  });
  if (hasGc) {
    await collect();
    const m = memory();
    result.fdsAfterGc = fds();
    result.rssAfterGcMB = round(m?.rss / MB);
    result.externalAfterGcMB = round(m?.external / MB, 2);
    result.heapUsedAfterGcMB = round(m?.heapUsed / MB);
  }
  Object.assign(result, await serverStats());
  clearTimeout(watchdog);
  process.stdout.write(`${JSON.stringify(result)}\n`, () => {
    server.disconnect();
    process.exit(failed > 0 || timedOut ? 1 : 0);
  });
}

// Last: main() uses the constants above (a top-level await before them would meet them uninitialised).
if (process.argv.includes('--serve')) {
  serve();
} else {
  await main();
}
