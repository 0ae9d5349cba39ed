// OpenAI surface end to end: TypeScript -> Node-API -> Rust engine -> loopback HTTP -> bundled mock.
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAIDefault, {
  AiwireError,
  APIError,
  BadRequestError,
  type ChatCompletionChunk,
  NotFoundError,
  OpenAI,
  Stream,
} from '../src/index.js';
import { type MockServer, startMockServer } from '../src/testing/index.js';
import { client, messages } from './helpers/client.js';

let mock: MockServer;
let openai: OpenAI;

beforeAll(async () => {
  mock = await startMockServer();
  openai = client(`${mock.url}/v1`);
});
afterAll(async () => {
  await mock?.close();
});

describe('chat.completions.create', () => {
  it('returns a typed chat.completion', async () => {
    const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-4o-mini');
    expect(completion.choices[0]?.message.content).toBe('Echo: hello there');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('streams chunks whose deltas concatenate to the full answer', async () => {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    expect(stream).toBeInstanceOf(Stream);
    let text = '';
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    expect(text).toBe('Echo: hello there');
    expect(chunks[0]?.object).toBe('chat.completion.chunk');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('withResponse() gives data, the Response and the request id', async () => {
    const { data, response, request_id } = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Echo: hello there');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(request_id).toMatch(/^req_mock_/);
  });

  it('asResponse() gives the unread Response', async () => {
    const response = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages }).asResponse();
    const body = (await response.json()) as { object: string };
    expect(body.object).toBe('chat.completion');
  });

  it('tee() gives two streams with the same chunks', async () => {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    const [a, b] = stream.tee();
    const collect = async (s: Stream<ChatCompletionChunk>) => {
      let t = '';
      for await (const c of s) t += c.choices[0]?.delta?.content ?? '';
      return t;
    };
    expect(await collect(a)).toBe('Echo: hello there');
    expect(await collect(b)).toBe('Echo: hello there');
  });

  it('toReadableStream() yields one JSON line per chunk', async () => {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    const text = await new Response(stream.toReadableStream()).text();
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ChatCompletionChunk);
    expect(lines.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Echo: hello there');
  });

  it('a consumed stream cannot be iterated again', async () => {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    for await (const _ of stream) {
      // drain
    }
    expect(() => stream[Symbol.asyncIterator]()).toThrow(/consumed/);
  });

  it('an invalid request is a BadRequestError with status, body and request id', async () => {
    const err = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    const e = err as BadRequestError;
    expect(e.status).toBe(400);
    expect(e.requestID).toMatch(/^req_mock_/);
    expect(e.type).toBe('invalid_request_error');
    expect(e.message).toMatch(/^400 /);
  });
});

describe('models and embeddings', () => {
  it('models.list() is a page and iterates with for await', async () => {
    const page = await openai.models.list();
    expect(page.data.map((m) => m.id)).toContain('gpt-4o-mini');
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toEqual(page.data.map((m) => m.id));
  });

  it('models.retrieve() gets one model, and a missing one is NotFoundError', async () => {
    const model = await openai.models.retrieve('gpt-4o');
    expect(model).toMatchObject({ id: 'gpt-4o', object: 'model' });
    const err = await openai.models.retrieve('no-such-model').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toBeInstanceOf(APIError);
    expect((err as NotFoundError).status).toBe(404);
  });

  it('embeddings.create() returns one vector per input', async () => {
    const res = await openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
      dimensions: 4,
    });
    expect(res.data).toHaveLength(2);
    expect(res.data[0]?.embedding).toHaveLength(4);
    expect(res.data[0]?.embedding).not.toEqual(res.data[1]?.embedding);
  });
});

describe('client options', () => {
  it('without an API key it throws a clear error naming OPENAI_API_KEY', () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      expect(() => new OpenAI({ baseURL: mock.url })).toThrow(/OPENAI_API_KEY/);
      expect(() => new OpenAI({ baseURL: mock.url })).toThrow(AiwireError);
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });

  it('reads OPENAI_API_KEY and OPENAI_BASE_URL from the environment', async () => {
    const saved = { key: process.env.OPENAI_API_KEY, url: process.env.OPENAI_BASE_URL };
    process.env.OPENAI_API_KEY = 'sk-from-env';
    process.env.OPENAI_BASE_URL = `${mock.url}/v1`;
    try {
      const c = new OpenAIDefault();
      expect(c.apiKey).toBe('sk-from-env');
      expect(c.baseURL).toBe(`${mock.url}/v1`);
      const model = await c.models.retrieve('gpt-4o-mini');
      expect(model.id).toBe('gpt-4o-mini');
    } finally {
      for (const [k, v] of [
        ['OPENAI_API_KEY', saved.key],
        ['OPENAI_BASE_URL', saved.url],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('rejects invalid options with a typed error', () => {
    expect(() => client(mock.url, { timeout: -1 })).toThrow(/timeout must be a finite number/);
    expect(() => client(mock.url, { maxRetries: 1.5 })).toThrow(/maxRetries/);
    expect(() => client('not a url')).toThrow(/baseURL/);
  });

  it('the API key is not enumerable on the client', () => {
    const c = client(mock.url);
    expect(inspect(c, { depth: 6 })).not.toContain('sk-test-secret');
    expect(Object.keys(c)).not.toContain('apiKey');
  });
});
