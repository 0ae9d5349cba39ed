// The check as a user runs it: `aiwire batch IN -o OUT --via openai-batch | anthropic-batch`
// against `aiwire mock` (child processes of `node dist/cli.js`, built by `npm run build:ts`) writes the
// lines `--via local` writes, up to the fields that differ between any two runs (line ids, request ids,
// the `id`s the mock numbers by its request counter); the state file sits next to OUT.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aiwire, useCliMock } from './helpers/cli.js';

const mock = useCliMock();
const dir = mkdtempSync(join(tmpdir(), 'aiwire-cli-batchp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const line = (custom_id: string, url: string, body: object) =>
  JSON.stringify({ custom_id, method: 'POST', url, body });
const inputs = {
  openai: [
    line('chat', '/v1/chat/completions', {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hello cli' }],
    }),
    line('emb', '/v1/embeddings', { model: 'text-embedding-3-small', input: 'x y', dimensions: 3 }),
    line('bad', '/v1/chat/completions', {
      model: 'mock-error-400',
      messages: [{ role: 'user', content: 'x' }],
    }),
  ],
  anthropic: [
    line('msg', '/v1/messages', {
      model: 'claude-sonnet-4-6',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hello cli' }],
    }),
    line('cut', '/v1/messages', {
      model: 'claude-sonnet-4-6',
      max_tokens: 1,
      messages: [{ role: 'user', content: 'a b c' }],
    }),
    line('busy', '/v1/messages', {
      model: 'mock-error-529',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'x' }],
    }),
  ],
};

/** The output's lines by custom_id, with the per-run ids replaced. */
function read(path: string): Map<string, unknown> {
  const scrub = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(scrub)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v).map(([k, x]) => [k, k === 'id' && typeof x === 'string' ? '<id>' : scrub(x)]),
          )
        : v;
  return new Map(
    readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { custom_id: string; response: { body: unknown } | null })
      .map((l) => [
        l.custom_id,
        {
          ...l,
          id: '<id>',
          response: l.response && { ...l.response, request_id: '<id>', body: scrub(l.response.body) },
        },
      ]),
  );
}

describe('aiwire batch --via openai-batch / anthropic-batch against aiwire mock', () => {
  for (const provider of ['openai', 'anthropic'] as const) {
    it(`--via ${provider}-batch writes what --via local writes`, async () => {
      const input = join(dir, `${provider}.jsonl`);
      writeFileSync(input, `${inputs[provider].join('\n')}\n`);
      const out = async (via: string) => {
        const output = join(dir, `${provider}-${via}.jsonl`);
        const r = await aiwire([
          'batch',
          input,
          '-o',
          output,
          '--via',
          via,
          '--base-url',
          mock.url,
          '--json',
        ]);
        expect(r.code, r.stderr).toBe(1); // one item fails on purpose
        const summary = JSON.parse(r.stdout) as { via: string; succeeded: number; failed: number };
        return { summary, lines: read(output) };
      };
      const local = await out('local');
      const batch = await out(`${provider}-batch`);
      expect(batch.summary).toMatchObject({ via: `${provider}-batch`, succeeded: 2, failed: 1 });
      expect(local.summary).toMatchObject({ succeeded: 2, failed: 1 });
      expect(batch.lines.size).toBe(3);
      for (const [id, l] of local.lines) expect(batch.lines.get(id), id).toEqual(l);
      const state = JSON.parse(
        readFileSync(join(dir, `${provider}-${provider}-batch.jsonl.${provider}-batch-state.json`), 'utf8'),
      ) as { provider: string; batches: { collected: boolean }[] };
      expect(state.provider).toBe(provider);
      expect(state.batches.every((b) => b.collected)).toBe(true);
    });
  }
});

describe("aiwire batch: the provider executors' flags", () => {
  it('--state-file puts the batch ids where asked; --poll-interval is taken', async () => {
    const input = join(dir, 'flags.jsonl');
    writeFileSync(input, `${inputs.openai.slice(0, 1).join('\n')}\n`);
    const stateFile = join(dir, 'my-state.json');
    const r = await aiwire([
      'batch',
      input,
      '-o',
      join(dir, 'flags-out.jsonl'),
      '--via',
      'openai-batch',
      '--state-file',
      stateFile,
      '--poll-interval',
      '50',
      '--base-url',
      mock.url,
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { batches: { collected: boolean }[] };
    expect(state.batches).toHaveLength(1);
    expect(state.batches[0]?.collected).toBe(true);
  });

  it('--state-file without a provider executor is a usage error naming the flag', async () => {
    const input = join(dir, 'flags2.jsonl');
    writeFileSync(input, `${inputs.openai.slice(0, 1).join('\n')}\n`);
    const r = await aiwire(['batch', input, '-o', join(dir, 'x.jsonl'), '--state-file', 's.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--state-file goes with --via openai-batch or anthropic-batch/);
  });
});
