// Real input: the OpenAI OpenAPI spec (../shared/specs) served by Prism. Requests aiwire builds must be
// accepted by the spec's validator, and the spec's example responses must parse into our types.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OpenAI, RateLimitError, UnprocessableEntityError } from '../src/index.js';
import { client, messages } from './helpers/client.js';
import { type PrismServer, startPrism } from './helpers/prism.js';

let prism: PrismServer;
let openai: OpenAI;

beforeAll(async () => {
  prism = await startPrism('openai');
  openai = client(prism.url, { maxRetries: 0 });
}, 120_000);
afterAll(async () => {
  await prism?.close();
});

describe('OpenAI spec via Prism', () => {
  it('chat.completions.create is accepted and its response parses', async () => {
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'system', content: 'be brief' }, ...messages],
      temperature: 0.2,
      max_completion_tokens: 16,
    });
    expect(completion.object).toBe('chat.completion');
    expect(typeof completion.id).toBe('string');
    expect(completion.choices[0]?.message.role).toBe('assistant');
    expect(typeof completion.usage?.total_tokens).toBe('number');
  });

  it('models.list and models.retrieve parse', async () => {
    const page = await openai.models.list();
    expect(page.data.length).toBeGreaterThan(0);
    expect(page.data[0]?.object).toBe('model');
    const model = await openai.models.retrieve('gpt-4o-mini');
    expect(model.object).toBe('model');
    expect(typeof model.owned_by).toBe('string');
  });

  it('embeddings.create is accepted by the validator and parses', async () => {
    const res = await openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'hello',
      dimensions: 8,
    });
    expect(res.object).toBe('list');
    expect(Array.isArray(res.data[0]?.embedding)).toBe(true);
  });

  it('a request the spec rejects (embeddings without input) is UnprocessableEntityError with status and body', async () => {
    const bad = { model: 'text-embedding-3-small' } as unknown as Parameters<
      OpenAI['embeddings']['create']
    >[0];
    const res = await openai.embeddings
      .create(bad)
      .withResponse()
      .catch((e: unknown) => e);
    expect(res).toBeInstanceOf(UnprocessableEntityError);
    const err = res as UnprocessableEntityError;
    expect(err.status).toBe(422);
    expect(err.headers.get('content-type')).toContain('application/problem+json');
    expect(JSON.stringify(err.error)).toContain("must have required property 'input'");
    // Prism sends no x-request-id; requestID mirrors the header, so it is absent here.
    expect(err.requestID).toBe(err.headers.get('x-request-id'));
  });

  it('429 from the spec is RateLimitError, and Retry-After (seconds) is honoured before retrying', async () => {
    const headers = { prefer: 'code=429' };
    const err = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages }, { headers })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    const started = performance.now();
    const retried = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages }, { headers, maxRetries: 1 })
      .catch((e: unknown) => e);
    expect(retried).toBeInstanceOf(RateLimitError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });
});
