/**
 * Pagination: the shared page machinery (`page.ts`) and one class per style (`styles.ts`).
 */
export { AbstractPage, type ItemOf, type PageConstructor, PagePromise, type PageRequest } from './page.js';
export {
  ConversationCursorPage,
  CursorPage,
  IdCursorPage,
  NextCursorPage,
  NextPageCursorPage,
  NextURLPage,
  OffsetPage,
  Page,
} from './styles.js';
