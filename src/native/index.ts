/**
 * Loads the native addon (the Rust engine) for this platform.
 *
 * Order: the platform package `aiwire-<platform>` (what `npm install aiwire` brings as an optional
 * dependency), then a local `napi build` output next to the sources or the build (development).
 * `AIWIRE_NATIVE_PATH` replaces both with one file. On failure it throws one `Error` that names
 * the platform, the package it expected and both fixes.
 */

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Binding from './binding.js';

export type {
  EngineOptions,
  NativeBatch,
  NativeBodySender,
  NativeEvent,
  NativePart,
  NativeRequest,
  StreamOptions,
} from './binding.js';
export { type NativeResult, openStream, sendRequest } from './settle.js';

/** The addon's exports, as typed by `napi build` (binding.d.ts). */
export type NativeBinding = typeof Binding;

/** Platform keys with a prebuilt `aiwire-<key>` package (package.json `napi.targets`). */
export const SUPPORTED_PLATFORMS: readonly string[] = [
  'linux-x64-gnu',
  'linux-arm64-gnu',
  'linux-x64-musl',
  'linux-arm64-musl',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64-msvc',
  'win32-arm64-msvc',
];

/** `linux-x64-gnu`, `linux-x64-musl`, `darwin-arm64`, `win32-x64-msvc`, …: the napi-rs platform key. */
export function platformKey(): string {
  const { platform, arch } = process;
  if (platform === 'linux') {
    return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

function isMusl(): boolean {
  // Reading ldd is well under a millisecond; a diagnostic report costs ~10 ms of start-up time.
  try {
    const ldd = readFileSync('/usr/bin/ldd', 'utf8');
    if (ldd.includes('musl')) return true;
    if (ldd.includes('GLIBC') || ldd.includes('GNU C Library')) return false;
  } catch {
    // no ldd (e.g. a distroless image): ask the runtime below
  }
  const report = process.report as (NodeJS.ProcessReport & { excludeNetwork?: boolean }) | undefined;
  if (report) {
    report.excludeNetwork = true; // Node >= 20.13; older versions ignore it
    const header = (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
    if (header) return !header.glibcVersionRuntime;
  }
  return false;
}

let cached: NativeBinding | undefined;

/**
 * The native binding, loaded once per process.
 *
 * @throws Error when no binary exists for this platform; the message names the platform, the
 *   expected package and how to fix it (reinstall with optional dependencies, or build from source).
 *   Error with `code: 'EMFILE'` when the binary could not be opened for lack of file descriptors.
 */
export function loadNative(): NativeBinding {
  if (cached) return cached;
  const key = platformKey();
  const pkg = `aiwire-${key}`;
  const here = dirname(fileURLToPath(import.meta.url));
  const require = createRequire(import.meta.url);
  const errors: string[] = [];
  const override = process.env.AIWIRE_NATIVE_PATH;
  const candidates = override
    ? [override]
    : [
        pkg,
        // development: next to the sources (src/native) or one level up from dist/
        join(here, `aiwire.${key}.node`),
        join(here, '..', 'src', 'native', `aiwire.${key}.node`),
      ];
  for (const candidate of candidates) {
    if (candidate !== pkg && !existsSync(candidate)) {
      if (candidate === override) errors.push(`AIWIRE_NATIVE_PATH=${override}: no such file`);
      continue;
    }
    try {
      cached = require(candidate) as NativeBinding;
      return cached;
    } catch (e) {
      errors.push(`${candidate}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (errors.some((e) => e.includes('Too many open files'))) {
    // The binary is there; the process had no file descriptor left to open it.
    throw Object.assign(
      new Error(
        'aiwire: could not load the native engine: the process is out of file descriptors (EMFILE). ' +
          'Raise the limit (`ulimit -n`) or close unused sockets and files, then create the client again.' +
          `\nTried:\n  ${errors.join('\n  ')}`,
      ),
      { code: 'EMFILE' },
    );
  }
  const supported = SUPPORTED_PLATFORMS.includes(key);
  throw new Error(
    (supported
      ? `aiwire: no native engine for platform ${key}. Expected the package '${pkg}' ` +
        '(an optional dependency of aiwire, installed only on its platform). Fixes: reinstall ' +
        'without --omit=optional / --no-optional (e.g. `rm -rf node_modules package-lock.json && ' +
        'npm install`), or build from source with a Rust toolchain: `npm run build:native` in a ' +
        'checkout of aiwire.'
      : `aiwire: platform ${key} is not supported by a prebuilt engine (there is no package ` +
        `'${pkg}'; prebuilt: ${SUPPORTED_PLATFORMS.join(', ')}). Fixes: on a supported platform, ` +
        'reinstall without --omit=optional / --no-optional; here, build from source with a Rust ' +
        'toolchain: `npm run build:native` in a checkout of aiwire, then point AIWIRE_NATIVE_PATH ' +
        'at the built .node file.') + (errors.length ? `\nTried:\n  ${errors.join('\n  ')}` : ''),
  );
}
