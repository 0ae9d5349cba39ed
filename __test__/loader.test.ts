// The native loader: which binary it takes, and the one error it throws when there is none.
// The binary is hidden three ways: AIWIRE_NATIVE_PATH at a missing file (in process), the built
// package copied somewhere without any .node (child processes, ESM and CJS), and a platform that has
// no prebuilt package (child process with process.platform replaced).
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative, platformKey, SUPPORTED_PLATFORMS } from '../src/native/index.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));
const key = platformKey();

/** What every "no binary" message must tell the user. */
function expectHelpfulError(message: string, platform: string): void {
  expect(message).toContain(`platform ${platform}`);
  expect(message).toContain(`'aiwire-${platform}'`);
  expect(message).toContain('--omit=optional');
  expect(message).toContain('npm run build:native');
}

describe('platformKey / SUPPORTED_PLATFORMS', () => {
  it('names this machine with a supported key', () => {
    expect(key).toMatch(/^(linux-(x64|arm64)-(gnu|musl)|darwin-(x64|arm64)|win32-(x64|arm64)-msvc)$/);
    expect(SUPPORTED_PLATFORMS).toContain(key);
  });

  it('matches napi.targets and the npm/<platform>/ packages', () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
      version: string;
      napi: { targets: string[] };
    };
    expect(pkg.napi.targets).toHaveLength(SUPPORTED_PLATFORMS.length);
    expect(readdirSync(join(repo, 'npm')).sort()).toEqual([...SUPPORTED_PLATFORMS].sort());
    for (const platform of SUPPORTED_PLATFORMS) {
      const manifest = JSON.parse(
        readFileSync(join(repo, 'npm', platform, 'package.json'), 'utf8'),
      ) as Record<string, unknown>;
      expect(manifest.name).toBe(`aiwire-${platform}`);
      expect(manifest.version).toBe(pkg.version);
      expect(manifest.main).toBe(`aiwire.${platform}.node`);
      expect(manifest.files).toEqual([`aiwire.${platform}.node`]);
      const [os, cpu, abi] = platform.split('-');
      expect(manifest.os).toEqual([os]);
      expect(manifest.cpu).toEqual([cpu]);
      if (os === 'linux') expect(manifest.libc).toEqual([abi === 'musl' ? 'musl' : 'glibc']);
    }
  });
});

describe('loadNative in process', () => {
  it('throws the helpful error when AIWIRE_NATIVE_PATH names a missing file, then loads the build', () => {
    const missing = join(tmpdir(), 'aiwire-no-such-dir', `aiwire.${key}.node`);
    process.env.AIWIRE_NATIVE_PATH = missing;
    try {
      let message = '';
      try {
        loadNative();
      } catch (e) {
        message = (e as Error).message;
      }
      expectHelpfulError(message, key);
      expect(message).toContain(`AIWIRE_NATIVE_PATH=${missing}: no such file`);
    } finally {
      delete process.env.AIWIRE_NATIVE_PATH;
    }
    // without the override: the local `napi build` output (development fallback)
    const binding = loadNative();
    expect(typeof binding.NativeEngine).toBe('function');
    expect(loadNative()).toBe(binding);
  });
});

describe('built package without its binary (child processes)', () => {
  let dir: string;
  const env = { ...process.env };
  delete env.AIWIRE_NATIVE_PATH;
  delete env.NODE_OPTIONS;

  beforeAll(() => {
    const dist = join(repo, 'dist');
    for (const file of ['index.js', 'index.cjs']) {
      if (!existsSync(join(dist, file)))
        throw new Error(`dist/${file} is missing: run \`npm run build\` first`);
    }
    // A copy of the installed layout, minus the optional platform package: node_modules/aiwire/.
    dir = mkdtempSync(join(tmpdir(), 'aiwire-loader-'));
    const pkgDir = join(dir, 'node_modules', 'aiwire');
    mkdirSync(join(pkgDir, 'dist'), { recursive: true });
    copyFileSync(join(repo, 'package.json'), join(pkgDir, 'package.json'));
    // The entry points and the chunks they share (no .node file is ever in dist/).
    for (const file of readdirSync(dist)) {
      if (/\.c?js$/.test(file)) copyFileSync(join(dist, file), join(pkgDir, 'dist', file));
    }
    const construct = "new OpenAI({ apiKey: 'sk-test', baseURL: 'http://127.0.0.1:9/v1' });";
    writeFileSync(
      join(dir, 'esm.mjs'),
      `import { OpenAI } from 'aiwire';\nconsole.log('imported');\n${construct}\n`,
    );
    writeFileSync(
      join(dir, 'cjs.cjs'),
      `const { OpenAI } = require('aiwire');\nconsole.log('imported');\n${construct}\n`,
    );
    writeFileSync(
      join(dir, 'freebsd.mjs'),
      "Object.defineProperty(process, 'platform', { value: 'freebsd' });\n" +
        `const { OpenAI } = await import('aiwire');\n${construct}\n`,
    );
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function fails(script: string): Promise<{ stdout: string; stderr: string }> {
    try {
      await run(process.execPath, [script], { cwd: dir, env, timeout: 20_000 });
    } catch (e) {
      const err = e as { code?: number; stdout: string; stderr: string };
      expect(err.code).toBe(1);
      return err;
    }
    throw new Error(`${script} exited 0 without a native binary`);
  }

  it.each(['esm.mjs', 'cjs.cjs'])('%s: import works, new OpenAI() throws one clear error', async (script) => {
    const { stdout, stderr } = await fails(script);
    expect(stdout).toBe('imported\n'); // loading is lazy: importing aiwire needs no binary
    expectHelpfulError(stderr, key);
    expect(stderr).toContain('Error: aiwire: no native engine');
    expect(stderr).toContain(`aiwire-${key}: Cannot find module 'aiwire-${key}'`);
  });

  it('an unsupported platform: says so, names the package it looked for and both fixes', async () => {
    const { stderr } = await fails('freebsd.mjs');
    const platform = `freebsd-${process.arch}`;
    expectHelpfulError(stderr, platform);
    expect(stderr).toContain('is not supported by a prebuilt engine');
    expect(stderr).toContain('linux-x64-gnu, linux-arm64-gnu');
  });
});
