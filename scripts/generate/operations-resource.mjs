// The resource-file emitter of the operations generator (scripts/generate/operations.mjs): resourceFile
// renders one resource class of src/providers/<provider>/resources/ (its types, one method per
// operation, the naming table's HELPERS, type aliases, page names, re-exports from children).

import {
  argName,
  CFG,
  doc,
  HEADER,
  HEADERS,
  HELPERS,
  isIdent,
  localName,
  pascal,
  prop,
  RESOURCES,
  schemaIdent,
  TYPE_ALIASES,
} from './operations-config.mjs';
import { aliasType } from './operations-types.mjs';

const relImport = (fromFile, toFile) => {
  const from = fromFile.split('/').slice(0, -1);
  const to = toFile.split('/');
  let i = 0;
  while (i < from.length && from[i] === to[i]) i++;
  const up = from.length - i;
  const rest = to.slice(i).join('/').replace(/\.ts$/, '.js');
  return (up === 0 ? './' : '../'.repeat(up)) + rest;
};

/**
 * A parameter's doc from its schema when the spec gives no description (CFG.docFromSchema): its title,
 * default and bounds, e.g. `Limit. Default 100; from 1 to 100.`
 */
function schemaDoc(schema) {
  const parts = [];
  if (schema.title) parts.push(`${schema.title}.`);
  if (schema.default !== undefined) parts.push(`Default ${JSON.stringify(schema.default)}.`);
  if (schema.minimum !== undefined && schema.maximum !== undefined)
    parts.push(`From ${schema.minimum} to ${schema.maximum}.`);
  else if (schema.minimum !== undefined) parts.push(`At least ${schema.minimum}.`);
  else if (schema.maximum !== undefined) parts.push(`At most ${schema.maximum}.`);
  return parts.join(' ');
}

/**
 * A resource whose file would be longer than about this many lines (estimated before formatting: its
 * type declarations, its class, and a line per name in imports, re-exports and the namespace) is written
 * as two files: `<name>.ts` (the class, its namespace, `export *` of the types) and `<name>.types.ts`
 * (the type declarations and the re-exports of its children's types), so that no generated file grows
 * past ~600 lines. The public import path (`resources/<name>`) exports the same names either way.
 */
export const SPLIT_LINES = 400;

/**
 * Generates one resource file (returned); a resource with many types also gets a companion types file
 * (`r.companion`: { file, text }).
 */
export function resourceFile(r, tw) {
  const types = new Map(); // name -> declaration text (order of insertion)
  const own = new Set((RESOURCES[r.path]?.[1] ?? '').split(' ').filter(Boolean));
  const aliases = TYPE_ALIASES[r.path] ?? {};
  const define = (name, decl) => {
    if (!types.has(name)) types.set(name, decl);
  };
  const kitNames = new Set(['APIResource']);
  const kitTypes = new Set();
  let usesS = false;
  const extraImports = new Set();
  const S = (t) => {
    if (t.includes('S.')) usesS = true;
    if (t.includes('Uploadable')) kitTypes.add('Uploadable');
    return t;
  };
  const singular = r.className
    .replace(/ies$/, 'y')
    .replace(/(ss|x|ch|sh)es$/, '$1')
    .replace(/s$/, '');
  const methods = [];

  for (const o of r.ops) {
    const t = o.table;
    if (t.unwrap?.imports) extraImports.add(t.unwrap.imports);
    if (t.before?.imports) extraImports.add(t.before.imports);
    const pName = t.params ?? `${singular}${pascal(o.name)}Params`;
    // replicate-javascript's style (CFG.signature 'positional'): every path parameter positional under its
    // spec name, then the lifted body/query fields; openai-node's: the last path parameter positional
    const allPositional = CFG.signature === 'positional';
    const lift = allPositional ? (t.lift ?? []) : [];
    // parameters the client fills in from its options unless the params object gives them (Codegen's org_id)
    const clientParams = CFG.clientParams ?? {};
    const cps = [...o.pathParams, ...o.query.map((q) => q.name)].filter(
      (n, i, a) => clientParams[n] && a.indexOf(n) === i,
    );
    const ownIds = o.ownPathParams ?? o.pathParams;
    const positional = ownIds.length ? ownIds[ownIds.length - 1] : null;
    const parents = allPositional ? [] : ownIds.slice(0, -1);
    const idType = CFG.idType ?? 'string';
    const posName = allPositional ? (n) => n : argName;
    const headerProps = o.headers.map((h) => ({
      h,
      name: t.headerParams?.[h.name] ?? HEADERS[h.name]?.prop ?? h.name.replace(/-/g, '_'),
      spec: HEADERS[h.name],
    }));
    // the response type
    let ret = 'void';
    if (o.kind === 'binary') ret = 'Response';
    else if (o.respSchema) ret = S(tw.ts(o.respSchema));
    if (
      o.kind !== 'list' &&
      t.returns &&
      isIdent(t.returns) &&
      !['Response', 'void', 'string'].includes(t.returns)
    ) {
      if (own.has(t.returns) || !r.inOpenAI) {
        define(t.returns, `export type ${t.returns} = ${ret};`);
        ret = t.returns;
      }
    }
    let item = null;
    if (o.kind === 'list') {
      item = S(tw.ts(o.itemSchema));
      if (t.item && isIdent(t.item) && (own.has(t.item) || !r.inOpenAI)) {
        define(t.item, `export type ${t.item} = ${item};`);
        item = t.item;
      }
      kitNames.add(o.page);
      kitTypes.add('PagePromise');
    }
    let chunk = null;
    if (o.kind === 'stream-or-json' || o.kind === 'stream') {
      chunk = S(tw.ts(o.sseSchema));
      if (t.chunk && isIdent(t.chunk) && (own.has(t.chunk) || !r.inOpenAI)) {
        define(t.chunk, `export type ${t.chunk} = ${chunk};`);
        chunk = t.chunk;
      }
      kitTypes.add('Stream');
    }
    // the params object: parent ids, query, headers, body
    const extraFields = [];
    for (const p of parents) extraFields.push(`  /** Path parameter \`${p}\`. */\n  ${prop(p)}: ${idType};`);
    for (const n of cps) {
      const c = clientParams[n];
      extraFields.push(`${doc(c.doc, '  ')}  ${prop(n)}?: ${c.type};`);
      if (c.import) extraImports.add(c.import('../'.repeat(r.file.split('/').length)));
    }
    for (const h of headerProps) {
      const text = h.spec?.doc ?? h.h.description;
      const d = text ? doc(text, '  ') : `  /** Header \`${h.h.name}\`. */\n`;
      const type = h.spec?.type ?? tw.ts(h.h.schema);
      extraFields.push(`${d}  ${prop(h.name)}${h.h.required ? '' : '?'}: ${S(type)};`);
    }
    for (const q of o.query) {
      if (lift.includes(q.name) || cps.includes(q.name)) continue;
      const fallback = CFG.docFromSchema && !q.description ? schemaDoc(tw.resolve(q.schema) ?? {}) : '';
      const d = q.description ? doc(q.description, '  ') : fallback ? doc(fallback, '  ') : '';
      extraFields.push(`${d}  ${prop(q.name)}${q.required ? '' : '?'}: ${S(tw.ts(q.schema, '  '))};`);
    }
    const hasBody = !!o.bodySchema;
    const liftBody = hasBody ? lift : [];
    const fullBodyT = hasBody ? S(tw.ts(o.bodySchema)) : null;
    const bodyT =
      hasBody && liftBody.length
        ? `Omit<${fullBodyT}, ${liftBody.map((n) => `'${n}'`).join(' | ')}>`
        : fullBodyT;
    const hasParams = hasBody || extraFields.length > 0;
    const requiredExtra =
      parents.length > 0 ||
      o.query.some((q) => q.required && !lift.includes(q.name) && !cps.includes(q.name)) ||
      o.headers.some((h) => h.required);
    const bodyOptional =
      hasBody &&
      (!o.bodyRequired || liftBody.length > 0) &&
      (tw.resolve(o.bodySchema).required ?? []).filter((n) => !liftBody.includes(n)).length === 0 &&
      !o.multipart;
    const paramsOptional = hasParams && !requiredExtra && (!hasBody || bodyOptional || t.optional === true);
    if (hasParams) {
      const extra = extraFields.length ? `{\n${extraFields.join('\n')}\n}` : null;
      const base = [bodyT, extra].filter(Boolean).join(' & ');
      if (o.kind === 'stream-or-json') {
        define(`${pName}Base`, `export type ${pName}Base = ${base};`);
        define(`${pName}Streaming`, `export type ${pName}Streaming = ${pName}Base & { stream: true };`);
        define(
          `${pName}NonStreaming`,
          `export type ${pName}NonStreaming = ${pName}Base & { stream?: false | null };`,
        );
        define(pName, `export type ${pName} = ${pName}Streaming | ${pName}NonStreaming;`);
      } else if (!hasBody) {
        define(pName, `export interface ${pName} ${extra}`);
      } else {
        define(pName, `export type ${pName} = ${base};`);
      }
    }
    // the call
    const argIsQuery = !hasBody && o.method === 'get';
    const argVar = !hasParams
      ? null
      : parents.length || cps.length || headerProps.length || (hasBody && o.query.length) || lift.length
        ? 'params'
        : hasBody
          ? 'body'
          : 'query';
    const pathExpr = o.pathParams.length
      ? `path\`${o.path.replace(/\{([^}]+)\}/g, (_, n) => (clientParams[n] ? `\${${clientParams[n].expr(localName(n))}}` : n === positional || allPositional ? `\${${posName(n)}}` : `\${${n}}`))}\``
      : `'${o.path}'`;
    if (o.pathParams.length) kitNames.add('path');
    const lines = [];
    const opts = [];
    if (argVar === 'params' && lift.length && !headerProps.length && !(hasBody && o.query.length)) {
      // lifted fields only: merged back into the body or query (`{ owner, name, ...params }`)
      opts.push(`${hasBody ? 'body' : 'query'}: { ${lift.join(', ')}, ...params }`);
    } else if (argVar === 'params') {
      const picked = [
        ...parents,
        ...cps,
        ...headerProps.map((h) => h.name),
        ...(hasBody
          ? o.query.filter((q) => !lift.includes(q.name) && !cps.includes(q.name)).map((q) => q.name)
          : []),
      ];
      const clientQuery = o.query.filter((q) => cps.includes(q.name)).map((q) => q.name);
      let rest = hasBody ? 'body' : o.query.length > clientQuery.length ? 'query' : null;
      if (rest && lift.includes(rest)) rest = 'rest';
      const names = picked.map((n) => (isIdent(n) ? n : `${prop(n)}: ${localName(n)}`));
      lines.push(
        `const { ${[...names, ...(rest ? [`...${rest}`] : [])].join(', ')} } = params${paramsOptional ? ' ?? {}' : ''};`,
      );
      if (hasBody && o.query.length)
        opts.push(
          `query: { ${o.query.map((q) => (cps.includes(q.name) ? `${prop(q.name)}: ${clientParams[q.name].expr(localName(q.name))}` : isIdent(q.name) ? q.name : `${prop(q.name)}: ${localName(q.name)}`)).join(', ')} }`,
        );
      else if (clientQuery.length)
        opts.push(
          `query: { ${rest ? `...${rest}, ` : ''}${clientQuery.map((n) => `${prop(n)}: ${clientParams[n].expr(localName(n))}`).join(', ')} }`,
        );
      if (rest && lift.length) opts.push(`${hasBody ? 'body' : 'query'}: { ${lift.join(', ')}, ...${rest} }`);
      else if (rest && !(rest === 'query' && clientQuery.length)) opts.push(rest);
    } else if (argVar === 'body') opts.push('body');
    else if (argVar === 'query') opts.push('query');
    void argIsQuery;
    // request defaults of this operation from the naming table (before `...options`: callers override)
    if (t.requestDefaults) opts.push(t.requestDefaults);
    opts.push('...options');
    const hdrs = [];
    const betaHeader = headerProps.find((h) => h.h.name === 'anthropic-beta');
    if (t.beta && CFG.name === 'openai') hdrs.push(`'OpenAI-Beta': '${t.beta}'`);
    else if (t.beta && !betaHeader) hdrs.push(`'anthropic-beta': '${t.beta}'`);
    for (const h of headerProps) {
      const local = localName(h.name);
      if (h === betaHeader && t.beta)
        hdrs.push(`'${h.h.name}': [...(${local} ?? []), '${t.beta}'].toString()`);
      else if (h.spec?.value) hdrs.push(`'${h.h.name}': ${h.spec.value(local)}`);
      else hdrs.push(`'${h.h.name}': ${local} != null ? String(${local}) : undefined`);
    }
    if (hdrs.length) opts.push(`headers: { ${hdrs.join(', ')}, ...options?.headers }`);
    if (o.multipart) opts.push('multipart: true');
    if (o.kind === 'binary') opts.push('binaryResponse: true');
    if (o.kind === 'stream-or-json')
      opts.push(`stream: ${argVar === 'params' ? 'params' : 'body'}.stream ?? false`);
    if (o.kind === 'stream') opts.push('stream: true');
    const optsExpr = `{ ${opts.join(', ')} }`;
    // the signature
    const sig = [];
    if (allPositional) for (const p of o.pathParams) sig.push(`${p}: string`);
    else if (positional) sig.push(`${argName(positional)}: ${idType}`);
    for (const n of lift) {
      const f = hasBody ? tw.props(o.bodySchema)[n] : o.query.find((q) => q.name === n)?.schema;
      if (!f) throw new Error(`OPERATIONS.${o.operationId}.lift: '${n}' is not a body or query field`);
      sig.push(`${n}: ${S(tw.ts(f))}`);
    }
    const argDecl = (type) =>
      argVar ? (paramsOptional ? `${argVar}: ${type} | null | undefined = {}` : `${argVar}: ${type}`) : null;
    const verb = o.method;
    kitTypes.add('RequestOptions');
    const summary = [o.op.summary, o.op.description].filter(Boolean);
    const text = `${summary.length ? (summary[1] ?? summary[0]) : `${o.method.toUpperCase()} ${o.path}`}\n\nAPI reference: \`${o.method.toUpperCase()} ${o.path}\` (${o.operationId}).\n@throws APIError subclasses by status (e.g. NotFoundError 404, RateLimitError 429), APIConnectionError, APIUserAbortError${cps.length ? `; AiwireError when no ${cps.map((n) => `\`${n}\``).join(' or ')} is given and the client has none` : ''}.`;
    const d = doc(text, '  ');
    // a statement run before the request, given the variable holding the body (e.g. a warning)
    if (t.before) lines.push(t.before.call(argVar === 'params' ? 'params' : 'body'));
    if (o.kind === 'stream-or-json') {
      kitTypes.add('APIPromise');
      const head = positional ? `${argName(positional)}: string, ` : '';
      const v = argVar;
      methods.push(
        `${d}  ${o.name}(${head}${v}: ${pName}NonStreaming, options?: RequestOptions): APIPromise<${ret}>;\n` +
          `  ${o.name}(${head}${v}: ${pName}Streaming, options?: RequestOptions): APIPromise<Stream<${chunk}>>;\n` +
          `  ${o.name}(${head}${v}: ${pName}Base, options?: RequestOptions): APIPromise<Stream<${chunk}> | ${ret}>;\n` +
          `  ${o.name}(${head}${v}: ${pName}, options?: RequestOptions): APIPromise<${ret}> | APIPromise<Stream<${chunk}>> {\n` +
          lines.map((l) => `    ${l}\n`).join('') +
          `    return ${t.unwrap ? '(' : ''}this._client.${verb}(${pathExpr}${o.pathQuery ? '' : ''}, ${optsExpr}) as APIPromise<${ret}> | APIPromise<Stream<${chunk}>>${t.unwrap ? `)._thenUnwrap(${t.unwrap.fn}) as APIPromise<${ret}> | APIPromise<Stream<${chunk}>>` : ''};\n  }\n`,
      );
      continue;
    }
    if (argVar) sig.push(argDecl(pName));
    sig.push('options?: RequestOptions');
    let retT;
    let body;
    if (t.override) {
      retT = `APIPromise<${ret}>`;
      kitTypes.add('APIPromise');
      body = `    ${t.override.call}\n`;
      if (t.override.imports) extraImports.add(t.override.imports);
    } else if (o.kind === 'stream') {
      retT = `APIPromise<Stream<${chunk}>>`;
      kitTypes.add('APIPromise');
      const call = `this._client.${verb}<Stream<${chunk}>>(${pathExpr}, ${optsExpr})`;
      body = `${lines.map((l) => `    ${l}\n`).join('')}    return ${call};\n`;
    } else if (o.kind === 'list') {
      retT = `PagePromise<${o.page}<${item}>, ${item}>`;
      const call =
        verb === 'get'
          ? `this._client.getAPIList(${pathExpr}, ${o.page}<${item}>, ${optsExpr})`
          : `this._client.requestAPIList(${o.page}<${item}>, { method: '${verb}', path: ${pathExpr}, ${opts.join(', ')} })`;
      body = `${lines.map((l) => `    ${l}\n`).join('')}    return ${call};\n`;
    } else {
      retT = `APIPromise<${t.unwrap?.returns ?? ret}>`;
      kitTypes.add('APIPromise');
      const call = `this._client.${verb}<${ret}>(${pathExpr}, ${optsExpr})`;
      body = `${lines.map((l) => `    ${l}\n`).join('')}    return ${t.unwrap ? `${call}._thenUnwrap(${t.unwrap.fn})` : call};\n`;
    }
    methods.push(`${d}  ${o.name}(${sig.join(', ')}): ${retT} {\n${body}  }\n`);
  }
  // hand-written helpers the SDK has on this resource (no operation of their own): one-line methods
  // that call into the provider's lib/ (e.g. Anthropic's `messages.stream()`)
  for (const h of HELPERS[r.path] ?? []) {
    for (const i of h.imports ?? []) extraImports.add(i);
    for (const k of h.kitTypes ?? []) kitTypes.add(k);
    methods.push(`${doc(h.doc, '  ')}  ${h.signature} {\n    ${h.call}\n  }\n`);
  }

  // named types of this resource that openai-node has and the spec holds under the same name or an alias
  for (const [n, target] of Object.entries(aliases)) {
    if (!own.has(n)) throw new Error(`TYPE_ALIASES['${r.path}'].${n}: not a name of RESOURCES['${r.path}']`);
    if (types.has(n)) continue; // an operation's own type (params, response) comes first
    usesS = true;
    define(n, `export type ${n} = ${aliasType(tw, `${r.path}.${n}`, target)};`);
  }
  for (const n of own) {
    if (types.has(n) || !tw.spec.components.schemas[n]) continue;
    usesS = true;
    define(n, `export type ${n} = S.${schemaIdent(n)};`);
  }
  // page names (openai-node exports `FineTuningJobsPage` as a type)
  for (const o of r.ops) {
    const t = o.table;
    if (
      o.kind === 'list' &&
      t.pageName &&
      (own.has(t.pageName) || !r.inOpenAI) &&
      t.item &&
      types.has(t.item)
    ) {
      define(t.pageName, `export type ${t.pageName} = ${o.page}<${t.item}>;`);
    }
  }
  // types re-exported from children (openai-node: `OpenAI.Chat.ChatCompletionMessageParam`)
  const childTypes = [];
  for (const c of r.children) {
    const cOwn = c.definedTypes ?? [];
    const names = [...own].filter(
      (n) => !types.has(n) && cOwn.includes(n) && !childTypes.some((x) => x.n === n),
    );
    for (const n of names) childTypes.push({ n, c });
  }

  const file = `resources/${r.file}`;
  const kit = relImport(file, 'core/kit.ts').replace(/^/, '');
  const importsOut = [];
  const kitVals = [...kitNames].sort();
  const kitT = [...kitTypes].sort();
  // the kit lives at src/core/kit.ts; resources at src/providers/openai/resources/...
  const depth = file.split('/').length - 1; // from src/providers/openai/
  const toSrc = '../'.repeat(depth + 2);
  importsOut.push(
    `import { ${[...kitVals, ...kitT.map((k) => `type ${k}`)].join(', ')} } from '${toSrc}core/kit.js';`,
  );
  void kit;
  if (usesS || [...types.values()].some((v) => v.includes('S.'))) {
    importsOut.push(`import type * as S from '${'../'.repeat(depth)}generated/schemas.js';`);
  }
  for (const c of r.children)
    importsOut.push(`import { ${c.className} } from '${relImport(r.file, c.file)}';`);
  const byChild = new Map();
  for (const { n, c } of childTypes) (byChild.get(c) ?? byChild.set(c, []).get(c)).push(n);
  const reexports = [];
  for (const [c, ns] of byChild) {
    importsOut.push(`import type { ${ns.join(', ')} } from '${relImport(r.file, c.file)}';`);
    reexports.push(`export type { ${ns.join(', ')} };`);
  }
  for (const i of [...extraImports].sort()) importsOut.push(i);

  // Sub-resources are made on first use: a client builds none of its ~100 resource objects up front
  // (a client per request pays for the ones it touches).
  const props = r.children.map((c) => {
    const name = c.segs[c.segs.length - 1];
    return `  #${name}?: ${c.className};\n  get ${name}(): ${c.className} {\n    this.#${name} ??= new ${c.className}(this._client);\n    return this.#${name};\n  }`;
  });
  const classDoc = !r.path
    ? `The client's own methods (\`client.${r.ops.map((o) => o.name).join('()`, `client.')}()\`), which it calls through this class.`
    : r.inOpenAI
      ? `\`client.${r.path}\`${r.ops.length ? `: ${r.ops.length} operation${r.ops.length > 1 ? 's' : ''}` : ''}.`
      : `\`client.${r.path}\`: not in ${CFG.sdk}; named by the rule of scripts/generate/operations.mjs.`;
  const classBody = [...props, ...(props.length && methods.length ? [''] : []), methods.join('\n')]
    .join('\n')
    .replace(/\n+$/, '');
  const childItems = r.children.map((c) => c.className);
  r.definedTypes = [...types.keys(), ...childTypes.map((x) => x.n)];
  const out = [];
  out.push(HEADER('resource'));
  const lineCount = (text) => text.split('\n').length;
  const estimate =
    lineCount([...types.values()].join('\n')) + lineCount(classBody) + 2 * types.size + 3 * childTypes.length;
  if (estimate > SPLIT_LINES) {
    // Many types: they go to a companion `<name>.types.ts` (re-exported whole), so neither file grows past
    // ~600 lines; the class file imports them all and lists them in its namespace.
    const typesFile = r.file.replace(/\.ts$/, '.types.ts');
    const typesRel = `./${typesFile.split('/').pop().replace(/\.ts$/, '.js')}`;
    const tOut = [HEADER('resource types')];
    // code only: doc comments and `S.<schema>` names do not count as a use of a name
    const code = (text) =>
      text
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '')
        .replace(/\bS\.\w+/g, 'S.');
    const mentions = (text, n) => new RegExp(`(?<![.\\w])${n}\\b`).test(code(text));
    const decls = [...types.values()].join('\n');
    const tKit = [...kitVals, ...kitT].filter((k) => mentions(decls, k));
    const tImports = [];
    if (tKit.length) tImports.push(`import type { ${tKit.join(', ')} } from '${toSrc}core/kit.js';`);
    if (code(decls).includes('S.'))
      tImports.push(`import type * as S from '${'../'.repeat(depth)}generated/schemas.js';`);
    tOut.push(tImports.join('\n'), '');
    for (const [c, ns] of byChild)
      tOut.push(`export type { ${ns.join(', ')} } from '${relImport(r.file, c.file)}';`);
    tOut.push('');
    for (const [, decl] of types) tOut.push(`${decl}\n`);
    r.companion = { file: typesFile, text: tOut.join('\n') };
    const mKit = kitVals.filter((k) => k === 'APIResource' || mentions(classBody, k));
    const mKitT = kitT.filter((k) => mentions(classBody, k));
    const mainImports = [
      `import { ${[...mKit, ...mKitT.map((k) => `type ${k}`)].join(', ')} } from '${toSrc}core/kit.js';`,
    ];
    if (code(classBody).includes('S.'))
      mainImports.push(`import type * as S from '${'../'.repeat(depth)}generated/schemas.js';`);
    for (const c of r.children)
      mainImports.push(`import { ${c.className} } from '${relImport(r.file, c.file)}';`);
    for (const i of [...extraImports].sort()) mainImports.push(i);
    // every name in scope for the namespace (`export { type X }`; an alias through a namespace import,
    // `type X = T.X`, becomes `type X = X` in the bundled .d.ts)
    mainImports.push(`import type { ${r.definedTypes.join(', ')} } from '${typesRel}';`);
    out.push(mainImports.join('\n'), '');
    out.push(`export * from '${typesRel}';\n`);
    out.push(`${doc(classDoc)}export class ${r.className} extends APIResource {`, classBody, '}\n');
    const items = [...r.definedTypes.map((n) => `type ${n}`), ...childItems];
    out.push(`export declare namespace ${r.className} {\n  export { ${items.join(', ')} };\n}\n`);
    return out.join('\n');
  }
  out.push(importsOut.join('\n'));
  out.push('');
  if (reexports.length) out.push(`${reexports.join('\n')}\n`);
  for (const [, decl] of types) out.push(`${decl}\n`);
  out.push(`${doc(classDoc)}export class ${r.className} extends APIResource {`);
  out.push(classBody);
  out.push('}\n');
  const nsItems = [...[...types.keys()].map((n) => `type ${n}`), ...childTypes.map(({ n }) => `type ${n}`)];
  if (nsItems.length || childItems.length) {
    out.push(
      `export declare namespace ${r.className} {\n  export { ${[...nsItems, ...childItems].join(', ')} };\n}\n`,
    );
  }
  return out.join('\n');
}
