/**
 * Pages of list endpoints, as openai-node's `Page` / `CursorPage`: `page.data`, `hasNextPage()`,
 * `getNextPage()`, and `for await` over every item of every page (on the page or on the promise).
 */
import { APIPromise } from './api-promise.js';
import type { BaseClient, RequestDescription } from './client.js';
import { AiwireError } from './errors.js';
import { parseJSONBody } from './response.js';

/** The JSON shape of a list response: `{ object: 'list', data: Item[], has_more?: boolean }`. */
export interface ListBody<Item> {
  object?: string;
  data: Item[];
  /** Cursor pagination: more items after the last one of `data`. */
  has_more?: boolean;
}

/**
 * One page. When the body says `has_more` and items carry an `id`, the next page is requested with
 * `after=<last id>` (OpenAI's cursor convention); otherwise there is a single page.
 */
export class Page<Item> implements AsyncIterable<Item> {
  /** Items of this page. */
  readonly data: Item[];
  /** Whether the server said more items follow (cursor lists), else false. */
  readonly has_more: boolean;
  readonly #client: BaseClient;
  readonly #request: RequestDescription;

  /** @internal */
  constructor(client: BaseClient, request: RequestDescription, body: ListBody<Item>) {
    if (!body || !Array.isArray(body.data)) {
      throw new AiwireError('Expected a list response with a `data` array');
    }
    this.#client = client;
    this.#request = request;
    this.data = body.data;
    this.has_more = body.has_more === true;
  }

  /** Same as `data` (openai-node name). */
  getPaginatedItems(): Item[] {
    return this.data;
  }

  /** Whether `getNextPage()` has a page to fetch. */
  hasNextPage(): boolean {
    const last = this.data[this.data.length - 1] as { id?: unknown } | undefined;
    return this.has_more && typeof last?.id === 'string';
  }

  /**
   * Fetch the next page.
   * @throws AiwireError when there is none (check `hasNextPage()` first).
   */
  async getNextPage(): Promise<Page<Item>> {
    const last = this.data[this.data.length - 1] as { id?: string } | undefined;
    if (!this.hasNextPage() || !last?.id) {
      throw new AiwireError('No next page; check hasNextPage() before calling getNextPage().');
    }
    const request = { ...this.#request, query: { ...this.#request.query, after: last.id } };
    return fetchPage<Item>(this.#client, request);
  }

  /** Every page from this one on. */
  async *iterPages(): AsyncGenerator<Page<Item>> {
    let page: Page<Item> = this;
    yield page;
    while (page.hasNextPage()) {
      page = await page.getNextPage();
      yield page;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Item> {
    for await (const page of this.iterPages()) yield* page.data;
  }
}

/** A promise of a page that can also be iterated item by item across pages with `for await`. */
export class PagePromise<Item> extends APIPromise<Page<Item>> implements AsyncIterable<Item> {
  async *[Symbol.asyncIterator](): AsyncIterator<Item> {
    const page = await this;
    yield* page;
  }
}

/** Request a list and wrap it as a `PagePromise`. */
export function fetchPage<Item>(client: BaseClient, request: RequestDescription): PagePromise<Item> {
  return new PagePromise<Item>(
    client.requestRaw(request),
    (raw) => new Page<Item>(client, request, parseJSONBody(raw.native) as ListBody<Item>),
  );
}
