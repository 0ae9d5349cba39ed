// The `openai-batch` / `anthropic-batch` executors after a crash between a batch's create and the
// state-file write that records it: the rerun finds the batch on the (mock) server and adopts it, so
// each chunk is created exactly once. The crash is injected by failing that write once
// (BatchStateFile.add), which leaves on disk what a SIGKILL at that point leaves: the intent only.
// Also: anthropic-batch sends a spooled batch's create body from a file on disk.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchStateFile } from '../src/batch/executors/batch-state.js';
import { type BatchOutputLine, type ProviderBatchEvent, providerBatchExecutor } from '../src/batch/index.js';
import { APIConnectionError } from '../src/core/errors.js';
import {
  anthropic,
  chat,
  claudeText,
  message,
  openai,
  readState,
  run,
  stateFile,
  text,
  useBatchMock,
} from './helpers/batch-provider.js';

useBatchMock();
afterEach(() => {
  vi.restoreAllMocks();
});

/** Every batch the mock holds, newest first. */
async function batchIds(provider: 'openai' | 'anthropic'): Promise<string[]> {
  const ids: string[] = [];
  if (provider === 'openai') for await (const b of openai.batches.list({ limit: 100 })) ids.push(b.id);
  else for await (const b of anthropic.messages.batches.list({ limit: 100 })) ids.push(b.id);
  return ids;
}

describe.each(['openai', 'anthropic'] as const)('%s-batch: crash between create and record', (provider) => {
  const client = () => (provider === 'openai' ? openai : anthropic);
  const mk = (i: number) =>
    provider === 'openai' ? chat(`c${i}`, `adopt ${i}`) : message(`c${i}`, `adopt ${i}`);
  const read = (l: BatchOutputLine | undefined) => (provider === 'openai' ? text(l) : claudeText(l));

  it('the rerun adopts the unrecorded batch: one create per chunk, every result emitted once', async () => {
    const state = stateFile();
    const items = Array.from({ length: 5 }, (_, i) => mk(i));
    const base = { provider, client: client(), stateFile: state, maxRequestsPerBatch: 3, pollIntervalMs: 5 };
    const before = await batchIds(provider);

    // First run: the first chunk's record is written, the second chunk's create succeeds on the
    // server but its record is never written ("killed" right after the create).
    const add = BatchStateFile.prototype.add;
    let adds = 0;
    vi.spyOn(BatchStateFile.prototype, 'add').mockImplementation(function (this: BatchStateFile, batch) {
      adds += 1;
      if (adds === 2) return Promise.reject(new Error('simulated crash after create'));
      return add.call(this, batch);
    });
    await expect(
      run(providerBatchExecutor({ ...base, pollIntervalMs: 60_000, onStatus: () => {} }), items),
    ).rejects.toThrow(/simulated crash/);
    vi.restoreAllMocks();
    const created = (await batchIds(provider)).filter((id) => !before.includes(id));
    expect(created).toHaveLength(2);
    const left = readState(state) as ReturnType<typeof readState> & {
      intents?: { chunk: number; custom_ids: string[] }[];
      run_id?: string;
    };
    expect(left.batches.map((b) => b.custom_ids)).toEqual([['c0', 'c1', 'c2']]);
    expect(left.intents?.map((i) => i.custom_ids)).toEqual([['c3', 'c4']]);
    expect(left.run_id).toMatch(/^[0-9a-f-]{36}$/);

    // Rerun: nothing is created, the unrecorded batch is adopted, every item gets its answer.
    const events: ProviderBatchEvent[] = [];
    const lines = await run(providerBatchExecutor({ ...base, onStatus: (e) => events.push(e) }), items);
    expect((await batchIds(provider)).filter((id) => !before.includes(id))).toEqual(created);
    expect(events.filter((e) => e.type === 'created')).toEqual([]);
    const adopted = events.filter((e) => e.type === 'adopted');
    expect(adopted.map((e) => e.batchId)).toEqual([created[0]]); // newest first: the second create
    expect([...lines.keys()].sort()).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    for (let i = 0; i < 5; i++) expect(read(lines.get(`c${i}`))).toBe(`Echo: adopt ${i}`);
    const after = readState(state) as ReturnType<typeof readState> & { intents?: unknown[] };
    expect(after.intents).toEqual([]);
    expect(after.batches.map((b) => [b.id, b.collected])).toEqual([
      [created[1], true],
      [created[0], true],
    ]);
  });

  it('an intent whose batch was never created is dropped and its items go into a new batch', async () => {
    const state = stateFile();
    // A state file as a run killed just before its create leaves it: the intent, no batch behind it.
    const newest = (await batchIds(provider))[0] ?? null;
    writeFileSync(
      state,
      JSON.stringify({
        version: 1,
        provider,
        run_id: '00000000-0000-4000-8000-000000000000',
        next_chunk: 2,
        batches: [],
        intents: [
          {
            chunk: 1,
            group: provider === 'openai' ? '/v1/chat/completions' : '/v1/messages',
            at: new Date().toISOString(),
            custom_ids: ['n0', 'n1'],
            newest_before: newest,
          },
        ],
      }),
    );
    const items = [0, 1].map((i) =>
      provider === 'openai' ? chat(`n${i}`, `never ${i}`) : message(`n${i}`, `never ${i}`),
    );
    const events: ProviderBatchEvent[] = [];
    const lines = await run(
      providerBatchExecutor({
        provider,
        client: client(),
        stateFile: state,
        pollIntervalMs: 5,
        onStatus: (e) => events.push(e),
      }),
      items,
    );
    expect(events.filter((e) => e.type === 'adopted')).toEqual([]);
    expect(events.filter((e) => e.type === 'created')).toHaveLength(1);
    expect(read(lines.get('n1'))).toBe('Echo: never 1');
    const after = readState(state) as ReturnType<typeof readState> & { intents?: unknown[] };
    expect(after.intents).toEqual([]);
    expect(after.batches).toHaveLength(1);
  });
});

describe.each(['openai', 'anthropic'] as const)('%s-batch: a create whose answer was lost', (provider) => {
  it('the items get a retryable connection_error, the intent stays, and the rerun adopts the batch', async () => {
    const state = stateFile();
    const items = [0, 1].map((i) =>
      provider === 'openai' ? chat(`l${i}`, `lost ${i}`) : message(`l${i}`, `lost ${i}`),
    );
    const before = await batchIds(provider);
    // The server creates the batch, but the answer never arrives.
    const lose = async <T>(p: Promise<T>): Promise<T> => {
      await p;
      throw new APIConnectionError({ message: 'socket hang up (simulated)' });
    };
    if (provider === 'openai') {
      const create = openai.batches.create.bind(openai.batches);
      vi.spyOn(openai.batches, 'create').mockImplementationOnce((...a) => lose(create(...a)) as never);
    } else {
      const post = anthropic.post.bind(anthropic);
      vi.spyOn(anthropic, 'post').mockImplementationOnce((...a) => lose(post(...a)) as never);
    }
    const base = {
      provider,
      client: provider === 'openai' ? openai : anthropic,
      stateFile: state,
      pollIntervalMs: 5,
    };
    const first = await run(providerBatchExecutor({ ...base, onStatus: () => {} }), items);
    expect(first.get('l0')?.error).toMatchObject({ code: 'connection_error', retryable: true });
    vi.restoreAllMocks();
    const created = (await batchIds(provider)).filter((id) => !before.includes(id));
    expect(created).toHaveLength(1);
    expect((readState(state) as { intents?: unknown[] }).intents).toHaveLength(1);

    // What `--retry-failed` hands the executor: the same items again.
    const events: ProviderBatchEvent[] = [];
    const lines = await run(providerBatchExecutor({ ...base, onStatus: (e) => events.push(e) }), items);
    expect(events.filter((e) => e.type === 'adopted').map((e) => e.batchId)).toEqual(created);
    expect(events.filter((e) => e.type === 'created')).toEqual([]);
    expect((await batchIds(provider)).filter((id) => !before.includes(id))).toEqual(created);
    const read = provider === 'openai' ? text : claudeText;
    expect(read(lines.get('l1'))).toBe('Echo: lost 1');
  });
});

describe('anthropic-batch: telling the unrecorded batch from others (no metadata)', () => {
  const params = (t: string) => ({
    model: 'claude-sonnet-4-5',
    max_tokens: 8,
    messages: [{ role: 'user' as const, content: t }],
  });
  const intentState = (path: string, newest: string | null, ids: string[]) =>
    writeFileSync(
      path,
      JSON.stringify({
        version: 1,
        provider: 'anthropic',
        run_id: '00000000-0000-4000-8000-000000000001',
        next_chunk: 2,
        batches: [],
        intents: [
          {
            chunk: 1,
            group: '/v1/messages',
            at: new Date().toISOString(),
            custom_ids: ids,
            newest_before: newest,
          },
        ],
      }),
    );

  it('an ended candidate is confirmed by its result ids: a same-size foreign batch is passed over', async () => {
    const state = stateFile();
    intentState(state, (await batchIds('anthropic'))[0] ?? null, ['q0', 'q1']);
    const ours = await anthropic.messages.batches.create({
      requests: [
        { custom_id: 'q0', params: params('mine 0') },
        { custom_id: 'q1', params: params('mine 1') },
      ],
    });
    const foreign = await anthropic.messages.batches.create({
      requests: [
        { custom_id: 'z0', params: params('other 0') },
        { custom_id: 'z1', params: params('other 1') },
      ],
    });
    for (const id of [ours.id, ours.id, foreign.id, foreign.id])
      await anthropic.messages.batches.retrieve(id);
    const events: ProviderBatchEvent[] = [];
    const lines = await run(
      providerBatchExecutor({
        provider: 'anthropic',
        client: anthropic,
        stateFile: state,
        pollIntervalMs: 5,
        onStatus: (e) => events.push(e),
      }),
      [message('q0', 'mine 0'), message('q1', 'mine 1')],
    );
    expect(events.filter((e) => e.type === 'adopted').map((e) => e.batchId)).toEqual([ours.id]);
    expect(events.filter((e) => e.type === 'created')).toEqual([]);
    expect(claudeText(lines.get('q1'))).toBe('Echo: mine 1');
  });

  it('when the newest batch before the create is unknown, only batches from 10 minutes before the intent on count', async () => {
    const state = stateFile();
    intentState(state, null, ['s0']);
    // Drop newest_before: as written when listing the batches failed before the create.
    const written = JSON.parse(readFileSync(state, 'utf8'));
    delete written.intents[0].newest_before;
    writeFileSync(state, JSON.stringify(written));
    // The mock dates every batch 2023-11-14: far older than the intent, so not its batch.
    await anthropic.messages.batches.create({ requests: [{ custom_id: 's0', params: params('old') }] });
    const events: ProviderBatchEvent[] = [];
    const lines = await run(
      providerBatchExecutor({
        provider: 'anthropic',
        client: anthropic,
        stateFile: state,
        pollIntervalMs: 5,
        onStatus: (e) => events.push(e),
      }),
      [message('s0', 'new')],
    );
    expect(events.filter((e) => e.type === 'adopted' || e.type === 'ambiguous')).toEqual([]);
    expect(events.filter((e) => e.type === 'created')).toHaveLength(1);
    expect(claudeText(lines.get('s0'))).toBe('Echo: new');
  });

  it('two same-size batches still processing: none adopted, the candidates named, the items sent anew', async () => {
    const state = stateFile();
    intentState(state, (await batchIds('anthropic'))[0] ?? null, ['r0']);
    const a = await anthropic.messages.batches.create({
      requests: [{ custom_id: 'r0', params: params('x') }],
    });
    const b = await anthropic.messages.batches.create({
      requests: [{ custom_id: 'y0', params: params('y') }],
    });
    const events: ProviderBatchEvent[] = [];
    const lines = await run(
      providerBatchExecutor({
        provider: 'anthropic',
        client: anthropic,
        stateFile: state,
        pollIntervalMs: 5,
        onStatus: (e) => events.push(e),
      }),
      [message('r0', 'anew')],
    );
    const ambiguous = events.filter((e) => e.type === 'ambiguous');
    expect(ambiguous.map((e) => e.batchIds)).toEqual([[b.id, a.id]]);
    expect(ambiguous[0]?.message).toMatch(/cancel the extra batch/);
    expect(events.filter((e) => e.type === 'created')).toHaveLength(1);
    expect(claudeText(lines.get('r0'))).toBe('Echo: anew');
  });
});

describe('anthropic-batch: a large batch is sent from disk', () => {
  it('past spoolAfterBytes the create body is written to a temporary file the engine streams; results map back', async () => {
    const post = vi.spyOn(anthropic, 'post');
    const items = [
      message('d0', 'from disk 0'),
      message('odd:id', 'from disk 1'),
      message('d2', 'from disk 2'),
    ];
    const lines = await run(
      providerBatchExecutor({
        provider: 'anthropic',
        client: anthropic,
        stateFile: stateFile(),
        pollIntervalMs: 5,
        spoolAfterBytes: 1, // every request goes to the temporary file as soon as it is added
        onStatus: () => {},
      }),
      items,
    );
    const creates = post.mock.calls.filter(([path]) => path === '/v1/messages/batches');
    expect(creates).toHaveLength(1);
    const options = creates[0]?.[1] as { body?: unknown; bodyFile?: string };
    expect(options.body).toBeUndefined();
    expect(options.bodyFile).toMatch(/\.body\.json$/);
    expect(existsSync(options.bodyFile as string)).toBe(false); // removed after the create
    expect(claudeText(lines.get('d0'))).toBe('Echo: from disk 0');
    expect(claudeText(lines.get('odd:id'))).toBe('Echo: from disk 1');
    expect(claudeText(lines.get('d2'))).toBe('Echo: from disk 2');
  });
});
