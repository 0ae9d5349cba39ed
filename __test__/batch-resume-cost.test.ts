// `runBatch()` resume with changed input lines (`input_hash`: changed ids are sent again, the output
// keeps each id once, also after a run that dies before its final compaction) and the run's cost from
// `prices` (local at the given prices, openai-batch at half of them), against the bundled mock over
// loopback HTTP.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BatchExecutor,
  type BatchOutputLine,
  BatchUsageError,
  CostTally,
  inputHash,
  loadPrices,
  type ProviderBatchEvent,
  priceKey,
  type RunBatchOptions,
  runBatch,
} from '../src/batch/index.js';
import { type MockServer, startMockServer } from '../src/testing/index.js';

let mock: MockServer;
let dir: string;
let n = 0;

beforeAll(async () => {
  mock = await startMockServer();
  dir = mkdtempSync(join(tmpdir(), 'aiwire-batchrc-'));
});
afterAll(async () => {
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

function files(): { input: string; output: string } {
  n += 1;
  return { input: join(dir, `in-${n}.jsonl`), output: join(dir, `out-${n}.jsonl`) };
}
const chat = (id: string, content: string, model = 'gpt-4o-mini') =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content }] },
  });
const message = (id: string, content: string, model = 'claude-sonnet-4-5') =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/messages',
    body: { model, max_tokens: 16, messages: [{ role: 'user', content }] },
  });
const writeInput = (path: string, lines: string[]) => writeFileSync(path, `${lines.join('\n')}\n`);
const readOutput = (path: string): BatchOutputLine[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as BatchOutputLine);
const text = (l: BatchOutputLine | undefined) =>
  (l?.response?.body as { choices?: { message: { content: string } }[] } | undefined)?.choices?.[0]?.message
    .content;
const opts = (
  extra: Partial<RunBatchOptions> & Pick<RunBatchOptions, 'input' | 'output'>,
): RunBatchOptions => ({
  baseURL: mock.url,
  maxRetries: 0,
  clientOptions: { openai: { apiKey: 'sk-test' }, anthropic: { apiKey: 'sk-ant-test' } },
  ...extra,
});

describe('resume with changed input lines (input_hash)', () => {
  it('sends again the ids whose line changed (fixed invalid lines too); the output has each id once', async () => {
    const f = files();
    const v1 = [
      chat('c1', 'one'),
      chat('c2', 'two'),
      JSON.stringify({ custom_id: 'fixme', method: 'POST', url: 'v1/chat/completions', body: {} }),
      '{"custom_id": "j3", broken',
    ];
    writeInput(f.input, v1);
    const first = await runBatch(opts(f));
    expect(first).toMatchObject({ succeeded: 2, failed: 2, invalid: 2, changed: 0 });
    const lines1 = readOutput(f.output);
    expect(new Map(lines1.map((l) => [l.custom_id, l.input_hash]))).toEqual(
      new Map([
        ['c1', inputHash(v1[0])],
        ['c2', inputHash(v1[1])],
        ['fixme', inputHash(v1[2])],
        ['input-line-4', inputHash(v1[3])],
      ]),
    );

    // Unchanged input: everything skipped, nothing sent.
    const before = mock.requests;
    expect(await runBatch(opts(f))).toMatchObject({ skipped: 4, changed: 0, succeeded: 0 });
    expect(mock.requests).toBe(before);

    // c2 edited, the bad url fixed, the broken line 4 repaired (it now has its own id).
    const v2 = [v1[0] as string, chat('c2', 'two again'), chat('fixme', 'fixed'), chat('j3', 'three')];
    writeInput(f.input, v2);
    const second = await runBatch(opts(f));
    expect(mock.requests - before).toBe(3);
    expect(second).toMatchObject({ skipped: 1, changed: 2, succeeded: 3, failed: 0, interrupted: false });
    const lines2 = readOutput(f.output);
    expect(lines2.map((l) => l.custom_id).sort()).toEqual(['c1', 'c2', 'fixme', 'j3']);
    const out = new Map(lines2.map((l) => [l.custom_id, l]));
    expect(out.get('c1')).toEqual(lines1.find((l) => l.custom_id === 'c1'));
    expect(text(out.get('c2'))).toBe('Echo: two again');
    expect(text(out.get('fixme'))).toBe('Echo: fixed');
    expect(out.get('fixme')?.error).toBeNull();
    expect(out.get('c2')?.input_hash).toBe(inputHash(v2[1]));
  });

  it('a run that dies after appending a changed line but before compacting: the later line wins, the next run keeps it alone', async () => {
    const f = files();
    writeInput(f.input, [chat('a', 'first'), chat('b', 'bee')]);
    await runBatch(opts(f));
    const v2 = [chat('a', 'second'), chat('b', 'bee')];
    writeInput(f.input, v2);
    // An executor that answers the changed item, then dies (the run rejects before its compaction).
    const dying: BatchExecutor = {
      name: 'dying',
      async run(items, ctx) {
        for await (const item of items) {
          await ctx.emit({
            id: 'batch_req_dying',
            custom_id: item.custom_id,
            response: { status_code: 200, request_id: null, body: { answer: 'from the dying run' } },
            error: null,
          });
          throw new Error('killed');
        }
      },
    };
    await expect(runBatch(opts({ ...f, executor: dying }))).rejects.toThrow('killed');
    const torn = readOutput(f.output);
    expect(torn.map((l) => l.custom_id).sort()).toEqual(['a', 'a', 'b']);
    expect(torn[2]?.custom_id).toBe('a');
    expect(torn[2]?.input_hash).toBe(inputHash(v2[0]));

    // The next run: the earlier 'a' line is dropped at its start, the later one is current and skipped.
    const before = mock.requests;
    expect(await runBatch(opts(f))).toMatchObject({ skipped: 2, changed: 0, succeeded: 0 });
    expect(mock.requests).toBe(before);
    const lines = readOutput(f.output);
    expect(lines.map((l) => l.custom_id).sort()).toEqual(['a', 'b']);
    expect(lines.find((l) => l.custom_id === 'a')?.response?.body).toEqual({ answer: 'from the dying run' });
  });
});

describe.each(['openai', 'anthropic'] as const)(
  '%s-batch: a line changed while its batch runs',
  (provider) => {
    it('the rerun sends the changed item in a new batch and takes the others from the running one', async () => {
      const f = files();
      const line = (id: string, t: string) => (provider === 'openai' ? chat(id, t) : message(id, t));
      writeInput(f.input, [line('h0', 'zero'), line('h1', 'one')]);
      const stop = new AbortController();
      const first = await runBatch(
        opts({
          ...f,
          via: `${provider}-batch`,
          signal: stop.signal,
          executorOptions: {
            pollIntervalMs: 60_000,
            onStatus: (e: ProviderBatchEvent) => {
              if (e.type === 'created') stop.abort();
            },
          },
        }),
      );
      expect(first.interrupted).toBe(true);
      writeInput(f.input, [line('h0', 'zero'), line('h1', 'one changed')]);
      const events: ProviderBatchEvent[] = [];
      const second = await runBatch(
        opts({
          ...f,
          via: `${provider}-batch`,
          executorOptions: { pollIntervalMs: 5, onStatus: (e: ProviderBatchEvent) => events.push(e) },
        }),
      );
      expect(second).toMatchObject({ succeeded: 2, failed: 0, interrupted: false });
      expect(events.filter((e) => e.type === 'resumed')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'created').map((e) => e.requests)).toEqual([1]);
      const out = new Map(readOutput(f.output).map((l) => [l.custom_id, l]));
      const answer = (l: BatchOutputLine | undefined) =>
        provider === 'openai'
          ? text(l)
          : (l?.response?.body as { content?: { text: string }[] } | undefined)?.content?.[0]?.text;
      expect(answer(out.get('h0'))).toBe('Echo: zero');
      expect(answer(out.get('h1'))).toBe('Echo: one changed');
    });
  },
);

describe('cost from prices', () => {
  const prices = {
    'gpt-4o-mini': { input: 0.15, output: 0.6 },
    'claude-sonnet-4-5': { input: 3, output: 15 },
  };
  /** The cost of the output's lines at `prices` × `factor`, from their usage. */
  const expected = (lines: BatchOutputLine[], factor: number) => {
    let usd = 0;
    for (const l of lines) {
      const body = l.response?.body as { model?: string; usage?: Record<string, number> } | undefined;
      const u = body?.usage;
      if (!u) continue;
      if (body?.model === 'gpt-4o-mini')
        usd += ((u.prompt_tokens ?? 0) * 0.15 + (u.completion_tokens ?? 0) * 0.6) / 1e6;
      if (body?.model === 'claude-sonnet-4-5')
        usd += ((u.input_tokens ?? 0) * 3 + (u.output_tokens ?? 0) * 15) / 1e6;
    }
    return usd * factor;
  };

  it('local: the summary has the cost per model at the given prices; a model without a price is named', async () => {
    const f = files();
    writeInput(f.input, [
      chat('c1', 'hello there general kenobi'),
      chat('c2', 'a b c d e f g'),
      message('m1', 'hi claude how are you'),
      chat('x1', 'who prices me', 'gpt-unpriced'),
    ]);
    const summary = await runBatch(opts({ ...f, prices }));
    const lines = readOutput(f.output);
    expect(summary.succeeded).toBe(4);
    const want = expected(lines, 1);
    expect(want).toBeGreaterThan(0);
    expect(summary.cost?.usd).toBeCloseTo(want, 12);
    expect(Object.keys(summary.cost?.byModel ?? {}).sort()).toEqual(['claude-sonnet-4-5', 'gpt-4o-mini']);
    expect(summary.cost?.byModel['gpt-4o-mini']?.requests).toBe(2);
    expect(summary.cost?.unpriced).toEqual({ requests: 1, models: ['gpt-unpriced'] });
    expect(summary.cost?.priceMultiplier).toBe(1);
    // Without prices: no cost.
    const g = files();
    writeInput(g.input, [chat('c1', 'x')]);
    expect((await runBatch(opts(g))).cost).toBeNull();
  });

  it('openai-batch: the same requests cost half (priceMultiplier 0.5, the Batch API discount)', async () => {
    const input = [chat('b1', 'one two three'), chat('b2', 'four five six seven')];
    const local = files();
    writeInput(local.input, input);
    const viaLocal = await runBatch(opts({ ...local, prices }));
    const batch = files();
    writeInput(batch.input, input);
    const viaBatch = await runBatch(
      opts({
        ...batch,
        prices,
        via: 'openai-batch',
        executorOptions: { pollIntervalMs: 5, onStatus: () => {} },
      }),
    );
    expect(viaBatch.succeeded).toBe(2);
    expect(viaBatch.tokens).toEqual(viaLocal.tokens);
    expect(viaBatch.cost?.priceMultiplier).toBe(0.5);
    expect(viaBatch.cost?.usd).toBeCloseTo((viaLocal.cost?.usd ?? 0) / 2, 12);
    expect(viaBatch.cost?.usd).toBeCloseTo(expected(readOutput(batch.output), 0.5), 12);
  });

  it('cached and cache-write tokens are priced apart: OpenAI counts them inside the prompt, Anthropic beside it', () => {
    const tally = new CostTally(
      {
        m: { input: 2, output: 8, cached_input: 1 },
        a: { input: 3, output: 15, cached_input: 0.3, cache_write: 3.75 },
      },
      1,
    );
    tally.add(['m'], {
      prompt_tokens: 1000,
      completion_tokens: 100,
      prompt_tokens_details: { cached_tokens: 400 },
    });
    tally.add(['a-20250929'], {
      input_tokens: 100,
      output_tokens: 10,
      cache_read_input_tokens: 1000,
      cache_creation_input_tokens: 200,
    });
    const c = tally.summary();
    expect(c.byModel.m?.usd).toBeCloseTo((600 * 2 + 400 * 1 + 100 * 8) / 1e6, 15);
    expect(c.byModel.a?.usd).toBeCloseTo((100 * 3 + 1000 * 0.3 + 200 * 3.75 + 10 * 15) / 1e6, 15);
  });

  it('model names: exact, or the key plus a snapshot date; never a longer model under a shorter key', () => {
    const p = { 'gpt-4o': { input: 1, output: 1 }, 'claude-sonnet-4-5': { input: 1, output: 1 } };
    expect(priceKey(p, 'gpt-4o')).toBe('gpt-4o');
    expect(priceKey(p, 'gpt-4o-2024-08-06')).toBe('gpt-4o');
    expect(priceKey(p, 'claude-sonnet-4-5-20250929')).toBe('claude-sonnet-4-5');
    expect(priceKey(p, 'gpt-4o-mini')).toBeUndefined();
    expect(priceKey(p, 'gpt-4o-mini-2024-07-18')).toBeUndefined();
  });

  it('bad prices are a usage error naming the model and field', async () => {
    const f = files();
    writeInput(f.input, [chat('c1', 'x')]);
    await expect(
      runBatch(opts({ ...f, prices: { 'gpt-4o-mini': { input: -1, output: 1 } } })),
    ).rejects.toThrow(BatchUsageError);
    await expect(
      runBatch(
        opts({ ...f, prices: { 'gpt-4o-mini': { input: 1 } } as unknown as RunBatchOptions['prices'] }),
      ),
    ).rejects.toThrow(/'gpt-4o-mini'\.output must be a number >= 0/);
    const file = join(dir, 'prices.json');
    writeFileSync(file, '{"m": {"input": 1, "output": 2, "cachd_input": 1}}');
    await expect(loadPrices(file)).rejects.toThrow(/unknown field\(s\) cachd_input/);
    appendFileSync(file, 'x');
    await expect(loadPrices(file)).rejects.toThrow(/not JSON/);
  });
});
