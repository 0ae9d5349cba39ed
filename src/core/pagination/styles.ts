/**
 * The pagination styles the five APIs use, one class each. A resource method names the one its list
 * returns; a provider re-exports them under its SDK's names (Anthropic's `Page` is `IdCursorPage`).
 *
 * | style | items in | next page | used by |
 * |---|---|---|---|
 * | `Page` | `data` | none (one page) | OpenAI `models.list` |
 * | `CursorPage` | `data` | `after=<last item's id>` while `has_more` | OpenAI lists |
 * | `ConversationCursorPage` | `data` | `after=<last_id>` while `has_more` | OpenAI conversation items |
 * | `NextCursorPage` | `data` | `after=<next>` while `has_more` and `next` is set | OpenAI skills, video characters |
 * | `IdCursorPage` | `data` | `after_id=<last_id>` (or `before_id=<first_id>` when paging back) while `has_more` | Anthropic |
 * | `NextPageCursorPage` | `data` | `page=<next_page>` while `next_page` is set | Anthropic beta (skills, sessions, agents, …) |
 * | `NextURLPage` | `results` | GET the `next` URL (absolute allowed) while present | Replicate |
 * | `OffsetPage` | `items` | `skip=<skip + items>` while fewer than `total` were seen | Codegen |
 */
import type { BaseClient } from '../client.js';
import { AiwireError } from '../errors.js';
import { AbstractPage, type PageRequest } from './page.js';

function record(body: unknown, style: string, field: string): Record<string, unknown> {
  if (!body || typeof body !== 'object' || !Array.isArray((body as Record<string, unknown>)[field])) {
    throw new AiwireError(
      `Expected a list response with a \`${field}\` array (${style}), got ${body === undefined ? 'an empty body' : typeof body}; is the endpoint a list endpoint?`,
    );
  }
  return body as Record<string, unknown>;
}

/** A list answered in one page: `{ object: 'list', data: Item[] }`. */
export class Page<Item> extends AbstractPage<Item> {
  /** Items of this page. */
  data: Item[];
  /** The list's object type, e.g. `list`. */
  object: string;

  /** @internal */
  constructor(client: BaseClient, request: PageRequest, body: unknown) {
    super(client, request, body);
    const b = record(body, 'Page', 'data');
    this.data = b.data as Item[];
    this.object = (b.object as string) ?? 'list';
  }
  getPaginatedItems(): Item[] {
    return this.data;
  }
  nextPageRequest(): null {
    return null;
  }
}

/** OpenAI's cursor lists: `{ data, has_more }`; the next page is `after=<id of the last item>`. */
export class CursorPage<Item extends { id: string } | object> extends AbstractPage<Item> {
  /** Items of this page. */
  data: Item[];
  /** Whether the server has items after this page. */
  has_more: boolean;

  /** @internal */
  constructor(client: BaseClient, request: PageRequest, body: unknown) {
    super(client, request, body);
    const b = record(body, 'CursorPage', 'data');
    this.data = b.data as Item[];
    this.has_more = b.has_more === true;
  }
  getPaginatedItems(): Item[] {
    return this.data;
  }
  nextPageRequest(): Partial<PageRequest> | null {
    const last = this.data[this.data.length - 1] as { id?: unknown } | undefined;
    if (!this.has_more || typeof last?.id !== 'string') return null;
    return { query: { after: last.id } };
  }
}

/** OpenAI's conversation item lists: `{ data, has_more, last_id }`; next is `after=<last_id>`. */
export class ConversationCursorPage<Item> extends AbstractPage<Item> {
  /** Items of this page. */
  data: Item[];
  /** Whether the server has items after this page. */
  has_more: boolean;
  /** The cursor of the last item. */
  last_id: string | null;

  /** @internal */
  constructor(client: BaseClient, request: PageRequest, body: unknown) {
    super(client, request, body);
    const b = record(body, 'ConversationCursorPage', 'data');
    this.data = b.data as Item[];
    this.has_more = b.has_more === true;
    this.last_id = typeof b.last_id === 'string' ? b.last_id : null;
  }
  getPaginatedItems(): Item[] {
    return this.data;
  }
  nextPageRequest(): Partial<PageRequest> | null {
    if (!this.has_more || !this.last_id) return null;
    return { query: { after: this.last_id } };
  }
}

/** OpenAI's `next`-cursor lists: `{ data, has_more, next }`; the next page is `after=<next>`. */
export class NextCursorPage<Item> extends AbstractPage<Item> {
  /** Items of this page. */
  data: Item[];
  /** Whether the server has items after this page. */
  has_more: boolean;
  /** The cursor of the next page, or null. */
  next: string | null;

  /** @internal */
  constructor(client: BaseClient, request: PageRequest, body: unknown) {
    super(client, request, body);
    const b = record(body, 'NextCursorPage', 'data');
    this.data = b.data as Item[];
    this.has_more = b.has_more === true;
    this.next = typeof b.next === 'string' && b.next ? b.next : null;
  }
  getPaginatedItems(): Item[] {
    return this.data;
  }
  nextPageRequest(): Partial<PageRequest> | null {
    if (!this.has_more || !this.next) return null;
    return { query: { after: this.next } };
  }
}

/**
 * Anthropic's lists: `{ data, has_more, first_id, last_id }`. Forward by default (`after_id=<last_id>`);
 * a list requested with `before_id` pages backwards (`before_id=<first_id>`).
 */
export class IdCursorPage<Item> extends AbstractPage<Item> {
  /** Items of this page. */
  data: Item[];
  /** Whether the server has more items in the paging direction. */
  has_more: boolean;
  /** Id of the first item, the cursor for the page before. */
  first_id: string | null;
  /** Id of the last item, the cursor for the page after. */
  last_id: string | null;

  /** @internal */
  constructor(client: BaseClient, request: PageRequest, body: unknown) {
    super(client, request, body);
    const b = record(body, 'IdCursorPage', 'data');
    this.data = b.data as Item[];
    this.has_more = b.has_more === true;
    this.first_id = typeof b.first_id === 'string' ? b.first_id : null;
    this.last_id = typeof b.last_id === 'string' ? b.last_id : null;
  }
  getPaginatedItems(): Item[] {
    return this.data;
  }
  nextPageRequest(): Partial<PageRequest> | null {
    if (!this.has_more) return null;
    const query = this._request.query as Record<string, unknown> | undefined;
    if (query?.before_id) return this.first_id ? { query: { before_id: this.first_id } } : null;
    return this.last_id ? { query: { after_id: this.last_id } } : null;
  }
}

/**
 * Anthropic's page-token lists (the SDK's `PageCursor`, and `BidirectionalPageCursor` read forwards):
 * `{ data, next_page, prev_page? }`; the next page is `page=<next_page>`, until `next_page` is null.
 */
export class NextPageCursorPage<Item> extends AbstractPage<Item> {
  /** Items of this page. */
  data: Item[];
  /** The cursor of the next page, or null on the last page. */
  next_page: string | null;
  /** The cursor of the previous page, when the list gives one. */
  prev_page: string | null;

  /** @internal */
  constructor(client: BaseClient, request: PageRequest, body: unknown) {
    super(client, request, body);
    const b = record(body, 'NextPageCursorPage', 'data');
    this.data = b.data as Item[];
    this.next_page = typeof b.next_page === 'string' && b.next_page ? b.next_page : null;
    this.prev_page = typeof b.prev_page === 'string' && b.prev_page ? b.prev_page : null;
  }
  getPaginatedItems(): Item[] {
    return this.data;
  }
  nextPageRequest(): Partial<PageRequest> | null {
    return this.next_page ? { query: { page: this.next_page } } : null;
  }
}

/** Replicate's lists: `{ results, next, previous }`; the next page is the `next` URL as given. */
export class NextURLPage<Item> extends AbstractPage<Item> {
  /** Items of this page. */
  results: Item[];
  /** URL of the next page (absolute), or null on the last page. */
  next: string | null;
  /** URL of the previous page, or null on the first. */
  previous: string | null;

  /** @internal */
  constructor(client: BaseClient, request: PageRequest, body: unknown) {
    super(client, request, body);
    const b = record(body, 'NextURLPage', 'results');
    this.results = b.results as Item[];
    this.next = typeof b.next === 'string' && b.next ? b.next : null;
    this.previous = typeof b.previous === 'string' && b.previous ? b.previous : null;
  }
  getPaginatedItems(): Item[] {
    return this.results;
  }
  nextPageRequest(): Partial<PageRequest> | null {
    // The `next` URL carries its own cursor and filters: send it as is, without the first query.
    return this.next
      ? { method: 'get', path: this.next, query: {}, body: undefined, replaceQuery: true }
      : null;
  }
}

/** Codegen's lists: `{ items, total, page, size, pages }`, requested with `skip` and `limit`. */
export class OffsetPage<Item> extends AbstractPage<Item> {
  /** Items of this page. */
  items: Item[];
  /** Items in the whole list. */
  total: number;
  /** This page's number (1-based), as the server reports it. */
  page: number | null;
  /** Page size, as the server reports it. */
  size: number | null;
  /** Number of pages, as the server reports it. */
  pages: number | null;

  /** @internal */
  constructor(client: BaseClient, request: PageRequest, body: unknown) {
    super(client, request, body);
    const b = record(body, 'OffsetPage', 'items');
    this.items = b.items as Item[];
    this.total = typeof b.total === 'number' ? b.total : this.items.length;
    this.page = typeof b.page === 'number' ? b.page : null;
    this.size = typeof b.size === 'number' ? b.size : null;
    this.pages = typeof b.pages === 'number' ? b.pages : null;
  }
  getPaginatedItems(): Item[] {
    return this.items;
  }
  nextPageRequest(): Partial<PageRequest> | null {
    const skip = Number((this._request.query as Record<string, unknown> | undefined)?.skip ?? 0);
    const nextSkip = skip + this.items.length;
    return nextSkip < this.total ? { query: { skip: nextSkip } } : null;
  }
}
