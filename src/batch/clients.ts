/**
 * Which client sends a batch item: {@link BatchClients} builds one client per provider on first use
 * (from the provider's environment variables, or the options given) and routes each item by its `url`
 * ({@link providerOf}). Shared by the `local` executor and the `queue` worker.
 */
import type { BaseClient } from '../core/client.js';
import type { BaseClientOptions } from '../core/options.js';
import { AIVillage } from '../providers/aivillage/index.js';
import { Anthropic } from '../providers/anthropic/index.js';
import { Codegen } from '../providers/codegen/index.js';
import { OpenAI } from '../providers/openai/index.js';
import { Replicate } from '../providers/replicate/index.js';
import type { BatchItem, BatchProvider } from './types.js';

/** How the batch builds its clients. */
export interface BatchClientOptions {
  /**
   * The provider of items whose `url` does not name one. Default `'openai'`; items whose `url` starts
   * with `/v1/messages` go to Anthropic whatever this says.
   */
  provider?: BatchProvider | undefined;
  /** Ready clients by provider (used as given, never closed by the batch). */
  clients?: Partial<Record<BatchProvider, BaseClient>> | undefined;
  /**
   * Options for the clients the batch builds, by provider (`apiKey`, `baseURL`, `maxRetries`,
   * `rateLimit`, …). Missing fields come from the provider's environment variables
   * (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, …).
   */
  clientOptions?: Partial<Record<BatchProvider, BaseClientOptions & Record<string, unknown>>> | undefined;
}

/** The provider an item goes to: `/v1/messages…` → Anthropic, else `fallback` (default `openai`). */
export function providerOf(item: Pick<BatchItem, 'url'>, fallback: BatchProvider = 'openai'): BatchProvider {
  if (item.url === '/v1/messages' || item.url.startsWith('/v1/messages/')) return 'anthropic';
  return fallback;
}

type Factory = (options: BaseClientOptions & Record<string, unknown>) => BaseClient;

/** Client constructors by provider. */
const FACTORIES: Partial<Record<BatchProvider, Factory>> = {
  openai: (o) => new OpenAI(o),
  anthropic: (o) => new Anthropic(o),
  replicate: (o) => new Replicate(o),
  codegen: (o) => new Codegen(o as ConstructorParameters<typeof Codegen>[0]),
  aivillage: (o) => new AIVillage(o as ConstructorParameters<typeof AIVillage>[0]),
};

/** The clients of one batch run: one per provider, built on first use. */
export class BatchClients {
  readonly #options: BatchClientOptions;
  readonly #built = new Map<BatchProvider, BaseClient>();

  constructor(options: BatchClientOptions = {}) {
    this.#options = options;
  }

  /**
   * The client for `item`.
   *
   * @throws AiwireError (from the client's constructor) when the provider's API key is missing, with
   *   the environment variable to set; Error when the provider has no client in this build.
   */
  for(item: Pick<BatchItem, 'url'>): BaseClient {
    const provider = providerOf(item, this.#options.provider);
    const given = this.#options.clients?.[provider];
    if (given) return given;
    let client = this.#built.get(provider);
    if (!client) {
      const factory = FACTORIES[provider];
      if (!factory) throw new Error(`aiwire/batch cannot send to provider '${provider}' yet`);
      client = factory(this.#options.clientOptions?.[provider] ?? {});
      this.#built.set(provider, client);
    }
    return client;
  }

  /** Close the clients this object built (not the ones passed in `clients`). */
  close(): void {
    for (const client of this.#built.values()) client.close();
    this.#built.clear();
  }
}
