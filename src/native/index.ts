/**
 * Loads the native addon (the Rust engine) for this platform.
 *
 * Order: the platform package `aiwire-<platform>` (what `npm install aiwire` brings), then a local
 * `napi build` output next to the sources or the build (development). On failure it throws one
 * `Error` that names the platform, the package it expected and both fixes.
 */

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Binding from './binding.js';

export type { EngineOptions, NativeBatch, NativeEvent, NativeRequest, NativeResponse } from './binding.js';

/** The addon's exports, as typed by `napi build` (binding.d.ts). */
export type NativeBinding = typeof Binding;

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
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  if (report?.header) return !report.header.glibcVersionRuntime;
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    return false;
  }
}

let cached: NativeBinding | undefined;

/**
 * The native binding, loaded once per process.
 *
 * @throws Error when no binary exists for this platform; the message names the platform, the
 *   expected package and how to fix it (reinstall with optional dependencies, or build from source).
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
    if (candidate !== pkg && !existsSync(candidate)) continue;
    try {
      cached = require(candidate) as NativeBinding;
      return cached;
    } catch (e) {
      errors.push(`${candidate}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(
    `aiwire: no native engine for platform ${key}. Expected the package '${pkg}' ` +
      '(an optional dependency of aiwire). Fixes: reinstall without --omit=optional / --no-optional ' +
      '(e.g. `rm -rf node_modules package-lock.json && npm install`), or build from source with a Rust ' +
      'toolchain: `npm run build:native` in a checkout of aiwire.' +
      (errors.length ? `\nTried:\n  ${errors.join('\n  ')}` : ''),
  );
}
