/**
 * What resilience and observability cost per request (issue 21: "breaker + limiter + metrics on add
 * ≤ 3 µs CPU per request at C=64; off adds 0"). Two clients of the same process call a loopback server
 * (a child process, so its CPU is not counted) at 64 calls in flight:
 * - `on`: `circuitBreaker: {}`, `rateLimit: { requestsPerMinute, tokensPerMinute }` so high that nothing
 *   waits (every call still reserves its turn, is estimated and corrected from `usage`), `metrics: true`,
 *   and all four call hooks set;
 * - `off`: none of them.
 * Runs alternate on, off, on, off, … (`--pairs`, default 8); each run's CPU is `process.cpuUsage()`
 * (user + system, every thread: the engine's included) over its calls after a warm-up of 10,000. The
 * figure is the median of the pairs' differences (on − off), in µs per request, beside each side's
 * median. By default each run is a process of its own (one client configuration per process, as in an
 * application); `--in-process` runs both clients in one process instead, swapping which goes first
 * every other pair, and splits each run's CPU by thread on Linux (`/proc/self/task/<tid>/schedstat`):
 * the JS thread, the engine's tokio thread(s) (`aiwire-engine`), and the rest (V8's GC and compiler
 * helpers). `--gc` (with `node --expose-gc`) forces a full GC before each in-process run: V8 then drops
 * the optimized code of the hot path (deopt reason "weak objects") and the run pays for compiling it
 * again, more for the observed client, whose path has more functions: that measures a cost per full
 * GC, not per request (see bench/results/overhead.md).
 *
 *   npm run build:ts && node bench/overhead.mjs                   # 8 pairs of 40,000 calls, ~3 minutes
 *   node bench/overhead.mjs --pairs=8 --calls=20000 --adaptive   # adaptive limits on too
 *   node bench/overhead.mjs --on=breaker,limiter,metrics          # only some of the four on
 *   node bench/overhead.mjs --in-process --pairs=30 --calls=5000  # both clients in one process
 *   node --expose-gc bench/overhead.mjs --in-process --gc         # … with a full GC before each run
 *
 * A bench script: it prints numbers and asserts nothing. Loopback only, bounded by the call counts.
 */
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a) => a.replace(/^--/, '').split('='))
    .map(([k, v]) => [k, v ?? 'true']),
);

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'The quick brown fox jumps over the lazy dog.', refusal: null },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 21, completion_tokens: 11, total_tokens: 32 },
  system_fingerprint: 'fp_bench',
});

if (args.server) {
  // The peer: answers every request with the completion, keep-alive.
  const srv = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-request-id': 'req_bench',
        'x-ratelimit-limit-requests': '1000000',
        'x-ratelimit-remaining-requests': '999999',
        'x-ratelimit-reset-requests': '1ms',
      });
      res.end(COMPLETION);
    });
  });
  srv.keepAliveTimeout = 60_000;
  srv.listen(0, '127.0.0.1', () => process.send?.(srv.address().port));
  process.on('disconnect', () => process.exit(0));
} else if (args.run) {
  await isolatedRun();
} else if (args['in-process']) {
  await main();
} else {
  await isolated();
}

/** The `on` client's options for `--on` (default: breaker, limiter, metrics and hooks). */
function onOptions(count) {
  const on = new Set((args.on ?? 'breaker,limiter,metrics,hooks').split(','));
  return {
    on,
    options: {
      ...(on.has('breaker') ? { circuitBreaker: {} } : {}),
      ...(on.has('limiter')
        ? {
            rateLimit: {
              requestsPerMinute: 1_000_000_000,
              tokensPerMinute: 1_000_000_000,
              ...(args.adaptive ? { adaptive: true } : {}),
            },
          }
        : {}),
      metrics: on.has('metrics'),
      ...(on.has('hooks')
        ? { hooks: { onRequest: count, onResponse: count, onRetry: count, onError: count } }
        : {}),
    },
  };
}

/** The median of `xs`. */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Calls `calls` chat calls on `client` from `CONCURRENCY` workers. */
async function drive(client, calls, concurrency) {
  const params = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say something short.' }] };
  let next = 0;
  const worker = async () => {
    while (next < calls) {
      next++;
      const r = await client.chat.completions.create(params);
      if (r.choices.length !== 1) throw new Error('unexpected body');
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** One run in this process (`--run=on|off`): its own peer, a warm-up, then CPU µs per call on stdout. */
async function isolatedRun() {
  const { OpenAI } = await import('../dist/index.js');
  const child = fork(new URL(import.meta.url).pathname, ['--server'], { stdio: 'inherit' });
  const port = await new Promise((r) => child.once('message', r));
  const count = () => {};
  const extra = args.run === 'on' ? onOptions(count).options : {};
  const client = new OpenAI({
    apiKey: 'sk-bench',
    baseURL: `http://127.0.0.1:${port}/v1`,
    maxRetries: 0,
    ...extra,
  });
  const calls = Number(args.calls ?? 40_000);
  const concurrency = Number(args.concurrency ?? 64);
  await drive(client, 10_000, concurrency);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await drive(client, calls, concurrency);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ us: (cpu.user + cpu.system) / calls, rps: (calls / ms) * 1000 }));
  child.disconnect();
  child.kill();
}

/** Default: each run in a process of its own (one configuration per process, as an application). */
async function isolated() {
  const { execFileSync } = await import('node:child_process');
  const PAIRS = Number(args.pairs ?? 8);
  const pass = ['calls', 'concurrency', 'on', 'adaptive']
    .filter((k) => args[k] !== undefined)
    .map((k) => `--${k}=${args[k]}`);
  const one = (which) =>
    JSON.parse(
      execFileSync(process.execPath, [new URL(import.meta.url).pathname, `--run=${which}`, ...pass], {
        encoding: 'utf8',
        timeout: 300_000,
      }),
    );
  const pairs = [];
  for (let i = 0; i < PAIRS; i++) {
    const on = one('on');
    const off = one('off');
    pairs.push({ on, off, diff: on.us - off.us });
    console.log(
      `pair ${i + 1}: on ${on.us.toFixed(2)} µs/req (${Math.round(on.rps)} req/s), off ${off.us.toFixed(2)} µs/req (${Math.round(off.rps)} req/s), on − off ${(on.us - off.us).toFixed(2)} µs`,
    );
  }
  console.log(
    JSON.stringify({
      mode: 'process per run',
      pairs: PAIRS,
      callsPerRun: Number(args.calls ?? 40_000),
      on: [...onOptions(() => {}).on].join(','),
      adaptive: Boolean(args.adaptive),
      onMedianUs: Number(median(pairs.map((p) => p.on.us)).toFixed(2)),
      offMedianUs: Number(median(pairs.map((p) => p.off.us)).toFixed(2)),
      addedMedianUs: Number(median(pairs.map((p) => p.diff)).toFixed(2)),
    }),
  );
}

/**
 * CPU time (ns) of this process's threads so far, by group: `js` (the main thread), `engine` (the
 * `aiwire-engine` tokio threads), `other` (V8's helpers, decode threads). Linux only; undefined elsewhere.
 */
function threadTimes() {
  try {
    const out = { js: 0, engine: 0, other: 0 };
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
        const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        const group =
          tid === String(process.pid) ? 'js' : name.startsWith('aiwire-engine') ? 'engine' : 'other';
        out[group] += ns;
      } catch {
        // the thread ended meanwhile
      }
    }
    return out;
  } catch {
    return undefined;
  }
}

async function main() {
  const { OpenAI } = await import('../dist/index.js');
  const PAIRS = Number(args.pairs ?? 12);
  const CALLS = Number(args.calls ?? 5_000);
  const CONCURRENCY = Number(args.concurrency ?? 64);
  const forceGC = Boolean(args.gc);
  if (forceGC && !global.gc) throw new Error('--gc needs node --expose-gc');
  const child = fork(new URL(import.meta.url).pathname, ['--server'], { stdio: 'inherit' });
  const port = await new Promise((r) => child.once('message', r));
  const baseURL = `http://127.0.0.1:${port}/v1`;
  let seen = 0;
  const count = () => {
    seen++;
  };
  const { on, options } = onOptions(count);
  const clients = {
    on: new OpenAI({ apiKey: 'sk-bench', baseURL, maxRetries: 0, ...options }),
    off: new OpenAI({ apiKey: 'sk-bench', baseURL, maxRetries: 0 }),
  };
  const params = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say something short.' }] };
  /** One run of `calls` calls on `client`: CPU µs per call (all threads, and by thread group), calls per second. */
  const run = async (client, calls) => {
    let next = 0;
    const worker = async () => {
      while (next < calls) {
        next++;
        const r = await client.chat.completions.create(params);
        if (r.choices.length !== 1) throw new Error('unexpected body');
      }
    };
    const threads0 = threadTimes();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const threads1 = threadTimes();
    const byThread = {};
    if (threads0 && threads1) {
      for (const k of Object.keys(threads1)) byThread[k] = (threads1[k] - threads0[k]) / calls / 1000;
    }
    return { us: (cpu.user + cpu.system) / calls, rps: (calls / ms) * 1000, byThread };
  };
  // Warm both (JIT, pools, the engine's caches).
  await run(clients.on, 5000);
  await run(clients.off, 5000);
  const pairs = [];
  for (let i = 0; i < PAIRS; i++) {
    const result = {};
    // Swap the order every other pair, so neither side always runs first.
    for (const side of i % 2 ? ['off', 'on'] : ['on', 'off']) {
      if (forceGC) global.gc();
      result[side] = await run(clients[side], CALLS);
    }
    const { on, off } = result;
    pairs.push({ on, off, diff: on.us - off.us });
    console.log(
      `pair ${i + 1}: on ${on.us.toFixed(2)} µs/req (${Math.round(on.rps)} req/s), off ${off.us.toFixed(2)} µs/req (${Math.round(off.rps)} req/s), on − off ${(on.us - off.us).toFixed(2)} µs`,
    );
  }
  const groups = Object.keys(pairs[0]?.on.byThread ?? {});
  const addedByThread = Object.fromEntries(
    groups.map((g) => [g, Number(median(pairs.map((p) => p.on.byThread[g] - p.off.byThread[g])).toFixed(2))]),
  );
  const result = {
    mode: 'in-process',
    pairs: PAIRS,
    callsPerRun: CALLS,
    concurrency: CONCURRENCY,
    forcedGC: forceGC,
    on: [...on].join(','),
    adaptive: Boolean(args.adaptive),
    onMedianUs: Number(median(pairs.map((p) => p.on.us)).toFixed(2)),
    offMedianUs: Number(median(pairs.map((p) => p.off.us)).toFixed(2)),
    addedMedianUs: Number(median(pairs.map((p) => p.diff)).toFixed(2)),
    addedByThreadMedianUs: addedByThread,
    pairsDiffRangeUs: [Math.min(...pairs.map((p) => p.diff)), Math.max(...pairs.map((p) => p.diff))].map(
      (x) => Number(x.toFixed(2)),
    ),
    hooksCalled: seen,
    limiterWaited: clients.on.stats().rateLimit?.waitedCalls,
  };
  console.log(JSON.stringify(result));
  child.disconnect();
  child.kill();
}
