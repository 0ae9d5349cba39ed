// `aiwire batch` as a user runs it (`node dist/cli.js batch …` in child processes, built by
// `npm run build:ts`, real files in a temp dir) against `aiwire mock`: the summary and plain progress
// lines, exit codes, --retry-failed, --quiet/--json, usage errors, Ctrl-C (SIGINT: exit 130 and the
// resume command), SIGKILL mid-run then resume (every id exactly once, every line valid JSON), and the
// progress bar on a terminal (a pseudo-terminal from util-linux `script`).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiwire, baseEnv, startMock, stopped, useCliMock } from './helpers/cli.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const mock = useCliMock();
/** A second mock that answers after 40 ms, so that runs last long enough to be interrupted. */
let slow: { child: ChildProcess; url: string };

beforeAll(async () => {
  slow = await startMock(['--latency', '40']);
});
afterAll(async () => {
  slow.child.kill('SIGTERM');
  await stopped(slow.child);
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
});

let n = 0;
/** Fresh input/output paths (absolute, in a temp dir of this file) with `lines` as the input. */
function files(lines: unknown[]): { input: string; output: string } {
  n += 1;
  const base = join(tmp(), `${n}`);
  const input = `${base}-in.jsonl`;
  writeFileSync(input, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
  return { input, output: `${base}-out.jsonl` };
}
let tmpDir = '';
function tmp(): string {
  tmpDir ||= mkdtempSync(join(tmpdir(), 'aiwire-batch-cli-'));
  return tmpDir;
}

const chat = (id: string, model = 'gpt-4o-mini') => ({
  custom_id: id,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model, messages: [{ role: 'user', content: `question ${id}` }] },
});

/** Every output line parsed; fails on a line that is not JSON or an id written twice. */
function ids(path: string): Map<string, { error: { code: string } | null }> {
  const map = new Map<string, { error: { code: string } | null }>();
  const text = readFileSync(path, 'utf8');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const o = JSON.parse(line);
    expect(map.has(o.custom_id), `${o.custom_id} twice`).toBe(false);
    map.set(o.custom_id, o);
  }
  return map;
}

/** Spawns `aiwire batch …args` and resolves once it has exited, with its output. */
function start(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, [CLI, 'batch', ...args], {
    env: baseEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Resolves once `path` holds at least `lines` whole lines (polling; bounded by 30 s). */
async function waitForLines(path: string, lines: number): Promise<void> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (existsSync(path) && statSync(path).size > 0) {
      const count = readFileSync(path, 'utf8').split('\n').length - 1;
      if (count >= lines) return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${path} did not reach ${lines} lines`);
}

describe('aiwire batch', () => {
  it('runs a file: one line per input line, the summary on stdout, plain progress lines on stderr', async () => {
    const f = files([
      chat('a'),
      chat('b'),
      {
        ...chat('c'),
        url: '/v1/messages',
        body: { model: 'claude-sonnet-4-6', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] },
      },
    ]);
    const r = await aiwire(['batch', f.input, '-o', f.output, '--base-url', mock.url, '--concurrency', '2']);
    expect(r.stderr).toMatch(
      /aiwire: batch 3\/3 done, 0 failed, [\d,]+\/s, ETA (\d+s|\?), [\d,]+ tokens\/min/,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^batch done via local in \S+: 3 succeeded, 0 failed, 0 skipped/);
    expect(r.stdout).toMatch(/tokens: \d+ input, \d+ output, \d+ total \(no cost: give --prices FILE\)/);
    expect(r.stdout).toMatch(/latency p50 [\d.]+ ms, p99 [\d.]+ ms/);
    expect([...ids(f.output).keys()].sort()).toEqual(['a', 'b', 'c']);
  });

  it('--prices FILE: the summary shows the cost at those prices; a bad prices file is a usage error', async () => {
    const f = files([chat('p1'), chat('p2')]);
    const prices = join(tmp(), 'prices.json');
    writeFileSync(prices, JSON.stringify({ 'gpt-4o-mini': { input: 150, output: 600 } }));
    const r = await aiwire([
      'batch',
      f.input,
      '-o',
      f.output,
      '--base-url',
      mock.url,
      '--quiet',
      '--prices',
      prices,
    ]);
    expect(r.code).toBe(0);
    let want = 0;
    for (const line of readFileSync(f.output, 'utf8').trim().split('\n')) {
      const u = JSON.parse(line).response.body.usage;
      want += (u.prompt_tokens * 150 + u.completion_tokens * 600) / 1e6;
    }
    expect(r.stdout).toContain(`cost: $${want.toFixed(4)} (gpt-4o-mini $${want.toFixed(4)})`);
    writeFileSync(prices, JSON.stringify({ 'gpt-4o-mini': { input: 'cheap', output: 1 } }));
    const g = files([chat('p3')]);
    const bad = await aiwire(['batch', g.input, '-o', g.output, '--base-url', mock.url, '--prices', prices]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /'gpt-4o-mini'\.input must be a number >= 0 \(USD per 1M tokens\), got "cheap"/,
    );
  });

  it('exits 1 when items fail, says how to retry them; --retry-failed replaces the retryable ones', async () => {
    const f = files([chat('ok'), chat('busy', 'mock-error-503'), chat('bad', 'mock-error-400'), '{oops']);
    const r = await aiwire(['batch', f.input, '-o', f.output, '--base-url', mock.url, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/1 succeeded, 3 failed \(/);
    expect(r.stdout).toMatch(/invalid_input 1/);
    expect(r.stdout).toMatch(/1 failed with a retryable error: run the same command with --retry-failed/);
    writeFileSync(
      f.input,
      `${[chat('ok'), chat('busy'), chat('bad', 'mock-error-400'), '{oops'].map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`,
    );
    const again = await aiwire([
      'batch',
      f.input,
      '-o',
      f.output,
      '--base-url',
      mock.url,
      '--retry-failed',
      '--json',
    ]);
    const summary = JSON.parse(again.stdout);
    expect(summary).toMatchObject({ skipped: 3, retried: 1, succeeded: 1, failed: 0 });
    expect(again.code).toBe(0);
    const out = ids(f.output);
    expect(out.size).toBe(4);
    expect(out.get('busy')?.error).toBeNull();
    expect(out.get('bad')?.error).not.toBeNull();
  });

  it('--rpm/--max-queue-ms are the clients limits: at 1 per minute with no queue, one item goes and the rest fail locally', async () => {
    const f = files([chat('r1'), chat('r2'), chat('r3')]);
    const r = await aiwire([
      'batch',
      f.input,
      '-o',
      f.output,
      '--base-url',
      mock.url,
      '--concurrency',
      '1',
      '--rpm',
      '1',
      '--max-queue-ms',
      '0',
      '--adaptive',
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      succeeded: 1,
      failed: 2,
      failedByKind: { rate_limited_locally: 2 },
    });
    expect([...ids(f.output).values()].filter((l) => l.error?.code === 'rate_limited_locally')).toHaveLength(
      2,
    );
  });

  it('usage errors exit 2 with what to fix', async () => {
    const f = files([chat('a')]);
    const cases: [string[], RegExp][] = [
      [['batch', f.input], /--output OUT is required/],
      [['batch', '-o', f.output], /the input file IN is required/],
      [['batch', f.input, '-o', f.output, '--via', 'pigeon'], /unknown executor 'pigeon'; use one of: local/],
      [
        ['batch', f.input, '-o', f.output, '--concurrency', '0'],
        /--concurrency must be a whole number from 1/,
      ],
      [['batch', f.input, '-o', f.output, '--rpm', 'lots'], /--rpm must be a whole number/],
      [['batch', join(tmp(), 'no-such-file.jsonl'), '-o', f.output], /input file not found/],
      [['batch', f.input, '-o', f.input], /output must be another file than input/],
      [
        ['batch', f.input, '-o', join(tmp(), 'no-such-folder', 'out.jsonl')],
        /the folder of --output does not exist/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await aiwire([...args, '--base-url', mock.url]);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });

  it('Ctrl-C stops cleanly (exit 130, the resume command); the same command then finishes the rest', async () => {
    const f = files(Array.from({ length: 300 }, (_, i) => chat(`i${i}`)));
    const args = [f.input, '-o', f.output, '--base-url', slow.url, '--concurrency', '2'];
    const run = start(args);
    await waitForLines(f.output, 4);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/stopping: no new requests/);
    expect(r.stderr).toContain(`resume with the same command`);
    expect(r.stderr).toContain(`aiwire batch ${args.join(' ')}`);
    expect(r.stdout).toMatch(/^batch stopped via local/);
    const partial = ids(f.output).size;
    expect(partial).toBeGreaterThanOrEqual(4);
    expect(partial).toBeLessThan(300);
    const rest = await start([...args.slice(0, -1), '64', '--quiet', '--json']).done;
    expect(rest.code).toBe(0);
    expect(JSON.parse(rest.stdout)).toMatchObject({ skipped: partial, succeeded: 300 - partial });
    expect(ids(f.output).size).toBe(300);
  });

  it('SIGKILL mid-run loses nothing: rerun, and every id is there exactly once, every line valid JSON', async () => {
    const f = files(Array.from({ length: 400 }, (_, i) => chat(`k${i}`)));
    const args = [f.input, '-o', f.output, '--base-url', slow.url, '--concurrency', '8', '--quiet'];
    const run = start(args);
    await waitForLines(f.output, 20);
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    const text = readFileSync(f.output, 'utf8');
    // Whole lines only, or a torn tail the next run cuts.
    const whole = text.slice(0, text.lastIndexOf('\n') + 1);
    for (const line of whole.split('\n').filter(Boolean)) JSON.parse(line);
    const rest = await start([...args, '--json']).done;
    expect(rest.code).toBe(0);
    const out = ids(f.output);
    expect(out.size).toBe(400);
    for (let i = 0; i < 400; i++) expect(out.get(`k${i}`)?.error).toBeNull();
    expect(JSON.parse(rest.stdout).skipped).toBeGreaterThanOrEqual(20);
  });

  it('draws a progress bar on a terminal (pseudo-terminal via script(1))', async () => {
    const f = files(Array.from({ length: 60 }, (_, i) => chat(`p${i}`)));
    const command = [
      process.execPath,
      CLI,
      'batch',
      f.input,
      '-o',
      f.output,
      '--base-url',
      slow.url,
      '--concurrency',
      '2',
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn('script', ['-qfec', command, '/dev/null'], {
        env: { ...baseEnv, TERM: 'xterm-256color', COLUMNS: '160' },
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: 60_000,
        killSignal: 'SIGKILL',
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        out += d;
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
      child.stdin.end();
    });
    expect(r.code).toBe(0);
    // cli-progress's bar (full and empty shades), the counts, and the summary after it.
    expect(r.out).toMatch(
      /batch [\u2588\u2591]{24} \d+% \| \d+\/60 done \| 0 failed \| [\d,]+\/s \| ETA (\d+s|\d+m\d\ds|\d+h\d\dm|\?) \| [\d,]+ tokens\/min/,
    );
    expect(r.out).toMatch(/batch [\u2588]{24} 100% \| 60\/60 done/);
    expect(r.out).not.toMatch(/aiwire: batch \d+/);
    expect(r.out).toMatch(/batch done via local/);
    expect(ids(f.output).size).toBe(60);
  });
});
