/**
 * One client x one scenario in a fresh process: warm up, then measure, then print one JSON line.
 *   node bench/child.mjs '{"client":"aiwire","op":"chat","baseURL":"http://127.0.0.1:8080/v1",
 *                          "concurrency":64,"count":20000,"warmup":500,"deadlineMs":60000}'
 * CPU is `process.cpuUsage()` around the measured phase (all threads of the process, the addon's
 * included); peak RSS is the process's `VmHWM` at the end (the whole life of the process, see peakRssKB);
 * `rssBeforeKB` is the RSS just before the first call (warm-up included), for the transfer scenarios'
 * RSS growth (peak minus that).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const args = JSON.parse(process.argv[2]);

/**
 * Peak RSS of this process in KB: `VmHWM` of /proc/self/status (the high-water mark of this process's
 * own address space, new at exec). Not `process.resourceUsage().maxRSS`: Linux carries `ru_maxrss`
 * over fork + exec, so a child's figure was floored at the runner's own RSS when it was spawned
 * (69-84 MB measured: the same `maxRSS` in every child of a run before its first request).
 */
function peakRssKB() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}

function emit(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

/** Runs `total` calls of `op` with `concurrency` in flight; stops starting new ones after `deadline`. */
async function pool(total, concurrency, op, deadline, latencies) {
  let started = 0;
  let done = 0;
  let truncated = false;
  let items = 0;
  async function worker() {
    while (started < total) {
      if (performance.now() > deadline) {
        truncated = true;
        return;
      }
      const i = started++;
      const t0 = performance.now();
      const r = await op();
      if (latencies) latencies[i] = performance.now() - t0;
      if (r && typeof r === 'object') items += r.items;
      done++;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return { done, truncated, items };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

try {
  const adapter = await import(`./adapters/${args.client}.mjs`);
  if (adapter.unsupported?.[args.op]) {
    emit({ ok: false, unsupported: true, error: adapter.unsupported[args.op] });
  } else {
    const ops = adapter.setup({ baseURL: args.baseURL, concurrency: args.concurrency, file: args.file });
    const op = ops[args.op];
    if (!op) throw new Error(`adapter ${args.client} has no ${args.op}`);
    const rssBeforeKB = Math.round(process.memoryUsage().rss / 1024);
    const maxRssBeforeKB = peakRssKB();
    const t0 = performance.now();
    const warm = await pool(args.warmup, args.concurrency, op, t0 + args.warmupDeadlineMs);
    const warmupMs = performance.now() - t0;
    const latencies = new Float64Array(args.count);
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const run = await pool(args.count, args.concurrency, op, start + args.deadlineMs, latencies);
    const wallMs = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    const sorted = latencies.subarray(0, run.done).sort();
    emit({
      ok: true,
      requests: run.done,
      truncated: run.truncated,
      items: run.items,
      wallMs,
      warmupMs,
      warmups: warm.done,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      maxRssKB: peakRssKB(),
      rssBeforeKB,
      maxRssBeforeKB,
      p50Ms: percentile(sorted, 0.5),
      p99Ms: percentile(sorted, 0.99),
    });
  }
} catch (err) {
  emit({
    ok: false,
    error: String(err?.stack ?? err)
      .split('\n')
      .slice(0, 3)
      .join(' | '),
  });
}
