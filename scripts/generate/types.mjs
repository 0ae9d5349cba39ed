#!/usr/bin/env node
// Spec -> TypeScript types: one exported type per `components.schemas` entry, written to
// src/providers/<provider>/generated/schemas.ts. Rerunnable and deterministic; `--check` fails when stale.
//
//   node scripts/generate/types.mjs                      all providers
//   node scripts/generate/types.mjs openai anthropic     some providers
//   node scripts/generate/types.mjs --check              exit 1 if any output is stale
//   --uploadable=import|fallback                         how `format: binary` fields get their type (see below)
//
// Conversion is done by openapi-typescript's Node API; this file prepares the spec and rewrites the result:
// - `discriminator` keywords are removed first: openapi-typescript would otherwise inject the schema NAME as
//   the discriminator property's value (`role: "ChatCompletionRequestUserMessage"`); the oneOf members
//   already carry their own enum/const for that property.
// - `type: string, format: binary` becomes `Uploadable` (src/core/uploads.ts).
// - references `components["schemas"]["X"]` are rewritten to plain `X`, and each schema becomes a top-level
//   `export type X = ...` with a JSDoc (description, or a fallback naming the schema; `@deprecated` kept).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { loadSpec, PROVIDER_NAMES, PROVIDERS, REPO_ROOT, repoRelative } from './lib/spec.mjs';

/** Display names used in fallback docstrings. */
const PROVIDER_TITLES = {
  openai: 'OpenAI',
  anthropic: 'Anthropic',
  replicate: 'Replicate',
  codegen: 'Codegen',
  aivillage: 'AIVillage',
};

/** Where the shared upload type lives, and how generated files import it. */
const UPLOADS_MODULE = join(REPO_ROOT, 'src', 'core', 'uploads.ts');
const UPLOADS_IMPORT = '../../../core/uploads.js';
/** Temporary stand-in used with `uploadable: 'fallback'` until src/core/uploads.ts exports `Uploadable`. */
const UPLOADABLE_FALLBACK =
  '/** Temporary stand-in for `Uploadable` from src/core/uploads.ts (generated with --uploadable=fallback). */\n' +
  'type Uploadable = Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;';

/**
 * Descriptions longer than this are cut (at a word boundary) and end with an ellipsis. No limit today: full
 * descriptions cost ~2% of the output size (measured); set ~600 here if the files grow too large.
 */
const MAX_DESCRIPTION = Number.POSITIVE_INFINITY;

const UPLOADABLE = 'Uploadable';
/** Names the generated file declares besides the schemas; a schema may not take them. */
const RESERVED_NAMES = new Set([UPLOADABLE, 'WithRequired']);
const TS_KEYWORD_TYPES = new Set(
  'any unknown never object string number boolean symbol bigint undefined void null this'.split(' '),
);

/** Output path of a provider's generated schema types. */
export function schemasPath(provider) {
  return join(REPO_ROOT, 'src', 'providers', provider, 'generated', 'schemas.ts');
}

/**
 * How `format: binary` is typed: 'import' (from src/core/uploads.ts) when that file exports `Uploadable`,
 * else 'fallback' (a local temporary type).
 */
export function detectUploadableMode() {
  if (!existsSync(UPLOADS_MODULE)) return 'fallback';
  const source = readFileSync(UPLOADS_MODULE, 'utf8');
  const exported =
    /export\s+(?:declare\s+)?(?:type|interface|class)\s+Uploadable\b/.test(source) ||
    /export\s+(?:type\s+)?\{[^}]*\bUploadable\b[^}]*\}/.test(source);
  return exported ? 'import' : 'fallback';
}

/** A schema name made a valid TypeScript type name (PascalCase kept; `Error-2` -> `Error2`). */
export function toIdentifier(name) {
  let id = name.replace(/[^A-Za-z0-9_$]+(.)?/g, (_, next) => (next ? next.toUpperCase() : ''));
  if (!id || /^[0-9]/.test(id)) id = `_${id}`;
  if (TS_KEYWORD_TYPES.has(id)) id = `${id}_`;
  return id;
}

/**
 * Maps every schema name to the unique identifier its type is exported under (the exact names used in
 * generated/schemas.ts): `toIdentifier(name)`, with `_2`, `_3`, ... on a clash (none in today's specs).
 * @param {Iterable<string>} names the keys of components.schemas
 * @returns {Map<string, string>}
 */
export function schemaIdentifiers(names) {
  const taken = new Set(RESERVED_NAMES);
  const byName = new Map();
  // Names that are already valid identifiers keep them; only rewritten names may be suffixed.
  const sorted = [...names].sort((a, b) => {
    const av = toIdentifier(a) === a ? 0 : 1;
    const bv = toIdentifier(b) === b ? 0 : 1;
    return av - bv || compare(a, b);
  });
  for (const name of sorted) {
    const base = toIdentifier(name);
    let id = base;
    for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
    taken.add(id);
    byName.set(name, id);
  }
  return byName;
}

function compare(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Keys whose values are maps of names to schemas (a key there is a name, not a keyword). */
const NAME_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'schemas']);

/** Keys whose values are data (not schemas) and must not be rewritten. */
const DATA_KEYS = new Set(['enum', 'const', 'default', 'required']);

/**
 * Prepares a spec's schemas for openapi-typescript, in place: removes `discriminator` keywords, rewrites
 * `{ $ref, nullable: true }` as a union with null, hoists the description of `anyOf [X, null]` to the
 * property, drops `example(s)` and `readOnly`/`writeOnly`, cuts over-long descriptions. Enum/const/default
 * values and `x-` extensions are never touched. Returns counts for the log.
 */
export function preprocessSchemas(schemas) {
  const stats = { discriminatorsRemoved: 0, descriptionsCut: 0, descriptionsHoisted: 0, nullableRefs: 0 };
  const walk = (node, inNameMap) => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item, false);
      return;
    }
    if (!isPlainObject(node)) return;
    if (!inNameMap && !('description' in node)) {
      // `anyOf: [{ type: number, description }, { type: 'null' }]`: the description sits on the non-null
      // member, where no JSDoc is printed; hoist it to the property.
      const members = (node.anyOf ?? node.oneOf ?? []).filter((m) => isPlainObject(m) && m.type !== 'null');
      if (members.length === 1 && typeof members[0].description === 'string') {
        node.description = members[0].description;
        if (!('default' in node) && 'default' in members[0]) node.default = members[0].default;
        stats.descriptionsHoisted++;
      }
    }
    if (!inNameMap && typeof node.$ref === 'string' && node.nullable === true) {
      // openapi-typescript ignores a $ref's siblings: `{ $ref, nullable: true }` would lose its `| null`.
      node.anyOf = [{ $ref: node.$ref }, { type: 'null' }];
      delete node.$ref;
      delete node.nullable;
      stats.nullableRefs++;
    }
    for (const key of Object.keys(node)) {
      const value = node[key];
      if (inNameMap) {
        walk(value, false);
        continue;
      }
      if (key === 'discriminator' && isPlainObject(value) && typeof value.propertyName === 'string') {
        delete node[key];
        stats.discriminatorsRemoved++;
        continue;
      }
      if (key === 'description' && typeof value === 'string') {
        const cut = truncate(value);
        if (cut !== value) {
          node[key] = cut;
          stats.descriptionsCut++;
        }
        continue;
      }
      // `example`/`examples` are data, not schemas; they also bloat JSDoc: dropped.
      if (key === 'example' || key === 'examples') {
        delete node[key];
        continue;
      }
      // readOnly/writeOnly are ignored (openapi-typescript would make readOnly properties `readonly`).
      if (key === 'readOnly' || key === 'writeOnly') {
        delete node[key];
        continue;
      }
      // Values, not schemas: left untouched.
      if (DATA_KEYS.has(key) || key.startsWith('x-')) continue;
      walk(value, NAME_MAPS.has(key));
    }
  };
  walk(schemas, true);
  return stats;
}

function truncate(text) {
  const trimmed = text.trim();
  if (trimmed.length <= MAX_DESCRIPTION) return trimmed;
  const slice = trimmed.slice(0, MAX_DESCRIPTION);
  const space = slice.lastIndexOf(' ');
  return `${(space > MAX_DESCRIPTION * 0.8 ? slice.slice(0, space) : slice).trimEnd()}…`;
}

function isBinary(schema) {
  return isPlainObject(schema) && !('$ref' in schema) && schema.format === 'binary';
}

/** openapi-typescript `transform` hook: `format: binary` -> Uploadable (keeping `| null`). */
function transformBinary(schema, used) {
  if (!isBinary(schema)) return undefined;
  used.uploadable = true;
  const ref = ts.factory.createTypeReferenceNode(UPLOADABLE);
  const nullable = schema.nullable === true || (Array.isArray(schema.type) && schema.type.includes('null'));
  return nullable
    ? ts.factory.createUnionTypeNode([ref, ts.factory.createLiteralTypeNode(ts.factory.createNull())])
    : ref;
}

/** `components["schemas"]["X"]` -> `X` (deeper pointers keep their remaining indexed accesses). */
function rewriteRefs(node, identifiers, context) {
  const literalText = (t) =>
    t && ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? t.literal.text : undefined;
  const visit = (n) => {
    if (
      ts.isIndexedAccessTypeNode(n) &&
      ts.isIndexedAccessTypeNode(n.objectType) &&
      ts.isTypeReferenceNode(n.objectType.objectType) &&
      ts.isIdentifier(n.objectType.objectType.typeName) &&
      n.objectType.objectType.typeName.text === 'components'
    ) {
      const section = literalText(n.objectType.indexType);
      const name = literalText(n.indexType);
      const id = section === 'schemas' ? identifiers.get(name) : undefined;
      if (!id) throw new Error(`unresolved reference components["${section}"]["${name}"]`);
      return ts.factory.createTypeReferenceNode(id);
    }
    if (ts.isTypeReferenceNode(n) && ts.isIdentifier(n.typeName) && n.typeName.text === 'components') {
      throw new Error('unexpected bare reference to "components"');
    }
    return ts.visitEachChild(n, visit, context);
  };
  return ts.visitNode(node, visit);
}

function rewriteAll(nodes, identifiers) {
  const result = ts.transform(nodes, [(context) => (root) => rewriteRefs(root, identifiers, context)]);
  const out = result.transformed.slice();
  result.dispose();
  return out;
}

function jsdocText(lines) {
  const body = lines
    .join('\n')
    .replace(/\*\//g, '*\\/')
    .split('\n')
    .map((line) => (line ? ` * ${line}` : ' *'))
    .join('\n');
  return `/**\n${body}\n */`;
}

/** Docstring of a top-level schema type: title, description (or a fallback), @deprecated. */
function schemaDoc(provider, name, schema) {
  const lines = [];
  const title = isPlainObject(schema) && typeof schema.title === 'string' ? schema.title.trim() : '';
  const description =
    isPlainObject(schema) && typeof schema.description === 'string' ? schema.description.trim() : '';
  if (description) {
    if (title && title !== name && !description.startsWith(title)) lines.push(title, '');
    lines.push(...description.split(/\r?\n/).map((l) => l.trimEnd()));
  } else {
    lines.push(
      title && title !== name
        ? `${title} (\`${name}\` in the ${PROVIDER_TITLES[provider]} API spec).`
        : `\`${name}\` from the ${PROVIDER_TITLES[provider]} API spec.`,
    );
  }
  if (isPlainObject(schema) && schema.deprecated === true) lines.push('', '@deprecated');
  return jsdocText(lines);
}

/**
 * Rewrites openapi-typescript's JSDoc blocks the way hand-written SDK types read: the description as plain
 * text (no `@description` tag, continuation lines unindented), no `@enum {string}` / `@constant` noise (the
 * type already says it). Blocks left empty are removed. Comment text never contains a raw `*\/`.
 */
export function tidyDocComments(text) {
  return text.replace(/([ \t]*)\/\*\*([\s\S]*?)\*\/[ \t]*\n?/g, (block, indent, inner) => {
    const raw = inner.split('\n').map((line, i) => (i === 0 ? line : line.replace(/^\s*\* ?/, '')));
    // Single-line form `/** text */`, or multi-line with an empty first line.
    const lines = raw.length === 1 ? [raw[0].trim()] : raw.slice(1).map((l) => l.trimEnd());
    // Items: a line, plus its continuation lines (indented by 4 spaces by openapi-typescript).
    while (lines.length && lines[0] === '') lines.shift();
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    const items = [];
    for (const line of lines) {
      // Blank lines inside a multi-line value belong to it.
      if ((line === '' || /^ {4}/.test(line)) && items.length) items[items.length - 1].lines.push(line);
      else items.push({ head: line, lines: [] });
    }
    const titles = [];
    const description = [];
    const tags = [];
    for (const { head, lines: rest } of items) {
      if (/^@(enum|constant)\b/.test(head)) continue;
      const m = /^@description\s?(.*)$/.exec(head);
      if (m) description.push(m[1], ...rest.map((l) => l.slice(4)));
      else if (head.startsWith('@') || head.startsWith('Format: ')) tags.push(head, ...rest);
      else titles.push(head, ...rest);
    }
    // Description first (what hovers show), tags last so that `@deprecated` does not swallow it.
    const out = [...titles, ...description, ...tags];
    while (out.length && out[out.length - 1].trim() === '') out.pop();
    if (!out.some((l) => l.trim() !== '')) return '';
    const eol = block.endsWith('\n') ? '\n' : '';
    if (out.length === 1) return `${indent}/** ${out[0]} */${eol}`;
    const body = out.map((l) => (l ? `${indent} * ${l}` : `${indent} *`)).join('\n');
    return `${indent}/**\n${body}\n${indent} */${eol}`;
  });
}

/** Formats TypeScript text with the repo's biome settings (stdin -> stdout). */
function formatWithBiome(text, filePath) {
  const bin = join(REPO_ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'biome.cmd' : 'biome');
  const res = spawnSync(bin, ['format', `--stdin-file-path=${filePath}`], {
    cwd: REPO_ROOT,
    input: text,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (res.status !== 0 || !res.stdout) {
    throw new Error(`biome format failed for ${repoRelative(filePath)}:\n${res.stderr || res.error}`);
  }
  return res.stdout;
}

/**
 * Builds the text of src/providers/<provider>/generated/schemas.ts.
 * @param {string} provider one of PROVIDER_NAMES
 * @param {{ uploadable?: 'import' | 'fallback', format?: boolean, tidy?: boolean }} [options]
 *   uploadable defaults to detectUploadableMode(); format (biome) and tidy (JSDoc rewrite) default to true.
 * @returns {Promise<{ text: string, stats: Record<string, number> }>}
 */
export async function buildSchemasSource(provider, options = {}) {
  const uploadable = options.uploadable ?? detectUploadableMode();
  const spec = loadSpec(provider);
  const schemas = spec.components?.schemas ?? {};
  const stats = preprocessSchemas(schemas);
  const names = Object.keys(schemas).sort(compare);
  const identifiers = schemaIdentifiers(names);
  const used = { uploadable: false };

  // Only the schemas are converted: paths/operations belong to the operations generator.
  const doc = {
    openapi: spec.openapi,
    info: { title: spec.info?.title ?? provider, version: spec.info?.version ?? '0' },
    paths: {},
    components: { schemas },
  };
  const nodes = await openapiTS(doc, {
    silent: true,
    additionalProperties: false,
    alphabetize: false,
    defaultNonNullable: false,
    emptyObjectsUnknown: true,
    enum: false,
    excludeDeprecated: false,
    exportType: true,
    transform: (schema) => transformBinary(schema, used),
  });

  const components = nodes.find((n) =>
    ts.isTypeAliasDeclaration(n) || ts.isInterfaceDeclaration(n) ? n.name.text === 'components' : false,
  );
  if (!components) throw new Error(`${provider}: openapi-typescript produced no "components" declaration`);
  const members = ts.isInterfaceDeclaration(components) ? components.members : components.type.members;
  const schemasMember = members.find((m) => m.name && (m.name.text ?? m.name.escapedText) === 'schemas');
  const schemaTypes = new Map();
  if (schemasMember) {
    for (const m of schemasMember.type.members) {
      schemaTypes.set(m.name.text ?? m.name.escapedText, m.type);
    }
  }
  // Helper declarations openapi-typescript injects (e.g. WithRequired) are kept, unexported.
  const helpers = nodes.filter(
    (n) =>
      ts.isTypeAliasDeclaration(n) &&
      !['paths', 'webhooks', 'components', '$defs', 'operations'].includes(n.name.text) &&
      !n.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword),
  );
  for (const h of helpers) {
    if (!RESERVED_NAMES.has(h.name.text))
      throw new Error(`${provider}: unexpected helper type ${h.name.text}`);
  }

  const exportMod = [ts.factory.createModifier(ts.SyntaxKind.ExportKeyword)];
  const aliases = names.map((name) => {
    const type = schemaTypes.get(name);
    if (!type) throw new Error(`${provider}: no type produced for schema "${name}"`);
    return ts.factory.createTypeAliasDeclaration(exportMod, identifiers.get(name), undefined, type);
  });
  const rewritten = rewriteAll(aliases, identifiers);

  const usesUploadable = used.uploadable;
  const title = PROVIDER_TITLES[provider];
  const parts = [
    `// Generated by scripts/generate/types.mjs from specs/${PROVIDERS[provider]} (${title} API` +
      `${spec.info?.version ? ` ${spec.info.version}` : ''}).\n` +
      '// Do not edit by hand: run `npm run generate`. One type per components.schemas entry, sorted by name.',
  ];
  if (usesUploadable) {
    parts.push(
      uploadable === 'import' ? `import type { Uploadable } from '${UPLOADS_IMPORT}';` : UPLOADABLE_FALLBACK,
    );
  }
  for (const h of helpers) parts.push(astToString(h).trim());
  rewritten.forEach((alias, i) => {
    const name = names[i];
    const original = identifiers.get(name) === name ? '' : `// components.schemas["${name}"]\n`;
    parts.push(`${original}${schemaDoc(provider, name, schemas[name])}\n${astToString(alias).trim()}`);
  });
  let text = `${parts.join('\n\n')}\n`;
  if (options.tidy !== false) text = tidyDocComments(text);
  if (options.format !== false) text = formatWithBiome(text, schemasPath(provider));
  return {
    text,
    stats: {
      schemas: names.length,
      ...stats,
      uploadableFallback: usesUploadable && uploadable === 'fallback' ? 1 : 0,
    },
  };
}

/**
 * Generates (or, with `check`, verifies) one provider's schemas.ts.
 * @param {{ provider: string, check?: boolean, uploadable?: 'import' | 'fallback' }} args
 * @returns {Promise<{ provider: string, path: string, changed: boolean, stale: boolean, lines: number, ms: number, stats: object }>}
 */
export async function generateTypes({ provider, check = false, uploadable }) {
  const t0 = performance.now();
  const { text, stats } = await buildSchemasSource(provider, { uploadable });
  const path = schemasPath(provider);
  const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  const differs = current !== text;
  if (differs && !check) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return {
    provider,
    path,
    changed: differs && !check,
    stale: differs && check,
    lines: text.split('\n').length - 1,
    ms: Math.round(performance.now() - t0),
    stats,
  };
}

/**
 * Generates (or checks) every provider, or the ones named.
 * @param {{ providers?: string[], check?: boolean, uploadable?: 'import' | 'fallback', log?: (line: string) => void }} [args]
 * @returns {Promise<{ ok: boolean, results: Awaited<ReturnType<typeof generateTypes>>[] }>}
 */
export async function generateAllTypes({
  providers = PROVIDER_NAMES,
  check = false,
  uploadable,
  log = () => {},
} = {}) {
  const results = [];
  for (const provider of providers) {
    const r = await generateTypes({ provider, check, uploadable });
    results.push(r);
    const rel = repoRelative(r.path);
    if (r.stale) log(`${rel} is stale: run npm run generate`);
    else
      log(
        `${rel}: ${r.stats.schemas} types, ${r.lines} lines, ${r.ms} ms${r.changed ? ' (written)' : check ? ' (up to date)' : ' (unchanged)'}`,
      );
    if (r.stats.uploadableFallback)
      log(
        `  note: ${rel} uses a temporary Uploadable fallback type (src/core/uploads.ts has no Uploadable export yet)`,
      );
  }
  return { ok: results.every((r) => !r.stale), results };
}

async function main(argv) {
  const check = argv.includes('--check');
  const uploadableArg = argv.find((a) => a.startsWith('--uploadable='));
  const uploadable = uploadableArg ? uploadableArg.slice('--uploadable='.length) : undefined;
  if (uploadable !== undefined && uploadable !== 'import' && uploadable !== 'fallback') {
    throw new Error('--uploadable must be "import" or "fallback"');
  }
  const unknownFlag = argv.find((a) => a.startsWith('--') && a !== '--check' && a !== uploadableArg);
  if (unknownFlag) throw new Error(`unknown option ${unknownFlag}`);
  const named = argv.filter((a) => !a.startsWith('--'));
  for (const p of named)
    if (!PROVIDERS[p]) throw new Error(`unknown provider "${p}" (known: ${PROVIDER_NAMES.join(', ')})`);
  const { ok } = await generateAllTypes({
    providers: named.length ? named : PROVIDER_NAMES,
    check,
    uploadable,
    log: (line) => (line.includes('is stale') ? console.error(line) : console.log(line)),
  });
  if (!ok) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  });
}
