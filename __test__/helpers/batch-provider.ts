// Shared pieces of the provider Batch API executor tests (batch-provider*.test.ts): the bundled mock and
// clients (live bindings, set by useBatchMock()'s hooks), item builders and a runner-like driver.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { Anthropic } from '../../src/anthropic.js';
import type { BatchItem, BatchOutputLine, providerBatchExecutor } from '../../src/batch/index.js';
import { OpenAI } from '../../src/openai.js';
import { type MockServer, startMockServer } from '../../src/testing/index.js';

export let mock: MockServer;
export let dir: string;
export let openai: OpenAI;
export let anthropic: Anthropic;
let files = 0;

/** Registers the file's hooks: the bundled mock, a temporary folder, an OpenAI and an Anthropic client. */
export function useBatchMock(): void {
  beforeAll(async () => {
    mock = await startMockServer();
    dir = mkdtempSync(join(tmpdir(), 'aiwire-batchp-'));
    openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${mock.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: mock.url, maxRetries: 0 });
  });
  afterAll(async () => {
    openai.close();
    anthropic.close();
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

export const stateFile = () => join(dir, `state-${++files}.json`);
let line = 0;
export const item = (
  custom_id: string,
  url: string,
  body: unknown,
  method: BatchItem['method'] = 'POST',
): BatchItem => ({
  custom_id,
  method,
  url,
  body,
  line: ++line,
});
export const chat = (id: string, text: string, model = 'gpt-4o-mini') =>
  item(id, '/v1/chat/completions', { model, messages: [{ role: 'user', content: text }] });
export const embed = (id: string, text: string) =>
  item(id, '/v1/embeddings', { model: 'text-embedding-3-small', input: text, dimensions: 4 });
export const message = (id: string, text: string, model = 'claude-sonnet-4-6', extra: object = {}) =>
  item(id, '/v1/messages', { model, max_tokens: 64, messages: [{ role: 'user', content: text }], ...extra });

/** Run `executor` over `items` as the runner would; returns the emitted lines by custom_id. */
export async function run(
  executor: ReturnType<typeof providerBatchExecutor>,
  items: BatchItem[],
  signal = new AbortController().signal,
): Promise<Map<string, BatchOutputLine>> {
  const lines = new Map<string, BatchOutputLine>();
  async function* source() {
    yield* items;
  }
  await executor.run(source(), {
    signal,
    concurrency: 4,
    abortInFlight: new AbortController().signal,
    emit: async (l) => {
      expect(lines.has(l.custom_id), `${l.custom_id} emitted twice`).toBe(false);
      lines.set(l.custom_id, l);
    },
  });
  return lines;
}

export const text = (l: BatchOutputLine | undefined) =>
  (l?.response?.body as { choices?: { message: { content: string } }[] } | undefined)?.choices?.[0]?.message
    .content;
export const claudeText = (l: BatchOutputLine | undefined) =>
  (l?.response?.body as { content?: { text: string }[] } | undefined)?.content?.[0]?.text;
export const readState = (path: string) =>
  JSON.parse(readFileSync(path, 'utf8')) as {
    provider: string;
    batches: {
      id: string;
      group: string;
      custom_ids: string[];
      renamed?: Record<string, string>;
      collected: boolean;
    }[];
  };
