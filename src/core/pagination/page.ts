/**
 * The page machinery every pagination style shares: `AbstractPage` (items of one page,
 * `hasNextPage()`, `getNextPage()`, `iterPages()`, `for await` over every item of every page) and
 * `PagePromise` (a promise of the first page that can itself be iterated item by item).
 *
 * A style (see `styles.ts`) only says where a page's items are and which request fetches the next
 * page; a resource method names the style it returns (`getAPIList(path, CursorPage<Job>, …)`).
 */
import { APIPromise } from '../api-promise.js';
import type { BaseClient, FinalRequestOptions } from '../client.js';
import { AiwireError } from '../errors.js';

/**
 * What a page needs to ask for the next one: the request that fetched it (method, path or absolute
 * URL, query, body, per-request options).
 */
export interface PageRequest extends FinalRequestOptions {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Path below `baseURL`, or an absolute URL on the same origin (a `next` link some APIs return). */
  path: string;
  /** Next-page requests only: use the given `query` instead of merging it over the current one. */
  replaceQuery?: boolean | undefined;
}

/** A page style's constructor, as resource methods pass it (`CursorPage<Item>`). */
export type PageConstructor<P> = new (client: BaseClient, request: PageRequest, body: unknown) => P;

/** One page of a list. Subclasses define where the items are and how the next page is requested. */
export abstract class AbstractPage<Item> implements AsyncIterable<Item> {
  /** @internal */
  protected readonly _client: BaseClient;
  /** @internal The request that fetched this page. */
  protected readonly _request: PageRequest;

  /** @internal Built by the client from a list response; `body` is the parsed JSON. */
  constructor(client: BaseClient, request: PageRequest, _body: unknown) {
    this._client = client;
    this._request = request;
  }

  /** The items of this page. */
  abstract getPaginatedItems(): Item[];

  /**
   * The request for the page after this one (`query` entries are merged over the current ones, a
   * `path` replaces the current one), or `null` on the last page.
   */
  abstract nextPageRequest(): Partial<PageRequest> | null;

  /** Whether `getNextPage()` has a page to fetch (false on an empty page). */
  hasNextPage(): boolean {
    if (this.getPaginatedItems().length === 0) return false;
    return this.nextPageRequest() !== null;
  }

  /**
   * Fetch the next page, with the same filters and options as this one.
   * @throws AiwireError when there is none (check `hasNextPage()` first), and the request's API errors.
   */
  async getNextPage(): Promise<this> {
    const next = this.hasNextPage() ? this.nextPageRequest() : null;
    if (!next) {
      throw new AiwireError('No next page; check hasNextPage() before calling getNextPage().');
    }
    const request: PageRequest = {
      ...this._request,
      ...next,
      query:
        next.replaceQuery || next.query === undefined
          ? (next.query ?? this._request.query)
          : { ...this._request.query, ...next.query },
      replaceQuery: undefined,
    };
    return this._client.requestAPIList(this.constructor as PageConstructor<this>, request);
  }

  /** Every page from this one on, fetched one at a time as the loop asks. */
  async *iterPages(): AsyncGenerator<this> {
    let page: this = this;
    yield page;
    while (page.hasNextPage()) {
      page = await page.getNextPage();
      yield page;
    }
  }

  /** Every item of this page and of the pages after it. */
  async *[Symbol.asyncIterator](): AsyncIterator<Item> {
    for await (const page of this.iterPages()) yield* page.getPaginatedItems();
  }
}

/**
 * The promise of a list's first page (`await` it for the page), which `for await` iterates item by
 * item across every page, as openai-node's `PagePromise`.
 */
export class PagePromise<P extends AbstractPage<Item>, Item = ItemOf<P>>
  extends APIPromise<P>
  implements AsyncIterable<Item>
{
  async *[Symbol.asyncIterator](): AsyncIterator<Item> {
    const page = await this;
    yield* page as AsyncIterable<Item>;
  }
}

/** The item type of a page type. */
export type ItemOf<P> = P extends AbstractPage<infer Item> ? Item : never;
