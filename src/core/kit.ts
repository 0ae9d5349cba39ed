/**
 * Everything a resource file imports from core, in one place (generated resource files import only
 * this module and their provider's generated types).
 */
export type { APIPromise } from './api-promise.js';
export type { FinalRequestOptions, RequestOptions } from './client.js';
export {
  ConversationCursorPage,
  CursorPage,
  IdCursorPage,
  NextCursorPage,
  NextPageCursorPage,
  NextURLPage,
  OffsetPage,
  Page,
  type PagePromise,
} from './pagination/index.js';
export { APIResource, path } from './resource.js';
export type { RawEvent, Stream } from './streaming.js';
export type { Uploadable } from './uploads.js';
