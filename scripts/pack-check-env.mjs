/**
 * Part of `npm run pack:check` (scripts/pack-check.mjs): running commands with a hard timeout and
 * their process group killed past it (`run`, `killTree`, `children`), the environment of a user
 * without a Rust toolchain (`userEnv`), the napi-rs platform key, and small file helpers.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Default timeout of one step (`run`), ms. */
export const STEP_TIMEOUT_MS = 5 * 60_000;
export const IS_WIN = process.platform === 'win32';
/** Children still running (killed on a failure, a signal or the time budget). */
export const children = new Set();

function fail(message) {
  throw new Error(message);
}

/** A JSON file, parsed. */
export function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** The hex SHA-256 of a file's bytes. */
export function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** `bytes` as `12.3 KiB`. */
export function kib(bytes) {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/** `bytes` as `1.23 MiB`. */
export function mib(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

// ---------------------------------------------------------------------------------------------
// Processes

/**
 * Runs a command to completion; resolves `{ code, stdout, stderr }`, rejects on a non-zero exit
 * unless `allowFail`. Killed (with its process group) after `timeout` ms.
 */
export function run(
  command,
  args,
  { cwd, env, timeout = STEP_TIMEOUT_MS, allowFail = false, quiet = false } = {},
) {
  return new Promise((resolvePromise, reject) => {
    const shell = IS_WIN && /\.(cmd|bat)$/i.test(command);
    const child = spawn(command, args, {
      cwd,
      env,
      shell,
      detached: !IS_WIN,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      killTree(child);
      stderr += `\n[pack:check] killed after ${timeout} ms`;
    }, timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      children.delete(child);
      reject(new Error(`${command} ${args.join(' ')}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const result = { code: code ?? 1, signal, stdout, stderr };
      if (result.code !== 0 && !allowFail) {
        if (!quiet) process.stdout.write(`${stdout}\n${stderr}\n`);
        reject(
          new Error(
            `${command} ${args.join(' ')} (in ${cwd ?? process.cwd()}) exited ${code ?? signal}:\n` +
              stderr.trim().split('\n').slice(-30).join('\n'),
          ),
        );
      } else {
        resolvePromise(result);
      }
    });
  });
}

/** SIGKILLs `child` and its process group (the child alone on Windows); quiet when it is gone. */
export function killTree(child) {
  try {
    if (!IS_WIN && child.pid) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    // already gone
  }
}

export const NPM = IS_WIN ? 'npm.cmd' : 'npm';
export const NPX = IS_WIN ? 'npx.cmd' : 'npx';

/** `[node, [bin script of a devDependency of the checkout]]`: runs repo tools without npx. */
export function devBin(pkg, name) {
  const dir = join(repo, 'node_modules', ...pkg.split('/'));
  const manifest = readJson(join(dir, 'package.json'));
  const rel = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[name];
  if (!rel) fail(`${pkg} has no bin ${name}; run npm ci`);
  return join(dir, rel);
}

// ---------------------------------------------------------------------------------------------
// Environment without a Rust toolchain

export const RUST_TOOLS = ['cargo', 'rustc', 'rustup'];

/** The path of `tool` in one of `pathValue`'s directories, or null. */
export function whichIn(pathValue, tool) {
  const exts = IS_WIN ? ['.exe', '.cmd', '.bat', ''] : [''];
  for (const dir of pathValue.split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = join(dir, tool + ext);
      try {
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return null;
}

/**
 * The environment a user without Rust would have: PATH without any directory holding cargo,
 * rustc or rustup (e.g. ~/.cargo/bin) and without the checkout's node_modules/.bin, no
 * CARGO_ / RUSTUP_ variables, and none of the npm_* variables `npm run` sets for this script.
 */
export function userEnv() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|INIT_CWD$|CARGO|RUSTUP|RUSTC|RUSTFLAGS|NODE_OPTIONS$)/i.test(key)) continue;
    env[key] = value;
  }
  const pathKey = Object.keys(process.env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
  const kept = [];
  const dropped = [];
  for (const dir of (process.env[pathKey] ?? '').split(delimiter)) {
    if (!dir) continue;
    const abs = resolve(dir);
    const insideRepo = abs === repo || abs.startsWith(repo + sep);
    const hasRust = RUST_TOOLS.some((tool) => whichIn(abs, tool));
    if (insideRepo || hasRust || /[\\/]\.(cargo|rustup)([\\/]|$)/.test(abs)) dropped.push(dir);
    else kept.push(dir);
  }
  // node and npm themselves must stay reachable
  const nodeDir = dirname(process.execPath);
  if (!kept.includes(nodeDir)) {
    if (RUST_TOOLS.some((tool) => whichIn(nodeDir, tool))) {
      fail(`node's own directory ${nodeDir} also holds a Rust tool; cannot hide the toolchain`);
    }
    kept.push(nodeDir);
  }
  env[pathKey] = kept.join(delimiter);
  env.NO_UPDATE_NOTIFIER = '1';
  env.npm_config_update_notifier = 'false';
  env.npm_config_fund = 'false';
  env.npm_config_audit = 'false';
  return { env, pathKey, dropped };
}

// ---------------------------------------------------------------------------------------------
// Platform

/** Whether this Linux uses musl libc (Alpine), not glibc. */
export function isMusl() {
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    return process.report ? !process.report.getReport().header.glibcVersionRuntime : false;
  }
}

/** The napi-rs platform key, as src/native/index.ts computes it. */
export function platformKey() {
  const { platform, arch } = process;
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}
