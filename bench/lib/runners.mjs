/**
 * bench/run.mjs's runs: one client x scenario in a fresh child (bench/child.mjs), wrk for the loopback
 * ceiling, cold start with hyperfine (or timed spawns). Each run has a hard timeout (SIGKILL past it)
 * and resolves to a raw result (`ok`, figures' inputs, or `error`); `killCurrent()` stops the run in
 * progress (on SIGINT).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRANSFER_BYTES } from './bodies.mjs';
import { SCENARIOS } from './scenarios.mjs';

const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..');

let current; // the child running now, killed on SIGINT

/** SIGKILLs the child of the run in progress, if any. */
export function killCurrent() {
  current?.kill('SIGKILL');
}

/** Spawns `cmd`, collects output; SIGKILL past `timeoutMs`. */
function runProcess(cmd, args, timeoutMs, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    current = child;
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      stderr += String(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current = undefined;
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** A run's hard timeout: `--timeout`, or less when the suite's time budget is nearly spent. */
function runTimeoutMs(ctx) {
  return Math.max(1000, Math.min(ctx.opts.timeoutSec * 1000, ctx.deadline - Date.now()));
}

const killed = (ms) => ({
  ok: false,
  timedOut: true,
  error: `killed after its ${Math.round(ms / 1000)} s timeout`,
});

function lastLine(text) {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1];
}

/**
 * One client x scenario in a fresh `node bench/child.mjs` (the run's JSON result on its last stdout
 * line); for uploads, also checks that nginx received every upload whole.
 */
export async function runClient(scenario, client, ctx) {
  const { opts, url } = ctx;
  const mode = opts.quick ? 'quick' : 'full';
  const timeoutMs = runTimeoutMs(ctx);
  const count = scenario.count[mode];
  const args = {
    client,
    op: scenario.op,
    baseURL: `${url}${scenario.base}`,
    concurrency: scenario.concurrency,
    count,
    warmup: Math.max(scenario.warmup[mode], scenario.kind === 'chat' ? scenario.concurrency : 0),
    warmupDeadlineMs: Math.round(timeoutMs * 0.2),
    deadlineMs: Math.round(timeoutMs * 0.6),
    file: ctx.uploadFile,
  };
  const logged = scenario.op === 'upload' ? uploadsLogged(ctx) : undefined;
  const r = await runProcess(process.execPath, [join(BENCH, 'child.mjs'), JSON.stringify(args)], timeoutMs, {
    cwd: BENCH,
  });
  if (r.timedOut) return killed(timeoutMs);
  try {
    const out = JSON.parse(lastLine(r.stdout));
    if (out.ok && out.truncated) out.note = `stopped at the time bound after ${out.requests} of ${count}`;
    if (out.ok && logged) {
      // every upload the client saw answered must have reached the peer whole
      const now = uploadsLogged(ctx);
      const whole = now.whole - logged.whole;
      const seen = now.all - logged.all;
      const made = out.requests + (out.warmups ?? 0);
      if (whole < made) {
        return {
          ok: false,
          error: `nginx received ${whole} whole uploads of ${TRANSFER_BYTES} bytes (${seen} requests), the client made ${made}`,
        };
      }
    }
    return out;
  } catch {
    const why = lastLine(r.stderr || '') || `exit code ${r.code ?? r.signal}`;
    return { ok: false, error: `no result (${why})` };
  }
}

/** Requests the peer logged on its upload endpoint so far, and how many carried the whole file. */
function uploadsLogged(ctx) {
  let text = '';
  try {
    text = readFileSync(ctx.uploadLog, 'utf8');
  } catch {
    // nothing logged yet
  }
  const lines = text.split('\n').filter(Boolean);
  const whole = lines.filter((l) => {
    const [length, status] = l.split(' ');
    return Number(length) > TRANSFER_BYTES && status === '200';
  }).length;
  return { all: lines.length, whole };
}

function parseDuration(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  return { us: v / 1000, ms: v, s: v * 1000, m: v * 60_000 }[m[2]];
}

/** wrk against the scenario's request (2 threads, 2 s quick / 5 s full): req/s, CPU per request, p50/p99. */
export async function runWrk(scenario, ctx) {
  const { opts, url, tmp } = ctx;
  if (!ctx.tools.wrk) return { ok: false, error: 'wrk not installed (apt-get install wrk)' };
  const lua = join(tmp, `post-${scenario.id}.lua`);
  const { path, params, headers } = scenario.request;
  writeFileSync(
    lua,
    [
      'wrk.method = "POST"',
      `wrk.body = [==[${JSON.stringify(params)}]==]`,
      ...Object.entries(headers).map(([k, v]) => `wrk.headers["${k}"] = "${v}"`),
      '',
    ].join('\n'),
  );
  const secs = opts.quick ? 2 : 5;
  const target = `${url}${scenario.base}${path}`;
  const script = 'wrk "$@"; code=$?; times; exit $code';
  const wrkArgs = ['-t2', `-c${scenario.concurrency}`, `-d${secs}s`, '--latency', '-s', lua, target];
  const timeoutMs = Math.min(runTimeoutMs(ctx), (secs + 30) * 1000);
  const r = await runProcess('bash', ['-c', script, 'wrk', ...wrkArgs], timeoutMs);
  if (r.timedOut) return killed(timeoutMs);
  if (r.code !== 0) return { ok: false, error: lastLine(r.stderr || r.stdout) };
  const out = r.stdout;
  const reqPerSec = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const p50 = /\s50%\s+(\S+)/.exec(out)?.[1];
  const p99 = /\s99%\s+(\S+)/.exec(out)?.[1];
  const times = [...out.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)];
  const child = times[times.length - 1];
  const cpuUs = child
    ? (Number(child[1]) * 60 + Number(child[2]) + Number(child[3]) * 60 + Number(child[4])) * 1e6
    : NaN;
  const bad = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out) || /Socket errors:.*/.exec(out);
  if (!(reqPerSec > 0)) return { ok: false, error: `unparsed wrk output: ${out.slice(0, 200)}` };
  return {
    ok: !bad,
    error: bad ? bad[0] : undefined,
    tool: 'wrk',
    requests,
    durationSec: secs,
    reqPerSec,
    cpuUs,
    p50Ms: p50 && parseDuration(p50),
    p99Ms: p99 && parseDuration(p99),
  };
}

function coldCommand(client, url) {
  return [process.execPath, join(BENCH, 'cold', `${client}.mjs`), `${url}/v1`];
}

const quote = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);

/** Cold start with hyperfine (`-N`: no shell), else timed spawns by the runner. */
export async function runCold(client, ctx) {
  const { opts, url, tmp } = ctx;
  const mode = opts.quick ? 'quick' : 'full';
  const runs = SCENARIOS.find((s) => s.id === 'cold').runs[mode];
  const warmup = SCENARIOS.find((s) => s.id === 'cold').warmup[mode];
  const cmd = client === 'node' ? [process.execPath, '-e', '0'] : coldCommand(client, url);
  const timeoutMs = runTimeoutMs(ctx);
  if (ctx.tools.hyperfine) {
    const file = join(tmp, `cold-${client}.json`);
    const args = ['--warmup', String(warmup), '--runs', String(runs), '-N', '--style', 'none'];
    args.push('--export-json', file, '-n', client, cmd.map(quote).join(' '));
    const r = await runProcess('hyperfine', args, timeoutMs, { cwd: BENCH });
    if (r.timedOut) return killed(timeoutMs);
    if (r.code !== 0)
      return { ok: false, error: lastLine(r.stderr || r.stdout) || `hyperfine exit ${r.code}` };
    const res = JSON.parse(readFileSync(file, 'utf8')).results[0];
    return {
      ok: true,
      tool: 'hyperfine',
      runs,
      meanMs: res.mean * 1000,
      sdMs: res.stddev * 1000,
      medianMs: res.median * 1000,
      minMs: res.min * 1000,
    };
  }
  const times = [];
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < warmup + runs; i++) {
    if (Date.now() > deadline)
      return { ok: false, timedOut: true, error: 'cold runs exceeded the time bound' };
    const t0 = process.hrtime.bigint();
    const r = await runProcess(cmd[0], cmd.slice(1), 30_000, { cwd: BENCH });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.code !== 0) return { ok: false, error: lastLine(r.stderr) || `exit ${r.code ?? r.signal}` };
    if (i >= warmup) times.push(ms);
  }
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const sd = Math.sqrt(times.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, times.length - 1));
  const sorted = [...times].sort((a, b) => a - b);
  return {
    ok: true,
    tool: 'runner (hyperfine not installed)',
    runs,
    meanMs: mean,
    sdMs: sd,
    medianMs: sorted[Math.floor(sorted.length / 2)],
    minMs: sorted[0],
  };
}
