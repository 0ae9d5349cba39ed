// The operation model of the operations generator (scripts/generate/operations.mjs): describe (everything
// the generator knows about one operation of the spec: name, parameters, body, kind, page, stream
// events) and buildTree (the resource tree the operations hang on).

import {
  CFG,
  HEADERS,
  kebab,
  OPERATIONS,
  pageByRule,
  pascal,
  RESOURCES,
  TYPE_ALIASES,
} from './operations-config.mjs';

const jsonLike = (ct) => /json/.test(ct);

/** Everything the generator knows about one operation. */
export function describe(tw, path, method, op, pathItem) {
  const table = OPERATIONS[op.operationId];
  // `notInSdk`: named by the table (the rule would give a worse name) but still not in the SDK
  const byRule = !table || table.notInSdk === true;
  const name = table ?? CFG.rule(method, path);
  const params = [...(pathItem.parameters ?? []), ...(op.parameters ?? [])].map((p) => tw.resolve(p));
  const cleanPath = path.replace(/\?.*$/, '');
  const pathQuery = path.includes('?') ? path.slice(path.indexOf('?')) : '';
  const pathParams = [...cleanPath.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  // path parameters the caller passes (not filled in by the client: CFG.clientParams, Codegen's `org_id`)
  const ownPathParams = pathParams.filter((p) => !CFG.clientParams?.[p]);
  const query = params.filter((p) => p.in === 'query');
  // header params the client sets itself (HEADERS[name] === null) are not method params
  const headers = params.filter((p) => p.in === 'header' && HEADERS[p.name] !== null);
  const content = op.requestBody?.content ?? {};
  const bodyTypes = Object.keys(content);
  const multipart = table
    ? table.multipart === true
    : bodyTypes.includes('multipart/form-data') && !bodyTypes.includes('application/json');
  const bodyCT = multipart
    ? 'multipart/form-data'
    : (bodyTypes.find(jsonLike) ?? bodyTypes.find((c) => c !== 'multipart/form-data') ?? bodyTypes[0]);
  const bodySchema = bodyCT ? content[bodyCT].schema : null;
  const ok = Object.entries(op.responses ?? {}).filter(([s]) => /^2/.test(s));
  const okContent = ok.flatMap(([, r]) => Object.entries(r.content ?? {}));
  const firstCT = okContent[0]?.[0];
  const jsonResp = okContent.find(([ct]) => jsonLike(ct));
  const sse = okContent.find(([ct]) => ct === 'text/event-stream');
  const resolvedBody = bodySchema ? tw.resolve(bodySchema) : null;
  const streamable =
    (!!sse || !!table?.chunk) &&
    !!resolvedBody &&
    tw.props(resolvedBody).stream !== undefined &&
    method !== 'get';
  let kind = 'json';
  // openai-node returns a raw `Response` for file contents the spec calls a JSON string (`files.content`)
  const jsonString = !!jsonResp?.[1].schema && tw.resolve(jsonResp[1].schema)?.type === 'string';
  if (
    (firstCT && !jsonLike(firstCT) && firstCT !== 'text/event-stream') ||
    (table?.returns === 'Response' && jsonString) ||
    table?.binary === true
  )
    kind = 'binary';
  else if (table?.stream === 'always') kind = 'stream';
  else if (streamable) kind = 'stream-or-json';
  const respSchema = kind === 'binary' ? null : (jsonResp?.[1].schema ?? null);
  // lists: a GET whose body has a `data` array (Replicate: `results`), or any method openai-node returns a
  // page for
  let page = null;
  let itemSchema = null;
  if ((method === 'get' || table?.page) && kind !== 'binary' && kind !== 'stream' && respSchema) {
    const r = { properties: tw.props(respSchema) };
    const data = r.properties[CFG.listField ?? 'data'];
    if (data && tw.resolve(data).type === 'array') {
      itemSchema = tw.resolve(data).items ?? data.items;
      const rule = pageByRule(query, r.properties);
      page = table?.page ?? rule;
      kind = 'list';
    }
  }
  return {
    op,
    operationId: op.operationId,
    method,
    path,
    cleanPath,
    pathQuery,
    pathParams,
    ownPathParams,
    query,
    headers,
    bodySchema,
    bodyRequired: op.requestBody?.required === true,
    bodyCT,
    multipart,
    respSchema,
    respStatus: ok[0]?.[0],
    // a stream whose events the spec does not describe (completions) carries the JSON response shape
    sseSchema: table?.chunkSchema
      ? { $ref: `#/components/schemas/${table.chunkSchema}` }
      : (sse?.[1].schema ?? jsonResp?.[1].schema ?? null),
    kind,
    page,
    itemSchema,
    resource: name.resource,
    name: name.method,
    table: table ?? {},
    byRule,
  };
}

/** The resource tree: resource path → { ops, children, className, file }. */
export function buildTree(ops) {
  const res = new Map();
  const ensure = (rp) => {
    if (res.has(rp)) return res.get(rp);
    // '' (AIVillage's `client.chat()`): the client's own methods, in resources/top-level.ts
    const segs = rp === '' ? [] : rp.split('.');
    const r = {
      path: rp,
      segs,
      ops: [],
      children: [],
      className: RESOURCES[rp]?.[0] ?? pascal(segs[segs.length - 1]),
      file: rp === '' ? 'top-level.ts' : `${segs.map(kebab).join('/')}.ts`,
      inOpenAI: !!RESOURCES[rp],
    };
    res.set(rp, r);
    if (segs.length > 1) {
      const parent = ensure(segs.slice(0, -1).join('.'));
      parent.children.push(r);
    }
    return r;
  };
  for (const o of ops) ensure(o.resource).ops.push(o);
  // openai-node resources without operations that only hold types (fineTuning.methods, graders)
  for (const rp of Object.keys(TYPE_ALIASES)) if (RESOURCES[rp]) ensure(rp);
  for (const r of res.values()) r.children.sort((a, b) => a.path.localeCompare(b.path));
  return res;
}
