// The `openai-batch` and `anthropic-batch` executors (part 2): resume from the state file after an
// abort mid-poll, the mock's Message Batches routes, bad options, and runBatch({ via: 'openai-batch' |
// 'anthropic-batch' }) giving the same lines as via 'local'. Shared pieces in helpers/batch-provider.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type BatchOutputLine,
  type ProviderBatchEvent,
  providerBatchExecutor,
  runBatch,
} from '../src/batch/index.js';
import {
  anthropic,
  chat,
  claudeText,
  dir,
  embed,
  item,
  message,
  mock,
  openai,
  readState,
  run,
  stateFile,
  text,
  useBatchMock,
} from './helpers/batch-provider.js';

useBatchMock();

describe.each(['openai', 'anthropic'] as const)('%s-batch resume', (provider) => {
  it('abort mid-poll leaves the batches running and recorded; a rerun re-attaches instead of resubmitting', async () => {
    const state = stateFile();
    const client = provider === 'openai' ? openai : anthropic;
    const mk = (i: number) =>
      provider === 'openai' ? chat(`k${i}`, `resume ${i}`) : message(`k${i}`, `resume ${i}`);
    const items = Array.from({ length: 5 }, (_, i) => mk(i));
    const read = (l: BatchOutputLine | undefined) => (provider === 'openai' ? text(l) : claudeText(l));

    const stop = new AbortController();
    const first: ProviderBatchEvent[] = [];
    const base = { provider, client, stateFile: state, maxRequestsPerBatch: 3 };
    // First run: the first batch is polled once (still in progress) and waits a minute for the next
    // poll; the abort comes when the second batch has been created.
    const lines1 = await run(
      providerBatchExecutor({
        ...base,
        pollIntervalMs: 60_000,
        onStatus: (e) => {
          first.push(e);
          if (e.type === 'created' && first.filter((x) => x.type === 'created').length === 2) stop.abort();
        },
      }),
      items,
      stop.signal,
    );
    expect(lines1.size).toBe(0);
    const detached = first.find((e) => e.type === 'detached');
    expect(detached?.batchIds).toHaveLength(2);
    expect(detached?.message).toMatch(/left running on the server/);
    const recorded = readState(state).batches;
    expect(recorded.map((b) => [b.custom_ids, b.collected])).toEqual([
      [['k0', 'k1', 'k2'], false],
      [['k3', 'k4'], false],
    ]);

    // The runner passes only the items without a line in the output: here all but k4.
    const second: ProviderBatchEvent[] = [];
    const lines2 = await run(
      providerBatchExecutor({ ...base, pollIntervalMs: 5, onStatus: (e) => second.push(e) }),
      items.slice(0, 4),
    );
    expect(second.filter((e) => e.type === 'created')).toEqual([]);
    expect(second.filter((e) => e.type === 'resumed').map((e) => e.batchId)).toEqual(detached?.batchIds);
    expect([...lines2.keys()].sort()).toEqual(['k0', 'k1', 'k2', 'k3']);
    for (let i = 0; i < 4; i++) expect(read(lines2.get(`k${i}`))).toBe(`Echo: resume ${i}`);
    expect(readState(state).batches.every((b) => b.collected)).toBe(true);
  });
});

describe("the mock's Message Batches routes", () => {
  it('refuses what the API refuses: bad custom_id, results before the end, delete while in progress; lists newest first', async () => {
    const params = {
      model: 'claude-sonnet-4-6',
      max_tokens: 8,
      messages: [{ role: 'user' as const, content: 'hi' }],
    };
    await expect(
      anthropic.messages.batches.create({ requests: [{ custom_id: 'a:b', params }] }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/custom_id/),
    });
    await expect(
      anthropic.messages.batches.create({
        requests: [
          { custom_id: 'same', params },
          { custom_id: 'same', params },
        ],
      }),
    ).rejects.toMatchObject({ status: 400 });
    const a = await anthropic.messages.batches.create({ requests: [{ custom_id: 'x', params }] });
    const b = await anthropic.messages.batches.create({ requests: [{ custom_id: 'y', params }] });
    expect(a.processing_status).toBe('in_progress');
    expect(a.request_counts.processing).toBe(1);
    await expect(anthropic.messages.batches.results(a.id)).rejects.toMatchObject({ status: 404 });
    await expect(anthropic.messages.batches.delete(a.id)).rejects.toMatchObject({ status: 400 });
    const page = await anthropic.messages.batches.list({ limit: 2 });
    expect(page.data.map((x) => x.id)).toEqual([b.id, a.id]);
    expect((await anthropic.messages.batches.retrieve(a.id)).processing_status).toBe('in_progress');
    const ended = await anthropic.messages.batches.retrieve(a.id);
    expect(ended.processing_status).toBe('ended');
    expect(ended.request_counts).toMatchObject({ processing: 0, succeeded: 1 });
    expect(ended.results_url).toBe(`${mock.url}/v1/messages/batches/${a.id}/results`);
    const results = [];
    for await (const r of await anthropic.messages.batches.results(a.id)) results.push(r);
    expect(results).toMatchObject([
      { custom_id: 'x', result: { type: 'succeeded', message: { content: [{ text: 'Echo: hi' }] } } },
    ]);
    expect(await anthropic.messages.batches.delete(a.id)).toEqual({
      id: a.id,
      type: 'message_batch_deleted',
    });
    await expect(anthropic.messages.batches.retrieve(a.id)).rejects.toMatchObject({ status: 404 });
  });
});

describe('bad options and state', () => {
  it('a state file of the other provider, and bad options, are refused with what to do', async () => {
    const state = stateFile();
    writeFileSync(state, JSON.stringify({ version: 1, provider: 'openai', batches: [] }));
    await expect(
      run(providerBatchExecutor({ provider: 'anthropic', client: anthropic, stateFile: state }), [
        message('a', 'x'),
      ]),
    ).rejects.toThrow(/records openai batches; run with --via openai-batch/);
    expect(() => providerBatchExecutor({ provider: 'openai', client: openai, stateFile: '' })).toThrow(
      /stateFile is required/,
    );
    expect(() =>
      providerBatchExecutor({ provider: 'openai', client: openai, stateFile: state, maxRequestsPerBatch: 0 }),
    ).toThrow(/maxRequestsPerBatch must be a positive integer/);
    await expect(
      run(providerBatchExecutor({ provider: 'openai', client: anthropic, stateFile: stateFile() }), [
        chat('a', 'x'),
      ]),
    ).rejects.toThrow(/needs an OpenAI client/);
  });
});

/**
 * A line with the fields that differ between two runs against the mock replaced: the line's `id`, the
 * `request_id`, and every `id` inside the body (`chatcmpl-…`, `msg_mock_<n>`, `call_mock_<n>`,
 * `toolu_mock_<n>`: numbered by the mock's request counter). Timestamps are fixed in the mock.
 */
function normalise(l: BatchOutputLine): unknown {
  const scrub = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(scrub);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [k, k === 'id' && typeof x === 'string' ? '<id>' : scrub(x)]),
      );
    }
    return v;
  };
  return {
    ...l,
    id: '<id>',
    response: l.response ? { ...l.response, request_id: '<id>', body: scrub(l.response.body) } : null,
  };
}

describe('runBatch: --via openai-batch / anthropic-batch give the lines --via local gives', () => {
  const tool = {
    type: 'function',
    function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } },
  };
  const inputs = {
    openai: [
      chat('plain', 'hello world'),
      item('tools', '/v1/chat/completions', {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'find cats' }],
        tools: [tool],
      }),
      item('cut', '/v1/chat/completions', {
        model: 'gpt-4o-mini',
        max_tokens: 2,
        messages: [{ role: 'user', content: 'one two three four' }],
      }),
      embed('emb', 'gamma delta'),
      chat('e400', 'x', 'mock-error-400'),
      chat('e429', 'x', 'mock-error-429'),
    ],
    anthropic: [
      message('plain', 'hello world'),
      message('tools', 'find cats', 'claude-sonnet-4-6', {
        tools: [{ name: 'lookup', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }],
      }),
      message('cut', 'one two three four', 'claude-sonnet-4-6', { max_tokens: 2 }),
      message('stop', 'alpha STOP beta', 'claude-sonnet-4-6', { stop_sequences: ['STOP'] }),
      message('e400', 'x', 'mock-error-400'),
      message('e529', 'x', 'mock-error-529'),
    ],
  };

  for (const provider of ['openai', 'anthropic'] as const) {
    it(`${provider}-batch`, async () => {
      const input = join(dir, `${provider}-input.jsonl`);
      writeFileSync(
        input,
        inputs[provider]
          .map(({ custom_id, method, url, body }) => JSON.stringify({ custom_id, method, url, body }))
          .join('\n'),
      );
      const out = async (via: string) => {
        const output = join(dir, `${provider}-${via}.jsonl`);
        const summary = await runBatch({
          input,
          output,
          via,
          clients: { openai, anthropic },
          executorOptions: { pollIntervalMs: 5 },
        });
        const lines = readFileSync(output, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as BatchOutputLine);
        return { summary, lines: new Map(lines.map((l) => [l.custom_id, normalise(l)])) };
      };
      const local = await out('local');
      const batch = await out(`${provider}-batch`);
      expect(batch.summary.via).toBe(`${provider}-batch`);
      expect(batch.lines.size).toBe(inputs[provider].length);
      expect([...batch.lines.keys()].sort()).toEqual([...local.lines.keys()].sort());
      for (const [id, l] of local.lines) expect(batch.lines.get(id), id).toEqual(l);
      expect([batch.summary.succeeded, batch.summary.failed]).toEqual([
        local.summary.succeeded,
        local.summary.failed,
      ]);
      expect(batch.summary.failed).toBe(2);
      // The state file sits next to the output by default, every batch collected.
      const state = readState(join(dir, `${provider}-${provider}-batch.jsonl.${provider}-batch-state.json`));
      expect(state.batches.length).toBeGreaterThan(0);
      expect(state.batches.every((b) => b.collected)).toBe(true);
    });
  }
});
