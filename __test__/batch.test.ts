// `runBatch()` (aiwire/batch) with the `local` executor against the bundled mock (aiwire/testing) over
// real loopback HTTP: OpenAI chat + embeddings and Anthropic messages in one file, failing items
// (`model: "mock-error-<status>"`), invalid lines, resume (skip written ids, cut a torn last line),
// `retryFailed`, stopping with a signal, the executor contract (duplicates and aborted lines are not
// written), the summary and progress, and bad options. SIGKILL then resume: __test__/batch-cli.test.ts.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BatchExecutor,
  type BatchItem,
  BatchOutputError,
  type BatchOutputLine,
  type BatchProgress,
  BatchUsageError,
  parseInputLine,
  type RunBatchOptions,
  runBatch,
} from '../src/batch/index.js';
import { BODY_TEXT } from '../src/batch/input.js';
import { RAW_BODY, serializeLine } from '../src/batch/send-item.js';
import { type MockServer, startMockServer } from '../src/testing/index.js';

let mock: MockServer;
let slow: MockServer;
let dir: string;
let n = 0;

beforeAll(async () => {
  mock = await startMockServer();
  slow = await startMockServer({ latencyMs: 40 });
  dir = mkdtempSync(join(tmpdir(), 'aiwire-batch-'));
});
afterAll(async () => {
  await mock.close();
  await slow.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh pair of file paths in the temp dir. */
function files(): { input: string; output: string } {
  n += 1;
  return { input: join(dir, `in-${n}.jsonl`), output: join(dir, `out-${n}.jsonl`) };
}

const chat = (id: string, content: string, model = 'gpt-4o-mini') => ({
  custom_id: id,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model, messages: [{ role: 'user', content }] },
});
const message = (id: string, content: string, model = 'claude-sonnet-4-6') => ({
  custom_id: id,
  method: 'POST',
  url: '/v1/messages',
  body: { model, max_tokens: 16, messages: [{ role: 'user', content }] },
});

function writeInput(path: string, lines: unknown[]): void {
  writeFileSync(path, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
}

/** Every output line parsed (each must be valid JSON). */
function readOutput(path: string): BatchOutputLine[] {
  const text = readFileSync(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as BatchOutputLine);
}

function byId(lines: BatchOutputLine[]): Map<string, BatchOutputLine> {
  const map = new Map<string, BatchOutputLine>();
  for (const l of lines) {
    expect(map.has(l.custom_id), `custom_id ${l.custom_id} written twice`).toBe(false);
    map.set(l.custom_id, l);
  }
  return map;
}

const opts = (
  server: MockServer,
  extra: Partial<RunBatchOptions> & Pick<RunBatchOptions, 'input' | 'output'>,
) => ({
  baseURL: server.url,
  maxRetries: 0,
  clientOptions: { openai: { apiKey: 'sk-test' }, anthropic: { apiKey: 'sk-ant-test' } },
  ...extra,
});

describe('runBatch (local executor)', () => {
  it('sends OpenAI and Anthropic lines from one file; one output line per input line; summary with tokens', async () => {
    const f = files();
    writeInput(f.input, [
      chat('c1', 'hello there'),
      message('m1', 'hi claude'),
      {
        custom_id: 'e1',
        method: 'POST',
        url: '/v1/embeddings',
        body: { model: 'text-embedding-3-small', input: 'a b c' },
      },
      chat('c2', 'second question'),
      // Other key orders, and a repeated "body" key (the last one counts, as with JSON.parse).
      '{"body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "keys reordered"}]}, "url": "/v1/chat/completions", "custom_id": "c3", "method": "post"}',
      '{"custom_id": "c4", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "first"}]}, "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "last body"}]}}',
    ]);
    const progress: BatchProgress[] = [];
    const summary = await runBatch(opts(mock, { ...f, concurrency: 2, onProgress: (p) => progress.push(p) }));
    const out = byId(readOutput(f.output));
    expect([...out.keys()].sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'e1', 'm1']);
    const content = (id: string) => {
      const body = out.get(id)?.response?.body as { choices: { message: { content: string } }[] };
      return body.choices[0]?.message.content;
    };
    expect(content('c3')).toBe('Echo: keys reordered');
    expect(content('c4')).toBe('Echo: last body');
    const c1 = out.get('c1');
    expect(c1?.error).toBeNull();
    expect(c1?.id).toMatch(/^batch_req_/);
    expect(c1?.response?.status_code).toBe(200);
    expect(c1?.response?.request_id).toMatch(/^req_mock_/);
    const c1Body = c1?.response?.body as { choices: { message: { content: string } }[] };
    expect(c1Body.choices[0]?.message.content).toBe('Echo: hello there');
    const m1 = out.get('m1')?.response?.body as { type: string; content: { text: string }[] };
    expect(m1.type).toBe('message');
    expect(m1.content[0]?.text).toContain('hi claude');
    const e1 = out.get('e1')?.response?.body as { data: unknown[] };
    expect(e1.data).toHaveLength(1);
    expect(summary).toMatchObject({
      via: 'local',
      total: 6,
      succeeded: 6,
      failed: 0,
      skipped: 0,
      interrupted: false,
    });
    expect(summary.output).toBe(f.output);
    expect(summary.tokens.input).toBeGreaterThan(0);
    expect(summary.tokens.output).toBeGreaterThan(0);
    expect(summary.tokens.total).toBeGreaterThanOrEqual(summary.tokens.input + summary.tokens.output);
    expect(summary.latencyMs.p50).toBeGreaterThan(0);
    expect(summary.latencyMs.p99).toBeGreaterThanOrEqual(summary.latencyMs.p50 ?? 0);
    expect(progress.at(-1)).toMatchObject({ total: 6, succeeded: 6, failed: 0, inFlight: 0 });
  });

  it('--provider for urls that name none: AIVillage lines through its client (base URL with a prefix before /v1)', async () => {
    const f = files();
    writeInput(f.input, [
      { custom_id: 'v1', method: 'POST', url: '/v1/chat', body: { message: 'hello village' } },
      { custom_id: 'v2', method: 'GET', url: '/v1/health' },
      message('m', 'still Anthropic'),
    ]);
    const summary = await runBatch(
      opts(mock, {
        ...f,
        provider: 'aivillage',
        clientOptions: {
          aivillage: { apiKey: 'av-test', baseURL: `${mock.url}/aivillage/v1` },
          anthropic: { apiKey: 'sk-ant-test' },
        },
      }),
    );
    expect(summary).toMatchObject({ succeeded: 3, failed: 0 });
    const out = byId(readOutput(f.output));
    const village = out.get('v1')?.response?.body as { response: string };
    expect(village.response).toMatch(/answers: hello village$/);
    expect(out.get('v2')?.response?.status_code).toBe(200);
    const anthropic = out.get('m')?.response?.body as { type: string };
    expect(anthropic.type).toBe('message');
  });

  it('failed items get the typed error and the HTTP answer; the summary counts them by kind', async () => {
    const f = files();
    writeInput(f.input, [
      chat('ok', 'fine'),
      chat('limited', 'x', 'mock-error-429'),
      chat('broken', 'x', 'mock-error-400'),
      message('overloaded', 'x', 'mock-error-529'),
    ]);
    const summary = await runBatch(opts(mock, f));
    const out = byId(readOutput(f.output));
    expect(out.get('ok')?.error).toBeNull();
    const limited = out.get('limited');
    expect(limited?.response?.status_code).toBe(429);
    expect(limited?.error).toMatchObject({ type: 'RateLimitError', status: 429, retryable: true });
    expect(out.get('broken')?.error).toMatchObject({
      type: 'BadRequestError',
      status: 400,
      retryable: false,
    });
    expect(out.get('overloaded')?.error).toMatchObject({ status: 529, retryable: true });
    expect(summary).toMatchObject({ succeeded: 1, failed: 3, retryable: 2 });
    const kinds = Object.values(summary.failedByKind).reduce((a, b) => a + b, 0);
    expect(kinds).toBe(3);
    expect(summary.failedByKind[limited?.error?.code ?? '']).toBeGreaterThanOrEqual(1);
  });

  it('invalid lines get an invalid_input line naming the line; a repeated custom_id names both lines', async () => {
    const f = files();
    writeInput(f.input, [
      chat('a', 'one'),
      '{not json',
      { method: 'POST', url: '/v1/chat/completions', body: {} },
      chat('a', 'again'),
      { ...chat('b', 'x'), method: 'FETCH' },
      { ...chat('c', 'x'), url: 'v1/chat/completions' },
      '',
      { custom_id: 'd', method: 'POST', url: '/v1/chat/completions' },
      '[1,2]',
    ]);
    const summary = await runBatch(opts(mock, f));
    const out = byId(readOutput(f.output));
    expect(out.get('a')?.error).toBeNull();
    expect(out.get('input-line-2')?.error).toMatchObject({
      code: 'invalid_input',
      line: 2,
      retryable: false,
    });
    expect(out.get('input-line-2')?.error?.message).toMatch(/input line 2: not valid JSON/);
    expect(out.get('input-line-3')?.error?.message).toMatch(/custom_id/);
    expect(out.get('input-line-4')?.error?.message).toMatch(/custom_id 'a' repeats the one of line 1/);
    expect(out.get('b')?.error?.message).toMatch(/input line 5: unknown "method" "FETCH"/);
    expect(out.get('c')?.error?.message).toMatch(/"url" must be/);
    expect(out.get('d')?.error?.message).toMatch(/input line 8: "body" must be a JSON object/);
    expect(out.get('input-line-9')?.error?.code).toBe('invalid_input');
    expect(out.size).toBe(8);
    expect(summary).toMatchObject({ total: 8, succeeded: 1, failed: 7, invalid: 7 });
    expect(summary.failedByKind).toEqual({ invalid_input: 7 });
  });

  it('resumes: ids already in the output are skipped, a torn last line is cut, every id ends up once', async () => {
    const f = files();
    const lines = Array.from({ length: 30 }, (_, i) => chat(`r${i}`, `q${i}`));
    writeInput(f.input, lines.slice(0, 12));
    await runBatch(opts(mock, f));
    // A run killed inside a write leaves a line without its newline.
    appendFileSync(f.output, '{"id":"batch_req_x","custom_id":"r12","respo');
    writeInput(f.input, lines);
    const before = mock.requests;
    const invalid = '{"custom_id": 5}';
    appendFileSync(f.input, `${invalid}\n`);
    const summary = await runBatch(opts(mock, f));
    expect(mock.requests - before).toBe(18);
    expect(summary).toMatchObject({ total: 31, skipped: 12, succeeded: 18, invalid: 1 });
    const out = byId(readOutput(f.output));
    expect(out.size).toBe(31);
    for (let i = 0; i < 30; i++) expect(out.get(`r${i}`)?.error).toBeNull();
    // Run again: nothing left to send (the invalid line's output is kept as well).
    const again = await runBatch(opts(mock, f));
    expect(again).toMatchObject({ skipped: 31, succeeded: 0, failed: 0, interrupted: false });
    expect(readOutput(f.output)).toHaveLength(31);
  });

  it('retryFailed sends retryable failures again and replaces their lines; others stay as they are', async () => {
    const f = files();
    const input = [chat('ok', 'a'), chat('flaky', 'b', 'mock-error-503'), chat('bad', 'c', 'mock-error-400')];
    writeInput(f.input, input);
    await runBatch(opts(mock, f));
    // Without retryFailed: everything written is skipped (the input is unchanged).
    const skipped = await runBatch(opts(mock, f));
    expect(skipped).toMatchObject({ skipped: 3, succeeded: 0, changed: 0 });
    const first = byId(readOutput(f.output)).get('flaky');
    expect(first?.error?.status).toBe(503);
    // With it: only the retryable one is sent again (and fails again here); its line is replaced.
    const before = mock.requests;
    const summary = await runBatch(opts(mock, { ...f, retryFailed: true }));
    expect(mock.requests - before).toBe(1);
    expect(summary).toMatchObject({ skipped: 2, retried: 1, succeeded: 0, failed: 1 });
    const lines = readOutput(f.output);
    expect(lines).toHaveLength(3);
    const out = byId(lines);
    expect(out.get('flaky')?.error?.status).toBe(503);
    expect(out.get('flaky')?.id).not.toBe(first?.id);
    expect(out.get('bad')?.error?.status).toBe(400);
  });

  it('a stop (signal) takes no new items, writes the finished ones whole, and the next run completes', async () => {
    const f = files();
    writeInput(
      f.input,
      Array.from({ length: 400 }, (_, i) => chat(`s${i}`, `q${i}`)),
    );
    const controller = new AbortController();
    let seen = 0;
    const first = await runBatch(
      opts(slow, {
        ...f,
        concurrency: 4,
        signal: controller.signal,
        progressIntervalMs: 10,
        onProgress: (p) => {
          seen = p.succeeded;
          if (p.succeeded >= 8) controller.abort();
        },
      }),
    );
    expect(seen).toBeGreaterThanOrEqual(8);
    expect(first.interrupted).toBe(true);
    const partial = byId(readOutput(f.output));
    expect(partial.size).toBe(first.succeeded);
    expect(partial.size).toBeLessThan(400);
    const second = await runBatch(opts(slow, { ...f, concurrency: 32 }));
    expect(second).toMatchObject({
      interrupted: false,
      skipped: partial.size,
      succeeded: 400 - partial.size,
    });
    const out = byId(readOutput(f.output));
    expect(out.size).toBe(400);
  });

  it('forceSignal aborts in-flight requests; their items stay unwritten for the next run', async () => {
    const f = files();
    writeInput(
      f.input,
      Array.from({ length: 6 }, (_, i) => chat(`f${i}`, `q${i}`)),
    );
    const force = new AbortController();
    force.abort();
    const summary = await runBatch(opts(slow, { ...f, forceSignal: force.signal }));
    expect(summary.interrupted).toBe(true);
    expect(readFileSync(f.output, 'utf8')).toBe('');
    const next = await runBatch(opts(slow, f));
    expect(next).toMatchObject({ succeeded: 6, interrupted: false });
  });

  it('takes items from an iterable; an executor emitting an id twice, an unknown id or an aborted line writes each taken id once', async () => {
    const f = files();
    const executor: BatchExecutor = {
      name: 'twice',
      async run(items, ctx) {
        for await (const item of items) {
          const line = (error: BatchOutputLine['error']): BatchOutputLine => ({
            id: `x-${item.custom_id}`,
            custom_id: item.custom_id,
            response: error
              ? null
              : {
                  status_code: 200,
                  request_id: null,
                  body: { usage: { input_tokens: 2, output_tokens: 3 } },
                },
            error,
          });
          if (item.custom_id === 'gone') {
            await ctx.emit(
              line({
                code: 'aborted',
                message: 'x',
                type: 'APIUserAbortError',
                status: null,
                retryable: true,
              }),
            );
            continue;
          }
          await ctx.emit(line(null));
          await ctx.emit(line(null));
          await ctx.emit({ ...line(null), custom_id: 'never-taken' });
        }
      },
    };
    const summary = await runBatch({
      input: [chat('x1', 'a'), JSON.stringify(chat('x2', 'b')), chat('gone', 'c')],
      output: f.output,
      executor,
    });
    const out = byId(readOutput(f.output));
    expect([...out.keys()]).toEqual(['x1', 'x2']);
    expect(summary).toMatchObject({
      via: 'twice',
      succeeded: 2,
      unfinished: 1,
      interrupted: true,
      tokens: { input: 4, output: 6, total: 10 },
    });
  });

  it('rateLimit reaches the clients the run builds (requestsPerMinute 1, maxQueueMs 0: one goes, the rest fail locally)', async () => {
    const f = files();
    writeInput(
      f.input,
      Array.from({ length: 5 }, (_, i) => chat(`l${i}`, 'x')),
    );
    const before = mock.requests;
    const summary = await runBatch(
      opts(mock, { ...f, concurrency: 1, rateLimit: { requestsPerMinute: 1, maxQueueMs: 0 } }),
    );
    expect(mock.requests - before).toBe(1);
    expect(summary).toMatchObject({ succeeded: 1, failed: 4, retryable: 4 });
    expect(summary.failedByKind).toEqual({ rate_limited_locally: 4 });
  });

  it('parseInputLine keeps the body text of a line in the usual key order (sent as is), not of others', () => {
    const seen = new Map<string, number>();
    const usual = '{"custom_id": "u", "method": "POST", "url": "/v1/x", "body": {"a": [1, {"b": "}"}]} }  ';
    const item = parseInputLine(usual, 1, seen).item as BatchItem & { [BODY_TEXT]?: string };
    expect(item[BODY_TEXT]).toBe('{"a": [1, {"b": "}"}]}');
    expect(item.body).toEqual({ a: [1, { b: '}' }] });
    expect(JSON.stringify(item)).not.toContain('bodyText');
    const reordered = parseInputLine(
      '{"method": "POST", "custom_id": "r", "url": "/v1/x", "body": {}}',
      2,
      seen,
    );
    expect((reordered.item as { [BODY_TEXT]?: string })[BODY_TEXT]).toBeUndefined();
    const twice = parseInputLine(
      '{"custom_id": "t", "method": "POST", "url": "/v1/x", "body": {"a": 1}, "body": {"b": 2}}',
      3,
      seen,
    );
    expect((twice.item as { [BODY_TEXT]?: string })[BODY_TEXT]).toBeUndefined();
    expect(twice.item?.body).toEqual({ b: 2 });
  });

  it('serializeLine writes a pretty-printed body on one line, the same JSON as JSON.stringify', () => {
    const body = {
      id: 'x',
      choices: [{ message: { content: 'a "quoted"\nline' } }],
      usage: { total_tokens: 3 },
    };
    const response = { status_code: 200, request_id: 'req_1', body };
    Object.defineProperty(response, RAW_BODY, {
      value: JSON.stringify(body, null, 2).replaceAll('\n', '\r\n'),
    });
    const line: BatchOutputLine = { id: 'batch_req_1', custom_id: 'c"1', response, error: null };
    const text = serializeLine(line);
    expect(text).not.toMatch(/[\r\n]/);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(line)));
  });

  it('rejects bad options and an output that is not a batch output, with what to fix', async () => {
    const f = files();
    writeInput(f.input, [chat('a', 'b')]);
    await expect(runBatch(opts(mock, { ...f, via: 'carrier-pigeon' }))).rejects.toThrow(
      /unknown executor 'carrier-pigeon'; use one of: local/,
    );
    await expect(runBatch(opts(mock, { ...f, concurrency: 0 }))).rejects.toBeInstanceOf(BatchUsageError);
    await expect(runBatch(opts(mock, { ...f, output: f.input }))).rejects.toThrow(
      /output must be another file/,
    );
    writeFileSync(f.output, 'hello\n');
    await expect(runBatch(opts(mock, f))).rejects.toBeInstanceOf(BatchOutputError);
    await expect(
      runBatch(opts(mock, { input: join(dir, 'missing.jsonl'), output: join(dir, 'o.jsonl') })),
    ).rejects.toThrow(/ENOENT/);
    expect(existsSync(join(dir, 'o.jsonl'))).toBe(false);
  });

  it('one run per output at a time: a live holder of <output>.lock refuses the run, a dead one is taken over', async () => {
    const f = files();
    writeInput(f.input, [chat('a', 'b')]);
    writeFileSync(`${f.output}.lock`, `${process.ppid}\n`);
    await expect(runBatch(opts(mock, f))).rejects.toThrow(
      new RegExp(`being written by another aiwire batch \\(pid ${process.ppid}\\)`),
    );
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(`${f.output}.lock`, `${gone}\n`);
    const summary = await runBatch(opts(mock, f));
    expect(summary.succeeded).toBe(1);
    expect(existsSync(`${f.output}.lock`)).toBe(false);
  });

  it('a missing API key fails the run with the variable to set, not one failed line per item', async () => {
    const f = files();
    writeInput(f.input, [chat('a', 'b'), chat('c', 'd')]);
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      await expect(runBatch({ ...f, baseURL: mock.url })).rejects.toThrow(/OPENAI_API_KEY/);
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
    expect(readFileSync(f.output, 'utf8')).toBe('');
  });
});
