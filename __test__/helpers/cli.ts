// Shared by the `aiwire` bin tests (__test__/cli-*.test.ts): running `node dist/cli.js …` in child
// processes (built by `npm run build:ts`) in a temp dir, writing request files there, starting the
// mock with the CLI itself (one per test file, from `useCliMock`), and reading the stderr summary.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
/** Every child is killed after this long (the test then fails on its exit code). */
const CHILD_TIMEOUT_MS = 20_000;

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export const baseEnv: NodeJS.ProcessEnv = {
  ...process.env,
  OPENAI_API_KEY: 'test-key',
  ANTHROPIC_API_KEY: 'test-key',
};
for (const name of [
  'OPENAI_BASE_URL',
  'ANTHROPIC_BASE_URL',
  'ANTHROPIC_AUTH_TOKEN',
  'AIWIRE_LOG',
  'OPENAI_LOG',
]) {
  delete baseEnv[name];
}

/** The temp dir of the current test file (set by `useCliMock`): the children's cwd, where `file` writes. */
let dir = '';

/**
 * For one test file: a temp dir and `aiwire mock --port 0` from `beforeAll`, both gone in
 * `afterAll`. Read `url` (the mock's) inside tests or later hooks.
 */
export function useCliMock(): { readonly url: string } {
  const state = { url: '' };
  let mock: ChildProcess | undefined;
  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build:ts` first');
    dir = mkdtempSync(join(tmpdir(), 'aiwire-cli-'));
    const started = await startMock();
    mock = started.child;
    state.url = started.url;
  });
  afterAll(async () => {
    if (mock && mock.exitCode === null) {
      mock.kill('SIGTERM');
      await stopped(mock);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return state;
}

/** Runs `aiwire …args` to completion (stdin: `input`, or closed), bounded by CHILD_TIMEOUT_MS. */
export function aiwire(
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: dir,
      env: opts.env ?? baseEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: CHILD_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** Writes `name` in the temp dir (an object as pretty JSON, a string as is); returns its name. */
export function file(name: string, content: unknown): string {
  writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return name;
}

/** Starts `aiwire mock --port 0 …` and resolves with the child and its URL from the banner. */
export function startMock(args: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'mock', '--port', '0', ...args], {
      env: baseEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mock did not start: ${out}`));
    }, CHILD_TIMEOUT_MS);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.on('exit', () => reject(new Error(`mock exited: ${out}`)));
  });
}

/** Resolves with the exit code of `child` once it has exited. */
export function stopped(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** The stderr summary line's fields (`input_tokens=6 …`). */
export function summary(stderr: string): Record<string, string> {
  const line = stderr.split('\n').find((l) => l.includes('input_tokens=')) ?? '';
  return Object.fromEntries(
    line
      .replace(/^aiwire: /, '')
      .split(' ')
      .map((kv) => kv.split('=') as [string, string]),
  );
}

const SYSTEM = { role: 'system', content: 'Be brief.', kind: 'text' };
const USER = { role: 'user', content: 'Hello, how are you?', kind: 'text' };
/** A request file for `provider` (system + user message, temperature 0.7), with `extra` fields over it. */
const request =
  (provider: string, model: string) =>
  (extra: object = {}) => ({
    provider,
    model,
    messages: [SYSTEM, USER],
    parameters: { temperature: 0.7 },
    ...extra,
  });
/** An OpenAI request file (gpt-4o-mini). */
export const openaiRequest = request('openai', 'gpt-4o-mini');
/** An Anthropic request file (claude-sonnet-4-6). */
export const anthropicRequest = request('anthropic', 'claude-sonnet-4-6');
