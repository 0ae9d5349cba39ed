/**
 * The cost of a batch run from prices the caller gives (`runBatch({ prices })`, `aiwire batch
 * --prices FILE`): {@link BatchPrices} maps a model to its price in USD per 1M tokens, and
 * {@link CostTally} adds up each answered request's `usage` at its model's price.
 *
 * aiwire ships no price table: prices change without notice and differ by account, region and tier,
 * so a built-in table would be silently wrong; give the prices from the provider's pricing page.
 *
 * Tokens by provider (each response body's `usage`):
 * - OpenAI chat / embeddings: `prompt_tokens` (of which `prompt_tokens_details.cached_tokens` were
 *   cached), `completion_tokens`; Responses: `input_tokens` (of which `input_tokens_details.cached_tokens`),
 *   `output_tokens`.
 * - Anthropic messages: `input_tokens` (not cached), `cache_read_input_tokens`,
 *   `cache_creation_input_tokens`, `output_tokens`.
 */
import { readFile } from 'node:fs/promises';
import { BatchUsageError } from './executors/index.js';

/**
 * One model's price, USD per 1M tokens (the unit of OpenAI's and Anthropic's pricing pages:
 * https://openai.com/api/pricing, https://docs.anthropic.com/en/docs/about-claude/pricing). Give the
 * standard (not Batch API) prices: the batch executors apply their discount (`priceMultiplier`).
 */
export interface ModelPrice {
  /** Input (prompt) tokens not read from a cache. */
  input: number;
  /** Output (completion) tokens. */
  output: number;
  /** Input tokens read from the prompt cache. Default: `input`. */
  cached_input?: number | undefined;
  /** Input tokens written to the prompt cache (Anthropic `cache_creation_input_tokens`). Default: `input`. */
  cache_write?: number | undefined;
}

/**
 * Model → price. A request's model (else the response's) is looked up by exact name, else as a key
 * plus a snapshot suffix: `-YYYY-MM-DD`, `-YYYYMMDD` or `-latest` (`gpt-4o-mini` prices
 * `gpt-4o-mini-2024-07-18`, `claude-sonnet-4-5` prices `claude-sonnet-4-5-20250929`; `gpt-4o` does
 * not price `gpt-4o-mini`).
 */
export type BatchPrices = Record<string, ModelPrice>;

/** The run's cost in the summary (`BatchSummary.cost`). */
export interface BatchCost {
  /** Total, USD, over the requests whose model has a price. */
  usd: number;
  /** Per model (the name the price was found under): USD and answered requests. */
  byModel: Record<string, { usd: number; requests: number }>;
  /** Answered requests with `usage` whose model has no price (not in `usd`), and those models. */
  unpriced: { requests: number; models: string[] };
  /**
   * The factor applied to the given prices for this run's executor: 1 for `local` / `queue`; 0.5 for
   * `openai-batch` / `anthropic-batch` (both providers bill Batch API requests at 50% of the
   * standard price).
   */
  priceMultiplier: number;
}

const FIELDS = ['input', 'output', 'cached_input', 'cache_write'] as const;

/**
 * Validate a prices value (`where` names it in errors: a file path, `prices`).
 * @throws BatchUsageError naming the model and field when a price is missing, negative or not a number.
 */
export function checkPrices(value: unknown, where: string): BatchPrices {
  const example = '{"gpt-4o-mini": {"input": 0.15, "output": 0.6, "cached_input": 0.075}}';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BatchUsageError(
      `${where} must be a JSON object mapping model → price in USD per 1M tokens, e.g. ${example}`,
    );
  }
  for (const [model, price] of Object.entries(value)) {
    if (typeof price !== 'object' || price === null || Array.isArray(price)) {
      throw new BatchUsageError(`${where}: the price of '${model}' must be an object like ${example}`);
    }
    for (const field of FIELDS) {
      const v = (price as Record<string, unknown>)[field];
      const required = field === 'input' || field === 'output';
      if (v === undefined && !required) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new BatchUsageError(
          `${where}: '${model}'.${field} must be a number >= 0 (USD per 1M tokens), got ${JSON.stringify(v ?? null)}`,
        );
      }
    }
    const unknown = Object.keys(price).filter((k) => !(FIELDS as readonly string[]).includes(k));
    if (unknown.length) {
      throw new BatchUsageError(
        `${where}: '${model}' has unknown field(s) ${unknown.join(', ')}; use ${FIELDS.join(', ')}`,
      );
    }
  }
  return value as BatchPrices;
}

/**
 * Read and validate a prices JSON file.
 * @throws BatchUsageError when it cannot be read, is not JSON or not a prices object.
 */
export async function loadPrices(path: string): Promise<BatchPrices> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new BatchUsageError(`cannot read the prices file ${path}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new BatchUsageError(`the prices file ${path} is not JSON: ${(e as Error).message}`);
  }
  return checkPrices(value, path);
}

const SNAPSHOT = /-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$/;

/** The key of `prices` for `model` (see {@link BatchPrices}), or undefined. */
export function priceKey(prices: BatchPrices, model: string): string | undefined {
  if (Object.hasOwn(prices, model)) return model;
  const m = SNAPSHOT.exec(model);
  if (!m) return undefined;
  const base = model.slice(0, m.index);
  return Object.hasOwn(prices, base) ? base : undefined;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** Tokens of one `usage` by how they are billed. */
export function billedTokens(usage: Record<string, unknown>): {
  input: number;
  cachedInput: number;
  cacheWrite: number;
  output: number;
} {
  const details = (usage.prompt_tokens_details ?? usage.input_tokens_details) as
    | Record<string, unknown>
    | undefined;
  const cachedIncluded = num(details?.cached_tokens);
  if (usage.prompt_tokens !== undefined || usage.input_tokens_details !== undefined) {
    // OpenAI: cached tokens are part of the prompt / input count.
    const all = num(usage.prompt_tokens) || num(usage.input_tokens);
    return {
      input: Math.max(0, all - cachedIncluded),
      cachedInput: cachedIncluded,
      cacheWrite: 0,
      output: num(usage.completion_tokens) || num(usage.output_tokens),
    };
  }
  // Anthropic: cache reads and writes are counted apart from input_tokens.
  return {
    input: num(usage.input_tokens),
    cachedInput: num(usage.cache_read_input_tokens),
    cacheWrite: num(usage.cache_creation_input_tokens),
    output: num(usage.output_tokens),
  };
}

/** Adds up the cost of a run's answered requests; see the file comment. */
export class CostTally {
  readonly #prices: BatchPrices;
  readonly #multiplier: number;
  #usd = 0;
  readonly #byModel: Record<string, { usd: number; requests: number }> = {};
  #unpriced = 0;
  readonly #unpricedModels = new Set<string>();

  /** `multiplier`: the executor's `priceMultiplier` (1 when it has none). */
  constructor(prices: BatchPrices, multiplier: number) {
    this.#prices = prices;
    this.#multiplier = multiplier;
  }

  /**
   * Count one answered request: `models` are the names to price it by, in order (the request's
   * `model`, then the response's), `usage` the response body's `usage`.
   */
  add(models: Array<string | undefined>, usage: Record<string, unknown>): void {
    let key: string | undefined;
    for (const m of models) {
      if (typeof m === 'string' && m !== '') key ??= priceKey(this.#prices, m);
    }
    if (key === undefined) {
      this.#unpriced += 1;
      const named = models.find((m) => typeof m === 'string' && m !== '');
      if (named !== undefined && this.#unpricedModels.size < 100) this.#unpricedModels.add(named);
      return;
    }
    const p = this.#prices[key] as ModelPrice;
    const t = billedTokens(usage);
    const usd =
      ((t.input * p.input +
        t.cachedInput * (p.cached_input ?? p.input) +
        t.cacheWrite * (p.cache_write ?? p.input) +
        t.output * p.output) /
        1e6) *
      this.#multiplier;
    this.#usd += usd;
    const entry = this.#byModel[key] ?? { usd: 0, requests: 0 };
    this.#byModel[key] = entry;
    entry.usd += usd;
    entry.requests += 1;
  }

  /** The cost so far. */
  summary(): BatchCost {
    const byModel: BatchCost['byModel'] = {};
    for (const [k, v] of Object.entries(this.#byModel)) byModel[k] = { ...v };
    return {
      usd: this.#usd,
      byModel,
      unpriced: { requests: this.#unpriced, models: [...this.#unpricedModels] },
      priceMultiplier: this.#multiplier,
    };
  }
}
