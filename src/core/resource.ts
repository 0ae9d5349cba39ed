/**
 * `APIResource`, the base of every resource class (`client.chat.completions`, `client.files`, …), and
 * `path`, the id-safe path builder resource methods use. A resource method is one line: it names the
 * HTTP method, the path and the options, and returns the client's typed promise, stream or page.
 */
import type { BaseClient } from './client.js';
import { AiwireError } from './errors.js';

/** A group of API operations bound to one client (as openai-node's `APIResource`). */
export abstract class APIResource {
  /** @internal The client that sends this resource's requests. */
  protected _client: BaseClient;

  /** @param client the client whose engine, options and provider spec the requests use. */
  constructor(client: BaseClient) {
    this._client = client;
  }
}

/**
 * A tagged template for request paths: every interpolated value is a path parameter, checked and
 * percent-encoded (`encodeURIComponent`), so an id can never add a segment or a query.
 *
 * ```ts
 * path`/vector_stores/${vectorStoreId}/files/${fileId}` // '/vector_stores/vs_1/files/file%2F2'
 * ```
 *
 * @throws AiwireError when a parameter is `undefined`, `null`, empty, `.` or `..` (a missing id would
 *   otherwise silently address the collection instead of one item).
 */
export function path(strings: TemplateStringsArray, ...params: unknown[]): string {
  let out = strings[0] ?? '';
  for (let i = 0; i < params.length; i++) {
    const value = params[i];
    if (value === undefined || value === null || value === '' || value === '.' || value === '..') {
      const before = (strings[i] ?? '').replace(/\/$/, '');
      throw new AiwireError(
        `A path parameter after ${JSON.stringify(before || '/')} must be a non-empty id, got ${value === '' ? '""' : String(value)}; pass the id of the object to address.`,
      );
    }
    out += encodeURIComponent(String(value)) + (strings[i + 1] ?? '');
  }
  return out;
}
