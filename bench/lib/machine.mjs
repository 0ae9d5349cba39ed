/**
 * bench/run.mjs's view of the machine: the comparison clients installed (`ensureDeps`), tool and package
 * versions, the machine's description, and the CPU other processes take between runs (`settle`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = join(BENCH, '..');
const log = (msg) => process.stderr.write(`${msg}\n`);

/** Installs bench/'s own dependencies (openai, @anthropic-ai/sdk, undici, …) when missing. */
export function ensureDeps() {
  if (existsSync(join(BENCH, 'node_modules', 'openai', 'package.json'))) return;
  const args = existsSync(join(BENCH, 'package-lock.json')) ? ['ci'] : ['install'];
  log(`bench: installing the comparison clients (npm ${args[0]} --prefix bench) ...`);
  const r = spawnSync('npm', [...args, '--prefix', BENCH, '--no-audit', '--no-fund'], {
    stdio: ['ignore', 2, 2],
  });
  if (r.status !== 0) throw new Error(`npm ${args[0]} --prefix bench failed`);
}

/** The first line `cmd versionArgs` prints (its version), or undefined when `cmd` cannot run. */
export function which(cmd, versionArgs) {
  const r = spawnSync(cmd, versionArgs, { encoding: 'utf8' });
  if (r.error || r.status === null) return undefined;
  const out = `${r.stdout}${r.stderr}`.trim().split('\n')[0];
  return out || cmd;
}

/** The `version` of `dir/package.json`, or undefined. */
export function pkgVersion(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** `git describe --always --dirty` of the checkout, or undefined outside git. */
export function gitDescribe() {
  const r = spawnSync('git', ['-C', ROOT, 'describe', '--always', '--dirty'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The machine as the report shows it: CPU model, cores, memory (GB), OS, Node and its undici. */
export function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model?.trim() ?? 'unknown',
    cores: cpu.length,
    memGB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    nodeUndici: process.versions.undici,
  };
}

// ---------------------------------------------------------------- other load on the machine

function cpuTimes() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return {
    busy: user + nice + system + irq + softirq + steal,
    total: user + nice + system + idle + iowait + irq + softirq + steal,
  };
}

/**
 * Share of the whole machine (0..1) busy over `ms` while the suite itself is idle (between runs: nginx
 * idle, no child): the CPU other processes take. `undefined` where /proc/stat isn't there.
 */
export async function backgroundLoad(ms = 250) {
  try {
    const a = cpuTimes();
    await new Promise((r) => setTimeout(r, ms));
    const b = cpuTimes();
    return b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : undefined;
  } catch {
    return undefined;
  }
}

/** Samples the background load; with `--wait-idle=<s>`, waits up to that long for it to drop below 10%. */
export async function settle(ctx) {
  const start = Date.now();
  const until = start + ctx.opts.waitIdleSec * 1000;
  let load = await backgroundLoad();
  while (load !== undefined && load > 0.1 && Date.now() < until && ctx.deadline - Date.now() > 10_000) {
    await new Promise((r) => setTimeout(r, 1000));
    load = await backgroundLoad();
  }
  ctx.waitedMs += Date.now() - start;
  return load;
}
