// The hand-kept naming table of the Replicate operations generator (scripts/generate/operations.mjs with
// the provider 'replicate').
//
// Names only, as replicate-javascript 1.4 (index.d.ts, index.js) spells them; the request and response
// shapes always come from the spec (specs/replicate.openapi.json). Edit this file to rename a method or a
// type; rerun `npm run generate`. The fields are those of openai-names.mjs (resource, method, returns, item,
// params, note), plus:
//   lift        body or query fields replicate-javascript takes positionally after the path parameters
//               (`models.create(model_owner, model_name, options)`, `models.search(query)`)
//   multipart   true: the body is sent as multipart/form-data (as in openai-names.mjs: a table entry must say so)
//   notInSdk    true: named here (the rule would name it worse) but replicate-javascript has no such method;
//               counted and marked as "not in replicate-javascript" in docs/coverage/replicate.md
// Signatures (PROVIDER_CONFIG.replicate.signature 'positional'): every path parameter positional under its
// spec name, then `lift`, then one params object (the remaining body fields, the query parameters, the
// header options of HEADERS), then RequestOptions.
// An operation absent from OPERATIONS is not in replicate-javascript; the generator names it by rule
// (replicateNameByRule in operations-config.mjs: openai's rule, an item GET named `get`).

/**
 * Header parameters of the spec -> the params property that sets them (`type`: its TypeScript type,
 * `value`: the header value expression from the local variable; absent: `String(v)`).
 */
export const HEADERS = {
  // replicate-javascript's `wait` (predictions.create, deployments.predictions.create): `true` -> `Prefer: wait`,
  // a number of seconds -> `Prefer: wait=<n>` (rounded up, at least 1); false or absent: no header
  Prefer: {
    prop: 'wait',
    type: 'number | boolean',
    doc: "Wait for the prediction to finish before answering (sync mode): `true` sends `Prefer: wait` (the\nserver's default wait), a number of seconds (1-60) sends `Prefer: wait=<n>`. As replicate-javascript's `wait`.",
    value: (v) =>
      `${v} === true ? 'wait' : typeof ${v} === 'number' && ${v} ? \`wait=\${Math.max(1, Math.ceil(${v}) || 1)}\` : undefined`,
  },
  'Cancel-After': { prop: 'cancel_after' },
};

/** operationId -> replicate-javascript's resource path and method name, and type names. */
// HELPERS: methods on a resource with no operation of their own, one line each into lib/.
export const HELPERS = {
  predictions: [
    {
      signature:
        'stream(prediction: Prediction, options?: StreamPredictionOptions): AsyncGenerator<ServerSentEvent, void, undefined>',
      call: 'return streamPrediction(this._client, prediction, options);',
      doc: 'Stream a prediction created with `stream: true` as server-sent events (`output`, `logs`, `done`, `error`) from\nits `urls.stream`, through the engine (as `replicate.stream()` does after creating it).\n@throws ModelError for an `error` event; AiwireError when the prediction has no `urls.stream`; APIUserAbortError.',
      imports: [
        "import { type ServerSentEvent, type StreamPredictionOptions, streamPrediction } from '../lib/stream.js';",
      ],
    },
  ],
};

export const OPERATIONS = {
  'account.get': {
    resource: 'accounts',
    method: 'current',
    returns: 'Account',
    note: 'replicate-javascript: `accounts.current()`',
  },
  'collections.list': { resource: 'collections', method: 'list', item: 'CollectionSummary' },
  'collections.get': { resource: 'collections', method: 'get', returns: 'Collection' },
  'deployments.list': { resource: 'deployments', method: 'list', item: 'Deployment' },
  'deployments.create': { resource: 'deployments', method: 'create', returns: 'Deployment' },
  'deployments.get': { resource: 'deployments', method: 'get', returns: 'Deployment' },
  'deployments.update': { resource: 'deployments', method: 'update', returns: 'Deployment' },
  'deployments.delete': { resource: 'deployments', method: 'delete' },
  'deployments.predictions.create': {
    resource: 'deployments.predictions',
    method: 'create',
    returns: 'Prediction',
    // Replicate ignores Idempotency-Key: a retried create could start a second (billed) prediction, so
    // only 429s (answered before anything is created) are retried and no key is sent.
    requestDefaults: "retryOn: 'rate-limit-only', idempotencyKey: ''",
  },
  'files.list': { resource: 'files', method: 'list', item: 'FileObject' },
  'files.create': {
    resource: 'files',
    method: 'create',
    returns: 'FileObject',
    multipart: true,
    note: 'replicate-javascript: `files.create(file, metadata)`; here the multipart fields (`content`, `filename`, `type`, `metadata`)',
  },
  'files.get': { resource: 'files', method: 'get', returns: 'FileObject' },
  'files.delete': { resource: 'files', method: 'delete' },
  'hardware.list': { resource: 'hardware', method: 'list' },
  'models.list': { resource: 'models', method: 'list', item: 'Model' },
  'models.create': { resource: 'models', method: 'create', returns: 'Model', lift: ['owner', 'name'] },
  'models.get': { resource: 'models', method: 'get', returns: 'Model' },
  'models.predictions.create': {
    resource: 'models.predictions',
    method: 'create',
    returns: 'Prediction',
    // Replicate ignores Idempotency-Key: a retried create could start a second (billed) prediction, so
    // only 429s (answered before anything is created) are retried and no key is sent.
    requestDefaults: "retryOn: 'rate-limit-only', idempotencyKey: ''",
    notInSdk: true,
    note: 'not in replicate-javascript (its `predictions.create({ model })` sends this request); named as `deployments.predictions.create`',
  },
  'models.versions.list': { resource: 'models.versions', method: 'list', item: 'ModelVersion' },
  'models.versions.get': { resource: 'models.versions', method: 'get', returns: 'ModelVersion' },
  search: {
    resource: 'models',
    method: 'search',
    returns: 'SearchResponse',
    lift: ['query'],
    notInSdk: true,
    note: "replicate-javascript's `models.search(query)` sends `QUERY /models` (not in the spec); this is the spec's `GET /search`",
  },
  'predictions.list': { resource: 'predictions', method: 'list', item: 'Prediction' },
  'predictions.create': {
    resource: 'predictions',
    method: 'create',
    returns: 'Prediction',
    // Replicate ignores Idempotency-Key: a retried create could start a second (billed) prediction, so
    // only 429s (answered before anything is created) are retried and no key is sent.
    requestDefaults: "retryOn: 'rate-limit-only', idempotencyKey: ''",
  },
  'predictions.get': { resource: 'predictions', method: 'get', returns: 'Prediction' },
  'predictions.cancel': { resource: 'predictions', method: 'cancel', returns: 'Prediction' },
  'trainings.list': { resource: 'trainings', method: 'list', item: 'Training' },
  'trainings.create': {
    resource: 'trainings',
    method: 'create',
    returns: 'Training',
    // as predictions: a retried create could start a second training
    requestDefaults: "retryOn: 'rate-limit-only', idempotencyKey: ''",
  },
  'trainings.get': { resource: 'trainings', method: 'get', returns: 'Training' },
  'trainings.cancel': { resource: 'trainings', method: 'cancel', returns: 'Training' },
  'webhooks.default.secret.get': {
    resource: 'webhooks.default.secret',
    method: 'get',
    returns: 'WebhookSecret',
  },
};

/** replicate-javascript's resources: path -> [class name, its type names]. */
export const RESOURCES = {
  accounts: ['Accounts', 'Account'],
  collections: ['Collections', 'Collection CollectionSummary'],
  deployments: ['Deployments', 'Deployment'],
  'deployments.predictions': ['Predictions', 'Prediction'],
  files: ['Files', 'FileObject'],
  hardware: ['Hardware', ''],
  models: ['Models', 'Model SearchResponse'],
  'models.versions': ['Versions', 'ModelVersion'],
  predictions: ['Predictions', 'Prediction'],
  trainings: ['Trainings', 'Training'],
  webhooks: ['Webhooks', ''],
  'webhooks.default': ['Default', ''],
  'webhooks.default.secret': ['Secret', 'WebhookSecret'],
};

/** Named types that come from the spec without an operation of their own (none for Replicate). */
export const TYPE_ALIASES = {};
