/**
 * Part of `npm run pack:check` (called by scripts/pack-check.mjs with the installed tarballs): every
 * class an entry point exports keeps its own `.name` in both module formats. esbuild renames classes
 * when it lowers static fields or dedupes names across chunks (before tsup's `keepNames`, CommonJS
 * `require('aiwire/openai').OpenAI.name` was `_class4` and `APIError.name` `_APIError`), which shows
 * in error logs, `err.name`-less stack traces and `constructor.name` checks.
 *
 * For each subpath of the installed package's `exports` that has JavaScript for both `import` and
 * `require` (except one needing an optional peer dependency the consumer lacks), the program imports the ESM entry and requires the CJS one, and for every exported class
 * (a function whose source starts with `class`) checks: the CJS export's `.name` equals the ESM
 * export's, and equals the export's key, or for a deliberate alias (`OpenAIError` is `AiwireError`,
 * `Page` a concrete page class, `default` the entry's client) the name the source gives it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Export keys that may name a class under another name on purpose (see src/index.ts, src/anthropic.ts,
 * ...): `Page` is openai's own `Page` class, but another provider's page class (`IdCursorPage`, ...).
 */
const ALIASES = {
  OpenAIError: ['AiwireError'],
  AnthropicError: ['AiwireError'],
  Page: ['IdCursorPage', 'NextURLPage', 'OffsetPage', 'CursorPage'],
};

/** The client class each entry's `default` export is. */
const DEFAULTS = {
  '.': 'OpenAI',
  './openai': 'OpenAI',
  './anthropic': 'Anthropic',
  './replicate': 'Replicate',
  './codegen': 'Codegen',
  './aivillage': 'AIVillage',
};

const PROGRAM = `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const aliases = ${JSON.stringify(ALIASES)};
const defaults = ${JSON.stringify(DEFAULTS)};
const manifest = require('aiwire/package.json');
const isClass = (v) => typeof v === 'function' && /^class\\b/.test(Function.prototype.toString.call(v));
const bad = [];
const entries = [];
const skipped = [];
let classes = 0;
for (const [subpath, target] of Object.entries(manifest.exports)) {
  if (typeof target !== 'object' || !target.import?.default || !target.require?.default) continue;
  const spec = subpath === '.' ? 'aiwire' : 'aiwire' + subpath.slice(1);
  let esm;
  try {
    esm = await import(spec);
  } catch (err) {
    // an entry for an optional peer dependency the consumer does not have (aiwire/helpers/zod)
    const peer = /Cannot find package '([^']+)'/.exec(String(err?.message))?.[1];
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && manifest.peerDependenciesMeta?.[peer]?.optional) {
      skipped.push(\`\${spec} (needs \${peer})\`);
      continue;
    }
    throw err;
  }
  const cjs = require(spec);
  entries.push(spec);
  for (const [key, value] of Object.entries(esm)) {
    if (!isClass(value)) continue;
    classes += 1;
    const cjsName = cjs[key]?.name;
    const wanted = key === 'default' ? [defaults[subpath]] : [key, ...(aliases[key] ?? [])];
    if (cjsName !== value.name || !wanted.includes(value.name)) {
      bad.push(\`\${spec} \${key}: ESM .name \${value.name}, CJS .name \${cjsName}, expected \${wanted.join(' or ')}\`);
    }
  }
}
console.log(JSON.stringify({ entries, skipped, classes, bad }));
`;

/**
 * Writes and runs the check in `consumer` (a project with the root and platform tarballs installed).
 * Throws (via `fail`) listing every export whose class name is wrong in either format.
 */
export async function checkClassNames({ consumer, nodeBin, env, run, ok, fail, timeout }) {
  writeFileSync(join(consumer, 'class-names.mjs'), PROGRAM);
  const { stdout } = await run(nodeBin, ['class-names.mjs'], { cwd: consumer, env, timeout });
  const result = JSON.parse(stdout.trim().split('\n').pop());
  if (result.entries.length < Object.keys(DEFAULTS).length || result.classes === 0) {
    fail(`class-name check saw only ${result.entries.join(', ')} (${result.classes} classes)`);
  }
  if (result.bad.length) fail(`exported classes with the wrong .name:\n  ${result.bad.join('\n  ')}`);
  ok(
    `${result.classes} exported classes in ${result.entries.length} entries keep their names in ESM and CJS ` +
      `(e.g. require('aiwire/openai').OpenAI.name === 'OpenAI')` +
      (result.skipped.length ? `; skipped ${result.skipped.join(', ')}` : ''),
  );
}
