/**
 * The adaptive rate limit at full scale (issue 21): 5,000 chat calls against a loopback server that
 * allows 100 per second and says so in OpenAI's headers (`x-ratelimit-limit-requests`,
 * `x-ratelimit-remaining-requests`, `x-ratelimit-reset-requests`), answering 429 (with the same
 * headers and `retry-after-ms`) past the budget. Run once with `rateLimit: { adaptive: true }` and once
 * without; each reports the 429s the server sent and the wall time against the ideal (calls / rate s).
 * Target with adaptive on: at most 5 responses of 429, done within 10% of the ideal.
 *
 *   npm run build:ts && node bench/adaptive.mjs                 # both runs, ~2 minutes
 *   node bench/adaptive.mjs --mode=on --calls=1000 --rate=100   # one run, smaller
 *
 * Options: `--calls` (5,000), `--rate` per second (100), `--concurrency` calls in flight (64),
 * `--mode` `on` | `off` | `both` (both), `--max-retries` per call (10: every call ends with a 2xx).
 * `ADAPTIVE_DEBUG=1` prints each 429 with its window and offset in it (stderr).
 * A bench script, not a test: it prints numbers and asserts nothing. Loopback only; bounded by the
 * call count and a hard deadline of 4× the ideal time per run.
 */
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { OpenAI } from '../dist/index.js';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .map((a) => a.replace(/^--/, '').split('='))
    .map(([k, v]) => [k, v ?? 'true']),
);
const CALLS = Number(args.calls ?? 5000);
const RATE = Number(args.rate ?? 100);
const CONCURRENCY = Number(args.concurrency ?? 64);
const MAX_RETRIES = Number(args['max-retries'] ?? 10);
const MODE = args.mode ?? 'both';

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
});

/** A server of `rate` calls per fixed 1 s window (from its start), OpenAI-style headers, 429 past it. */
async function limitedServer(rate) {
  let windowStart = performance.now();
  const t00 = windowStart;
  let used = 0;
  const served = { ok: 0, limited: 0 };
  const srv = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const now = performance.now();
      while (now - windowStart >= 1000) {
        windowStart += 1000;
        used = 0;
      }
      const resetMs = Math.max(1, Math.ceil(1000 - (now - windowStart)));
      const headers = {
        'content-type': 'application/json',
        'x-ratelimit-limit-requests': String(rate),
        'x-ratelimit-reset-requests': `${resetMs}ms`,
      };
      if (used >= rate) {
        served.limited++;
        if (process.env.ADAPTIVE_DEBUG)
          console.error(
            `429 at window ${Math.round((windowStart - t00) / 1000)} +${(now - windowStart).toFixed(1)} ms (used ${used})`,
          );
        res.writeHead(429, {
          ...headers,
          'x-ratelimit-remaining-requests': '0',
          'retry-after-ms': String(resetMs),
        });
        res.end(
          '{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}',
        );
        return;
      }
      used++;
      served.ok++;
      res.writeHead(200, { ...headers, 'x-ratelimit-remaining-requests': String(rate - used) });
      res.end(COMPLETION);
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}/v1`,
    served,
    close: () =>
      new Promise((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

/** One run: every call made by `CONCURRENCY` workers; returns the server's counts and the wall time. */
async function run(adaptive) {
  const server = await limitedServer(RATE);
  const client = new OpenAI({
    apiKey: 'sk-bench',
    baseURL: server.url,
    maxRetries: MAX_RETRIES,
    ...(adaptive ? { rateLimit: { adaptive: true } } : {}),
  });
  const ideal = CALLS / RATE;
  const deadline = performance.now() + ideal * 4000;
  let next = 0;
  let failed = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < CALLS && performance.now() < deadline) {
      next++;
      try {
        await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const wallS = (performance.now() - started) / 1000;
  const stats = client.stats();
  await server.close();
  client.close();
  return {
    adaptive,
    calls: next,
    ok: server.served.ok,
    responses429: server.served.limited,
    failedCalls: failed,
    retries: stats.retriesTotal,
    wallS: Number(wallS.toFixed(2)),
    idealS: ideal,
    vsIdeal: `${(((wallS - ideal) / ideal) * 100).toFixed(1)}%`,
    waited: stats.rateLimit?.waitedCalls ?? 0,
  };
}

const results = [];
for (const adaptive of MODE === 'both' ? [true, false] : [MODE === 'on']) {
  const r = await run(adaptive);
  console.log(JSON.stringify(r));
  results.push(r);
}
console.log(
  `\n| adaptive | calls | 429 responses | failed calls | retries | wall (s) | ideal (s) | vs ideal |\n|---|---|---|---|---|---|---|---|`,
);
for (const r of results) {
  console.log(
    `| ${r.adaptive ? 'on' : 'off'} | ${r.calls} | ${r.responses429} | ${r.failedCalls} | ${r.retries} | ${r.wallS} | ${r.idealS} | ${r.vsIdeal} |`,
  );
}
