// openai-node and @anthropic-ai/sdk, unmodified, with aiwire's fetch plugged in (`new OpenAI({ fetch })`)
// against the bundled mock (src/testing/mock-server.ts): their README examples give the same results as
// the same SDK on its default fetch (Node's), request ids and timestamps aside.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch as aiwireFetch, FetchResponse } from '../src/fetch/index.js';
import { type MockServer, startMockServer } from '../src/testing/index.js';

let mock: MockServer;
beforeAll(async () => {
  mock = await startMockServer();
});
afterAll(async () => {
  await mock?.close();
});

/**
 * Plain data without what differs per request: the mock numbers its ids by its request counter
 * (`chatcmpl-mock-7`, `msg_mock_7`), request ids, clocks.
 */
function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (key, v) => {
      if (key === '_request_id' || key === 'created') return undefined;
      return typeof v === 'string' ? v.replace(/(mock[-_])\d+/g, '$1N') : v;
    }),
  );
}

/**
 * Run `scenario` with the SDK on aiwire's fetch and on its default fetch; both results. Checks that the
 * SDK did call aiwire's fetch, and got aiwire's responses, in the first run.
 */
async function onBoth<T>(
  scenario: (fetch: typeof globalThis.fetch | undefined) => Promise<T>,
): Promise<[T, T]> {
  let calls = 0;
  let foreign = 0;
  const counted = async (input: string | URL | Request, init?: RequestInit) => {
    calls++;
    const res = await aiwireFetch(input, init);
    if (!(res instanceof FetchResponse)) foreign++;
    return res;
  };
  const mine = await scenario(counted as typeof globalThis.fetch);
  expect(calls).toBeGreaterThan(0);
  expect(foreign).toBe(0);
  const theirs = await scenario(undefined);
  return [mine, theirs];
}

const openai = (fetch: typeof globalThis.fetch | undefined) =>
  new OpenAI({ apiKey: 'sk-test', baseURL: `${mock.url}/v1`, maxRetries: 0, ...(fetch ? { fetch } : {}) });
const anthropic = (fetch: typeof globalThis.fetch | undefined) =>
  new Anthropic({ apiKey: 'sk-ant-test', baseURL: mock.url, maxRetries: 0, ...(fetch ? { fetch } : {}) });

describe('openai-node 6 on aiwire fetch', () => {
  it('chat.completions.create', async () => {
    const [a, b] = await onBoth(async (fetch) =>
      plain(
        await openai(fetch).chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'Say this is a test' }],
        }),
      ),
    );
    expect(a).toEqual(b);
    expect((a as OpenAI.ChatCompletion).choices[0]?.message.content).toBe('Echo: Say this is a test');
  });

  it('chat.completions.create with stream: true (for await)', async () => {
    const [a, b] = await onBoth(async (fetch) => {
      const stream = await openai(fetch).chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'one two three four' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks: unknown[] = [];
      let text = '';
      for await (const chunk of stream) {
        chunks.push(plain(chunk));
        text += chunk.choices[0]?.delta?.content ?? '';
      }
      return { chunks, text };
    });
    expect(a).toEqual(b);
    expect(a.text).toBe('Echo: one two three four');
    expect(a.chunks.length).toBeGreaterThan(4);
  });

  it('models.list (for await) and fineTuning.jobs.list cursor pages', async () => {
    const [a, b] = await onBoth(async (fetch) => {
      const client = openai(fetch);
      const models: string[] = [];
      for await (const m of client.models.list()) models.push(m.id);
      const jobs: string[] = [];
      let pages = 0;
      for await (const page of (await client.fineTuning.jobs.list({ limit: 3 })).iterPages()) {
        pages++;
        for (const job of page.data) jobs.push(job.id);
      }
      return { models, jobs, pages };
    });
    expect(a).toEqual(b);
    expect(a.models).toEqual(['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small']);
    expect([a.jobs.length, a.pages]).toEqual([7, 3]);
  });

  it('embeddings.create (base64 on the wire, floats back)', async () => {
    const [a, b] = await onBoth(async (fetch) =>
      plain(
        await openai(fetch).embeddings.create({
          model: 'text-embedding-3-small',
          input: ['a', 'b'],
          dimensions: 16,
        }),
      ),
    );
    expect(a).toEqual(b);
    const data = (a as OpenAI.CreateEmbeddingResponse).data;
    expect([data.length, data[0]?.embedding.length]).toEqual([2, 16]);
  });

  it('an API error is the same typed error with the same status and body', async () => {
    const [a, b] = await onBoth(async (fetch) => {
      const err = (await openai(fetch)
        .chat.completions.create({ model: 'mock-error-429', messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      return { type: err.constructor.name, status: err.status, error: err.error };
    });
    expect(a).toEqual(b);
    expect(a).toMatchObject({ type: 'RateLimitError', status: 429 });
  });
});

describe('@anthropic-ai/sdk on aiwire fetch', () => {
  it('messages.create', async () => {
    const [a, b] = await onBoth(async (fetch) =>
      plain(
        await anthropic(fetch).messages.create({
          model: 'claude-sonnet-4-6',
          max_tokens: 1024,
          messages: [{ role: 'user', content: 'Hello, Claude' }],
        }),
      ),
    );
    expect(a).toEqual(b);
    expect((a as Anthropic.Message).role).toBe('assistant');
  });

  it('messages.stream with text events and finalMessage()', async () => {
    const [a, b] = await onBoth(async (fetch) => {
      const events: unknown[] = [];
      const texts: string[] = [];
      const stream = anthropic(fetch)
        .messages.stream({
          model: 'claude-sonnet-4-6',
          max_tokens: 1024,
          messages: [{ role: 'user', content: 'Say hello there friend' }],
        })
        .on('text', (text) => texts.push(text))
        .on('streamEvent', (event) => events.push(plain(event)));
      const final = plain(await stream.finalMessage());
      return { events, texts, final };
    });
    expect(a).toEqual(b);
    expect(a.texts.length).toBeGreaterThan(1);
    expect(a.events.length).toBeGreaterThan(a.texts.length);
  });
});
