/**
 * Test helper: run a Stoplight Prism mock server for a published OpenAPI spec.
 *
 * Facts worth knowing when writing tests against it (@stoplight/prism-cli 5.14.2):
 * - Prism ignores the `/v1` of the spec's `servers`: use the mock's root (`server.url`) as base URL.
 * - The OpenAI spec takes ~15 s to load and the process uses ~800 MB: start one per test file
 *   in `beforeAll` (with a hook timeout above `timeoutMs`), not one per test.
 * - Invalid requests get a 422 `application/problem+json` body (where Prism validates the body;
 *   it does not for `POST /chat/completions`). Prism cannot produce `text/event-stream`.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** A running Prism mock server. */
export interface PrismServer {
  /** Base URL of the mock, without trailing slash, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** TCP port the mock listens on (host 127.0.0.1). */
  port: number;
  /** Stops the server: SIGTERM, then SIGKILL after 3 s. Idempotent; resolves once the process has exited. */
  close(): Promise<void>;
}

/** Options for {@link startPrism}. */
export interface StartPrismOptions {
  /** How long to wait for the server to answer HTTP, in ms. Default 90 000. */
  timeoutMs?: number;
  /** Generate responses from the schemas (`--dynamic`) instead of using the spec's examples. Default false. */
  dynamic?: boolean;
  /** Serve this file instead of the vendored spec (e.g. a copy rewritten for Prism's router). */
  specFile?: string;
}

type PrismChild = ChildProcessByStdio<null, Readable, Readable>;

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KILL_GRACE_MS = 3_000;
const POLL_INTERVAL_MS = 250;
const MAX_PORT_ATTEMPTS = 3;
const ERROR_TAIL_LINES = 40;

/**
 * Loaded into the Prism process before its own code (via `--import`): exits when the process
 * that spawned it is gone (re-parented), so a test worker killed by a signal leaves no orphan.
 */
const ORPHAN_WATCHDOG =
  'const p=process.ppid;setInterval(()=>{if(process.ppid!==p)process.exit(0)},1000).unref();';

/** The specs vendored in the repo (specs/, see specs/SOURCES.md), by provider. */
const SPEC_FILES = {
  openai: 'openai.openapi.yaml',
  anthropic: 'anthropic.openapi.json',
  replicate: 'replicate.openapi.json',
  codegen: 'codegen.openapi.json',
  aivillage: 'aivillage.openapi.yaml',
} as const;

/** A provider whose published spec the repo vendors. */
export type SpecName = keyof typeof SPEC_FILES;

function specPath(spec: SpecName): string {
  const override = spec === 'openai' ? process.env.AIWIRE_OPENAI_SPEC : undefined;
  return override ?? path.resolve(REPO_ROOT, 'specs', SPEC_FILES[spec]);
}

/** Children still running, killed synchronously if the test process exits without closing them. */
const liveChildren = new Set<PrismChild>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** Last lines written by the child on stdout and stderr, for error messages. */
class OutputRing {
  private readonly lines: string[] = [];
  private readonly partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };

  constructor(private readonly capacity = 200) {}

  push(stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const text = this.partial[stream] + chunk.toString('utf8');
    const parts = text.split(/\r?\n/);
    this.partial[stream] = parts.pop() ?? '';
    for (const line of parts) this.add(stream, line);
  }

  tail(n: number): string {
    const pending = (['stdout', 'stderr'] as const)
      .filter((s) => this.partial[s] !== '')
      .map((s) => `[${s}] ${this.partial[s]}`);
    return [...this.lines, ...pending].slice(-n).join('\n');
  }

  private add(stream: 'stdout' | 'stderr', line: string): void {
    if (line.trim() === '') return;
    this.lines.push(`[${stream}] ${line}`);
    if (this.lines.length > this.capacity) this.lines.shift();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('could not obtain a free port'));
        return;
      }
      const { port } = addr;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

function prismCommand(): { command: string; prefixArgs: string[] } {
  const bin = path.join(REPO_ROOT, 'node_modules', '.bin', 'prism');
  if (!existsSync(bin)) {
    throw new Error(`Prism not found at ${bin}: run \`npm ci\` (devDependency @stoplight/prism-cli)`);
  }
  // .bin/prism is a symlink to a Node script: run it with this Node (not whatever `node` is on
  // PATH) so that there is a single process to kill and the orphan watchdog can be preloaded.
  const target = realpathSync(bin);
  if (/\.[cm]?js$/.test(target)) {
    return {
      command: process.execPath,
      prefixArgs: [`--import=data:text/javascript,${encodeURIComponent(ORPHAN_WATCHDOG)}`, target],
    };
  }
  return { command: bin, prefixArgs: [] };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true once any HTTP response comes back; false if the attempt failed (not listening yet). */
async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/models`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

interface Attempt {
  server?: PrismServer;
  /** Set when the process exited before answering; `retry` when the port was taken meanwhile. */
  exited?: { code: number | null; signal: NodeJS.Signals | null; retry: boolean };
  output: OutputRing;
}

async function attempt(
  specFile: string,
  opts: Required<StartPrismOptions>,
  deadline: number,
): Promise<Attempt> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { command, prefixArgs } = prismCommand();
  const args = [...prefixArgs, 'mock', '-h', '127.0.0.1', '-p', String(port)];
  if (opts.dynamic) args.push('--dynamic');
  args.push(specFile);

  const output = new OutputRing();
  const child: PrismChild = spawn(command, args, {
    cwd: REPO_ROOT,
    detached: false,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  installExitHook();
  liveChildren.add(child);

  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      liveChildren.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      output.push('stderr', Buffer.from(`spawn error: ${err.message}\n`));
      if (child.pid === undefined) {
        // Never started: no 'exit' event will follow.
        exitInfo ??= { code: null, signal: null };
        liveChildren.delete(child);
        resolve();
      }
    });
  });
  child.stdout.on('data', (chunk: Buffer) => output.push('stdout', chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push('stderr', chunk));

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (exitInfo === undefined && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
        await exited;
        clearTimeout(killTimer);
      }
      liveChildren.delete(child);
    })();
    return closing;
  };

  // 'exit' can fire before the last output chunks are read: give the pipes a moment to drain.
  const settle = async (): Promise<void> => {
    await Promise.race([
      Promise.all([
        new Promise((r) => child.stdout.once('close', r)),
        new Promise((r) => child.stderr.once('close', r)),
      ]),
      delay(500),
    ]);
  };

  while (Date.now() < deadline) {
    if (exitInfo !== undefined) {
      await settle();
      const retry = /EADDRINUSE/.test(output.tail(Number.MAX_SAFE_INTEGER));
      return { exited: { ...exitInfo, retry }, output };
    }
    if (await answers(url)) {
      return { server: { url, port, close }, output };
    }
    await Promise.race([delay(POLL_INTERVAL_MS), exited]);
  }
  await close();
  return { output };
}

/**
 * Starts Prism (`prism mock`) for a spec on 127.0.0.1 with a free port, and waits until it
 * answers HTTP (polls `GET /models` until any response).
 *
 * The spec is the one vendored in `<repo>/specs/` (for `'openai'`, `AIWIRE_OPENAI_SPEC` overrides it).
 * The process is killed on {@link PrismServer.close}, when the test process exits, and (by a
 * watchdog inside it) when the test process dies without exiting cleanly.
 *
 * @param spec which API's spec to serve.
 * @param opts `timeoutMs` (default 90 000) and `dynamic` (schema-generated responses).
 * @returns the running server; call `close()` in `afterAll`.
 * @throws Error with the last lines of Prism's output if it exits before answering or times out.
 */
export async function startPrism(spec: SpecName, opts: StartPrismOptions = {}): Promise<PrismServer> {
  const specFile = opts.specFile ?? specPath(spec);
  const resolved: Required<StartPrismOptions> = {
    timeoutMs: opts.timeoutMs ?? 90_000,
    dynamic: opts.dynamic ?? false,
    specFile,
  };
  if (!/^https?:\/\//.test(specFile) && !existsSync(specFile)) {
    throw new Error(`OpenAPI spec for '${spec}' not found at ${specFile} (set AIWIRE_OPENAI_SPEC)`);
  }
  const started = Date.now();
  const deadline = started + resolved.timeoutMs;

  for (let i = 1; ; i++) {
    const result = await attempt(specFile, resolved, deadline);
    if (result.server) return result.server;
    const tail = result.output.tail(ERROR_TAIL_LINES) || '(no output)';
    if (result.exited) {
      if (result.exited.retry && i < MAX_PORT_ATTEMPTS && Date.now() < deadline) continue;
      const how =
        result.exited.signal !== null
          ? `signal ${result.exited.signal}`
          : `code ${String(result.exited.code)}`;
      throw new Error(`Prism (${spec}) exited with ${how} before answering. Last output:\n${tail}`);
    }
    throw new Error(`Prism (${spec}) did not answer within ${resolved.timeoutMs} ms. Last output:\n${tail}`);
  }
}
