// The operations half of the generator, per provider (PROVIDER_CONFIG: openai, anthropic): every operation
// of the provider's spec becomes a one-line method of a resource class under
// src/providers/<provider>/resources/, at the official SDK's resource path and method name (the naming
// table: scripts/generate/openai-names.mjs, anthropic-names.mjs), plus the operation table
// (generated/operations.ts) and the coverage table (docs/coverage/<provider>.md).
//
// Kinds (how a method calls the client):
//   json            this._client.<verb>(path, { body | query, ...options })
//   list            a GET whose 200 body has a `data` array: this._client.getAPIList(path, <Page>, …)
//   stream-or-json  a body with a `stream` boolean and a text/event-stream response: three overloads
//   stream          (Anthropic) a GET the SDK reads as server-sent events: `stream: true`, returns Stream
//   binary          a 2xx body that is not JSON (audio, files): `binaryResponse: true`, returns Response
//   multipart       (a flag of any kind) the body is sent as multipart/form-data
//
// Naming rule for operations openai-node does not have (nameByRule):
//   resource path = the camelCased literal segments of the path (`/audio/voice_consents` -> audio.voiceConsents);
//   method by REST shape: collection GET list, POST create, DELETE delete; item (last segment a parameter)
//   GET retrieve, POST update, DELETE delete; `/<item>/<action>` (a literal after a parameter) -> the action
//   in camelCase on the item's collection resource. Anthropic (anthropicNameByRule): the `/v1` prefix is
//   dropped and `?beta=true` paths go under `beta.` first.
//
// Signatures follow openai-node v5+: the last path parameter is positional; parent ids, query parameters,
// header parameters and the body fields share one params object. Replicate (`signature: 'positional'`)
// follows replicate-javascript: every path parameter positional (spec names, path order), then the body or
// query fields the naming table lifts (`lift`: `models.create(owner, name, …)`, `models.search(query, …)`),
// then one params object (the other body fields, query parameters, header options such as `wait`).
// Replicate's naming rule (replicateNameByRule) is the rule below with an item GET named `get`.
// Codegen (codegen-names.mjs) names every operation in its table, in openai-node's signature style, with
// `clientParams` (PROVIDER_CONFIG.codegen): `org_id`, in a path or the query, is an optional field of the
// params object that the client fills in from its `orgId` when the call gives none; ids are `number | string`.
//
// The parts: operations-config.mjs (PROVIDER_CONFIG, the naming rules, the provider being generated),
// operations-types.mjs (spec schema -> TS type text), operations-model.mjs (describe, buildTree),
// operations-resource.mjs (one resource file); this file emits the resource index, the operation table
// and the coverage table.

import { CFG, HEADER, HEADERS, prop, useProvider } from './operations-config.mjs';
import { buildTree, describe } from './operations-model.mjs';
import { resourceFile } from './operations-resource.mjs';
import { TypeWriter } from './operations-types.mjs';

export {
  anthropicNameByRule,
  nameByRule,
  PROVIDER_CONFIG,
  replicateNameByRule,
} from './operations-config.mjs';

const VERBS = ['get', 'post', 'put', 'patch', 'delete'];

/** The parameters (path or query) of an operation the client fills in (CFG.clientParams), in order. */
const clientParamsOf = (o) =>
  [...o.pathParams, ...o.query.map((q) => q.name)].filter(
    (p, i, a) => CFG.clientParams?.[p] && a.indexOf(p) === i,
  );

/**
 * Generates every output of the operations half for one provider. Returns Map<repo-relative path, text>.
 * @param {Record<string, any>} spec the parsed spec of the provider
 * @param {{ tested?: Set<string>, provider?: 'openai' | 'anthropic' | 'replicate' | 'codegen', names: Record<string, any> }} opts
 *   names: the provider's naming table module (OPERATIONS, RESOURCES, TYPE_ALIASES, HEADERS?)
 */
export function generateOperations(spec, opts) {
  useProvider(opts.provider, opts.names);
  const tw = new TypeWriter(spec);
  const ops = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of VERBS) {
      if (item[method]) ops.push(describe(tw, path, method, item[method], item));
    }
  }
  const tree = buildTree(ops);
  const files = new Map();
  const base = `src/providers/${CFG.name}/`;
  // children before parents (a parent re-exports its children's types)
  const order = [...tree.values()].sort(
    (a, b) => b.segs.length - a.segs.length || a.path.localeCompare(b.path),
  );
  for (const r of order) {
    files.set(`${base}resources/${r.file}`, resourceFile(r, tw));
    if (r.companion) files.set(`${base}resources/${r.companion.file}`, r.companion.text);
  }
  // duplicates check: two ops on one method name
  const seen = new Map();
  for (const o of ops) {
    const k = `${o.resource}.${o.name}`;
    if (seen.has(k)) throw new Error(`${k} is both ${seen.get(k)} and ${o.operationId}`);
    seen.set(k, o.operationId);
  }
  const top = [...tree.values()]
    .filter((r) => r.segs.length === 1)
    .sort((a, b) => a.path.localeCompare(b.path));
  const idx = [HEADER('resource index')];
  // the client's own methods (resource ''), exported beside the top-level resources
  const root = tree.get('');
  if (root) top.unshift(root);
  for (const r of top) idx.push(`import { ${r.className} } from './${r.file.replace(/\.ts$/, '.js')}';`);
  idx.push('');
  idx.push(`export { ${top.map((r) => r.className).join(', ')} };`);
  // flat type exports openai-node users import directly (top-level resources and chat.completions), first wins
  const flat = new Map();
  for (const r of [...top, ...CFG.flatExtra.map((p) => tree.get(p))].filter(Boolean)) {
    for (const n of r.definedTypes ?? [])
      if (!flat.has(n) && !top.some((t) => t.className === n)) flat.set(n, r);
  }
  const byFile = new Map();
  for (const [n, r] of flat) (byFile.get(r) ?? byFile.set(r, []).get(r)).push(n);
  // a resource all of whose types are first exported here is re-exported whole (`export *`: one line, and
  // no two such modules share a name); the others list the names they contribute
  for (const [r, ns] of byFile) {
    const from = `./${r.file.replace(/\.ts$/, '.js')}`;
    const whole = top.includes(r) && ns.length === (r.definedTypes ?? []).length;
    idx.push(whole ? `export * from '${from}';` : `export type { ${ns.join(', ')} } from '${from}';`);
  }
  idx.push('');
  idx.push(
    '/** Every top-level resource: client property name -> class (`client.chat = new Chat(client)`). */',
  );
  idx.push(
    `export const TOP_LEVEL = {\n${top
      .filter((r) => r !== root)
      .map((r) => `  ${r.path}: ${r.className},`)
      .join('\n')}\n} as const;\n`,
  );
  files.set(`${base}resources/index.ts`, idx.join('\n'));

  // the operation table
  const sorted = [...ops].sort(
    (a, b) =>
      a.cleanPath.localeCompare(b.cleanPath) ||
      a.path.localeCompare(b.path) ||
      VERBS.indexOf(a.method) - VERBS.indexOf(b.method),
  );
  const allPositional = CFG.signature === 'positional';
  const rows = sorted.map((o) => {
    const positional = o.ownPathParams.length ? o.ownPathParams[o.ownPathParams.length - 1] : null;
    const positionalText = allPositional
      ? `[${o.pathParams.map((p) => `'${p}'`).join(', ')}]${o.table.lift ? `, lift: [${o.table.lift.map((p) => `'${p}'`).join(', ')}]` : ''}`
      : positional
        ? `'${positional}'`
        : 'null';
    const params = o.bodySchema ? 'body' : o.query.length ? 'query' : 'none';
    const headerParams = o.headers.length
      ? `, headerParams: { ${o.headers.map((h) => `${prop(h.name)}: '${o.table.headerParams?.[h.name] ?? HEADERS[h.name]?.prop ?? h.name.replace(/-/g, '_')}'`).join(', ')} }`
      : '';
    return (
      `  { operationId: '${o.operationId}', method: '${o.method}', path: '${o.path}', resource: '${o.resource}', name: '${o.name}', kind: '${o.kind}'` +
      `, pathParams: [${o.pathParams.map((p) => `'${p}'`).join(', ')}], positional: ${positionalText}, params: '${params}'${headerParams}` +
      `${o.kind === 'stream-or-json' ? ', stream: true' : ''}${o.multipart ? ', multipart: true' : ''}${o.page ? `, page: '${o.page}'` : ''}${CFG.name === 'anthropic' && o.table.beta ? `, beta: '${o.table.beta}'` : ''}${
        clientParamsOf(o).length
          ? `, clientParams: [${clientParamsOf(o)
              .map((p) => `'${p}'`)
              .join(', ')}]`
          : ''
      }${o.byRule ? ', byRule: true' : ''} },`
    );
  });
  files.set(
    `${base}generated/operations.ts`,
    `${HEADER('operation table')}
/** How a generated method calls the client. */
export type OperationKind = ${CFG.kinds};

/** One operation of the ${CFG.title} spec and the method that sends it (\`client.<resource>.<name>()\`). */
export interface Operation {
  operationId: string;
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  resource: string;
  name: string;
  kind: OperationKind;
  /** The path's parameters, in path order. */
  pathParams: readonly string[];
${
  allPositional
    ? `  /** The path parameters passed positionally: all of them, in path order. */
  positional: readonly string[];
  /** Body or query fields passed positionally after the path parameters (replicate-javascript's). */
  lift?: readonly string[];`
    : `  /** The path parameter passed positionally (the last one), or null when the path has none. */
  positional: string | null;`
}
  /**
   * What the params object carries besides the parent path ids and header params: the request body's
   * fields (and the query parameters, when there is a body too), the query parameters, or nothing.
   */
  params: 'body' | 'query' | 'none';
  /** Header parameters: header name -> the params-object property that sets it. */
  headerParams?: Readonly<Record<string, string>>;
  /** \`stream: true\` in the params makes the method resolve to a \`Stream\` (text/event-stream). */
  stream?: boolean;
  multipart?: boolean;
  page?: ${CFG.pages};
${CFG.name === 'anthropic' ? "  /** The beta the method always sends in `anthropic-beta` (after the caller's `betas`). */\n  beta?: string;\n" : ''}${CFG.clientParams ? '  /** Path or query parameters the client fills in from its options unless the params object gives them. */\n  clientParams?: readonly string[];\n' : ''}  /** Not in ${CFG.sdk}: named by the generator's rule. */
  byRule?: boolean;
}

/** Every operation of ${CFG.specFile} (${ops.length}), by path. */
export const OPERATIONS: readonly Operation[] = [
${rows.join('\n')}
];
`,
  );

  // the coverage table
  const tested = opts.tested ?? new Set();
  const md = [
    '<!-- Generated by scripts/generate (coverage table). Do not edit: run `npm run generate`. -->',
    `# ${CFG.title} API coverage`,
    '',
    `Every operation of \`${CFG.specFile}\` (${spec.info?.version ?? ''}): ${ops.length} operations, ${ops.filter((o) => !o.byRule).length} at ${CFG.sdk}'s resource path and method name, ${ops.filter((o) => o.byRule).length} not in ${CFG.sdk} and named by rule (see \`scripts/generate/operations.mjs\`)${ops.some((o) => o.table.notInSdk) ? ` or, ${ops.filter((o) => o.table.notInSdk).length} of them, by \`scripts/generate/${CFG.namesFile}\` (\`notInSdk\`)` : ''}. "tested" lists the operation ids in \`scripts/generate/tested-${CFG.name}.json\`.`,
    '',
    '| operation id | method | path | aiwire method | kind | tested | note |',
    '|---|---|---|---|---|---|---|',
    ...sorted.map(
      (o) =>
        `| ${o.operationId} | ${o.method.toUpperCase()} | \`${o.path}\` | \`client.${o.resource ? `${o.resource}.` : ''}${o.name}()\` | ${o.kind}${o.multipart ? ' (multipart)' : ''} | ${tested.has(o.operationId) ? 'yes' : 'no'} | ${o.byRule ? (o.table.note ?? `not in ${CFG.sdk}; named by rule`) : (o.table.note ?? '')} |`,
    ),
    '',
  ];
  files.set(`docs/coverage/${CFG.name}.md`, md.join('\n'));
  return { files, ops };
}
