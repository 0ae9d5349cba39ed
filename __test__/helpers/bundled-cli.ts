// The `aiwire` CLI bundled from src with esbuild, run as a child process the way a user runs it: for
// tests that need the CLI from the current sources without `npm run build:ts` (queue workers and
// collectors). The bundle lives inside node_modules so that the packages it keeps external (bullmq,
// ioredis, cli-progress) resolve as installed.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { platformKey } from '../../src/native/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A CLI child: its output so far, and its end. */
export interface CliChild {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code and signal (the child is SIGKILLed after its `timeoutMs`). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Bundles src/cli/index.ts into `node_modules/.cache/<name>/cli-<pid>.mjs` and returns its path with
 * a `remove()` for afterAll. Throws esbuild's error when the sources do not build.
 */
export async function bundleCli(name: string): Promise<{ path: string; remove: () => void }> {
  const dir = join(root, 'node_modules', '.cache', name);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `cli-${process.pid}.mjs`);
  const result = await build({
    entryPoints: [join(root, 'src', 'cli', 'index.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  writeFileSync(path, result.outputFiles[0]?.text ?? '');
  return { path, remove: () => rmSync(path, { force: true }) };
}

/**
 * Starts `node <cli> <args…>` with the local addon (`AIWIRE_NATIVE_PATH`), `OPENAI_API_KEY=sk-test`
 * and `env` over the process's environment; stdout and stderr are collected. The child is SIGKILLed
 * after `timeoutMs` (ms) so that no test waits forever on it.
 */
export function startCli(cli: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): CliChild {
  const child = spawn(process.execPath, [cli, ...args], {
    env: {
      ...process.env,
      OPENAI_API_KEY: 'sk-test',
      AIWIRE_NATIVE_PATH: join(root, 'src', 'native', `aiwire.${platformKey()}.node`),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const c: CliChild = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal });
      });
    }),
  };
  child.stdout?.on('data', (d: Buffer) => {
    c.stdout += d.toString('utf8');
  });
  child.stderr?.on('data', (d: Buffer) => {
    c.stderr += d.toString('utf8');
  });
  return c;
}
