// The hand-kept naming table of the OpenAI operations generator (scripts/generate/operations.mjs).
//
// Names only, as openai-node (v7.x, api.md and its resource classes) spells them; the request and
// response shapes always come from the spec (specs/openai.openapi.yaml). Edit this file to rename a
// method or a type; rerun `npm run generate`.
//
// OPERATIONS: operationId -> where openai-node puts the operation:
//   resource  resource path under the client ('fineTuning.jobs' -> client.fineTuning.jobs)
//   method    method name ('list')
//   params    openai-node's name for the request parameters type (body, query and parent ids)
//   returns   openai-node's name for the response type ('Response' = binary body, 'void' = no body)
//   page      page class of a list (CursorPage, ConversationCursorPage, Page); pageName, item: its names
//   chunk     the streamed event type of a `stream: true` request
//   beta      value of the `OpenAI-Beta` header openai-node sends
//   multipart true when openai-node sends the body as multipart/form-data
//   optional  true when the query/body argument may be omitted
//   override  { call, imports }: the body of the method, for a call that is not a plain request
//   headerParams { header: property } for header parameters of the spec
//   unwrap    { fn, imports }: a helper applied to the parsed result (`._thenUnwrap(fn)`), e.g. output_text
// An operation absent from OPERATIONS is not in openai-node; the generator names it by rule
// (see nameByRule in operations-config.mjs) and the coverage table says so.
//
// The data lives in ./openai-names/, one module per API area: OPERATIONS in operations-*.mjs (merged here
// in this order), RESOURCES in resources.mjs, TYPE_ALIASES in type-aliases.mjs, HELPERS in helpers.mjs.
import { ADMIN_OPERATIONS } from './openai-names/operations-admin.mjs';
import { ADMIN_ACCESS_OPERATIONS } from './openai-names/operations-admin-access.mjs';
import { CORE_OPERATIONS } from './openai-names/operations-core.mjs';
import { REALTIME_RESPONSES_OPERATIONS } from './openai-names/operations-realtime-responses.mjs';
import { STORES_MEDIA_OPERATIONS } from './openai-names/operations-stores-media.mjs';

export { HELPERS } from './openai-names/helpers.mjs';
export { RESOURCES } from './openai-names/resources.mjs';
export { TYPE_ALIASES } from './openai-names/type-aliases.mjs';

/** operationId -> where openai-node puts the operation (fields above). */
export const OPERATIONS = {
  ...CORE_OPERATIONS,
  ...ADMIN_OPERATIONS,
  ...ADMIN_ACCESS_OPERATIONS,
  ...REALTIME_RESPONSES_OPERATIONS,
  ...STORES_MEDIA_OPERATIONS,
};
