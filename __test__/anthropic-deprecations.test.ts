// Model deprecation warnings of the Anthropic client (src/providers/anthropic/lib/model-warnings.ts),
// as @anthropic-ai/sdk 1.13 prints them from messages.create(): a console.warn for a deprecated model
// (lib/deprecated-models.ts) and for thinking.type 'enabled' on the models where it is deprecated.
// aiwire prints each once per model per process by default ('always': every call, as the SDK; 'off':
// never), chosen by the option modelDeprecationWarnings or AIWIRE_MODEL_DEPRECATION_WARNINGS.
// Requests go through the real addon to the bundled mock on loopback. Each test imports the client
// afresh (vi.resetModules) so the once-per-process memory starts empty.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DEPRECATED_MODELS,
  THINKING_ENABLED_DEPRECATED_MODELS,
} from '../src/providers/anthropic/lib/deprecated-models.js';
import { type MockServer, startMockServer } from '../src/testing/index.js';

const ENV = 'AIWIRE_MODEL_DEPRECATION_WARNINGS';
let mock: MockServer;
let warn: ReturnType<typeof vi.spyOn>;

beforeAll(async () => {
  mock = await startMockServer();
});
afterAll(async () => {
  await mock.close();
});
afterEach(() => {
  warn?.mockRestore();
  vi.unstubAllEnvs();
});

/** A fresh copy of the client module (empty once-per-process memory) and console.warn spied on. */
async function freshClient(options: Record<string, unknown> = {}) {
  warn?.mockRestore();
  vi.resetModules();
  const { Anthropic } = await import('../src/anthropic.js');
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  return new Anthropic({ apiKey: 'sk-ant-test', baseURL: mock.url, maxRetries: 0, ...options });
}

const ask = (model: string, extra: object = {}) => ({
  model,
  max_tokens: 16,
  messages: [{ role: 'user' as const, content: 'hi' }],
  ...extra,
});

const warnings = () => warn.mock.calls.map((args: unknown[]) => String(args[0]));

describe('model deprecation warnings', () => {
  it("by default warns once per deprecated model per process, on create, stream and beta's create", async () => {
    vi.stubEnv(ENV, '');
    const client = await freshClient();
    expect(client.modelDeprecationWarnings).toBe('once');
    const first = await client.messages.create(ask('claude-sonnet-4-5'));
    expect(first.type).toBe('message');
    await client.messages.create(ask('claude-sonnet-4-5'));
    await client.messages.stream(ask('claude-sonnet-4-5')).finalMessage();
    await client.messages.create(ask('claude-sonnet-4-6'));
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toContain("the model 'claude-sonnet-4-5' is deprecated");
    expect(warnings()[0]).toContain('end-of-life on 2026-11-30');
    expect(warnings()[0]).toContain(`${ENV}=off`);

    await client.beta.messages.create(ask('claude-opus-4-5-20251101'));
    await client.beta.messages.create(ask('claude-opus-4-5-20251101'));
    // another client in the same process: still printed once
    await client.withOptions({}).messages.create(ask('claude-opus-4-5-20251101'));
    expect(warnings()).toHaveLength(2);
    expect(warnings()[1]).toContain(
      "'claude-opus-4-5-20251101' is deprecated and reaches end-of-life on 2027-01-22",
    );
  });

  it("warns about thinking.type 'enabled' only on the models where it is deprecated", async () => {
    const client = await freshClient();
    const enabled = { thinking: { type: 'enabled', budget_tokens: 1024 } };
    await client.messages.create(ask('claude-opus-4-6', enabled) as never);
    await client.messages.create(ask('claude-opus-4-6', enabled) as never);
    await client.messages.create(ask('claude-opus-4-6', { thinking: { type: 'adaptive' } }) as never);
    await client.messages.create(ask('claude-sonnet-4-6', enabled) as never);
    expect(warnings()).toEqual([
      expect.stringContaining("thinking.type 'enabled' is deprecated on claude-opus-4-6"),
    ]);
    expect(warnings()[0]).toContain("thinking: { type: 'adaptive' }");
  });

  it("'always' warns on every call, as @anthropic-ai/sdk does", async () => {
    const client = await freshClient({ modelDeprecationWarnings: 'always' });
    await client.messages.create(ask('claude-sonnet-4-5'));
    await client.messages.create(ask('claude-sonnet-4-5'));
    await client.messages.stream(ask('claude-sonnet-4-5')).finalMessage();
    expect(warnings()).toHaveLength(3);
    expect(warnings()[2]).not.toContain('once per model');
  });

  it("'off' (option or environment) prints nothing; the option wins over the environment", async () => {
    let client = await freshClient({ modelDeprecationWarnings: 'off' });
    await client.messages.create(ask('claude-sonnet-4-5'));
    await client.beta.messages.create(
      ask('claude-mythos-preview', { thinking: { type: 'enabled', budget_tokens: 1024 } }) as never,
    );
    expect(warnings()).toEqual([]);

    vi.stubEnv(ENV, 'OFF');
    client = await freshClient();
    expect(client.modelDeprecationWarnings).toBe('off');
    await client.messages.create(ask('claude-sonnet-4-5'));
    expect(warnings()).toEqual([]);

    vi.stubEnv(ENV, 'off');
    client = await freshClient({ modelDeprecationWarnings: 'always' });
    await client.messages.create(ask('claude-sonnet-4-5'));
    expect(warnings()).toHaveLength(1);

    vi.stubEnv(ENV, 'always');
    client = await freshClient();
    await client.messages.create(ask('claude-sonnet-4-5'));
    await client.messages.create(ask('claude-sonnet-4-5'));
    expect(warnings()).toHaveLength(2);
  });

  it('rejects an unknown mode with a typed error naming the values', async () => {
    const bad = await freshClient({ modelDeprecationWarnings: 'never' }).catch((e: unknown) => e);
    // the errors module of the same (fresh) module graph as the client that threw
    const { AiwireError } = await import('../src/core/errors.js');
    expect(bad).toBeInstanceOf(AiwireError);
    expect((bad as Error).message).toContain(
      `modelDeprecationWarnings must be 'once', 'always' or 'off', got "never"`,
    );
    vi.stubEnv(ENV, 'quiet');
    const error = await freshClient().catch((e: unknown) => e);
    const fresh = await import('../src/core/errors.js');
    expect(error).toBeInstanceOf(fresh.AiwireError);
    expect((error as Error).message).toContain(`${ENV} must be once, always or off, got "quiet"`);
  });

  it('keeps the deprecation data well-formed: ISO end-of-life dates, ids of models the spec knows', async () => {
    const { readFileSync } = await import('node:fs');
    const spec = readFileSync(new URL('../specs/anthropic.openapi.json', import.meta.url), 'utf8');
    for (const [model, date] of Object.entries(DEPRECATED_MODELS)) {
      expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10)).toBe(date);
      expect(spec).toContain(`"const": "${model}"`);
    }
    for (const model of THINKING_ENABLED_DEPRECATED_MODELS) expect(spec).toContain(`"const": "${model}"`);
  });
});
