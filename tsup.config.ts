import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'tsup';

/**
 * CommonJS: `const OpenAI = require('aiwire')` (and `const Anthropic = require('aiwire/anthropic')`)
 * must be the client class itself, as with openai-node and @anthropic-ai/sdk, while
 * `require('aiwire').APIError`, `.OpenAI` and `.default` keep working: the entry's exports are copied
 * onto the class, which becomes `module.exports`.
 */
function cjsClassExport(file: string, className: string): void {
  const text = readFileSync(file, 'utf8');
  const marker = `// aiwire: module.exports is the ${className} class`;
  if (text.includes(marker)) return;
  writeFileSync(
    file,
    `${text}\n${marker}\n{ const ns = module.exports; const C = ns.${className}; for (const k of Object.keys(ns)) { if (!(k in C) || C[k] !== ns[k]) { try { Object.defineProperty(C, k, { value: ns[k], enumerable: true, configurable: true, writable: true }); } catch {} } } Object.defineProperty(C, '__esModule', { value: true }); module.exports = C; }\n`,
  );
}

/**
 * Gives each class of a built file its own name back, as openai-node's classes have it
 * (`APIError.name === 'APIError'`), with no cost per call:
 * - a class that refers to itself is emitted `var X = class _X …` (esbuild keeps a private inner
 *   binding), so its `.name` is `_X`: the inner binding is renamed `X` (inside the class it shadows the
 *   outer `X`, which holds the same class);
 * - the CJS build's class-field transform emits `var X = (_classN = class …` (an anonymous class,
 *   named `_classN`): the class expression is named `X`;
 * - two classes of one name bundled into one file: esbuild renames the second `X2`; the file ends with
 *   `Object.defineProperty(X2, 'name', { value: 'X' })`.
 * scripts/pack-check-names.mjs checks every exported class's `.name` in both formats.
 */
function restoreClassNames(file: string): void {
  let text = readFileSync(file, 'utf8');
  const before = text;
  for (const m of [...text.matchAll(/\bvar ([A-Za-z$][\w$]*) = (?:\(_class\d* = )?class (_\1)\b/g)]) {
    const [, name, inner] = m as unknown as [string, string, string];
    text = text.replace(new RegExp(`(?<![\\w$.])${inner.replace(/\$/g, '\\$')}(?![\\w$])`, 'g'), name);
  }
  text = text.replace(/\bvar ([A-Za-z$][\w$]*) = \((_class\d*) = class(?= extends\b| ?\{)/g, 'var $1 = ($2 = class $1');
  const renamed: string[] = [];
  for (const m of text.matchAll(/\bvar ([A-Za-z$][\w$]*?)(\d+) = (?:\(_class\d* = )?class\b/g)) {
    const [, base, digits] = m as unknown as [string, string, string];
    // Only a rename: the unnumbered name is declared or imported in the same file.
    const declared = new RegExp(`(?:\\b(?:var|let|const|class|function) |[{,]\\s*|\\bas )${base}\\b(?![\\w$])`);
    if (declared.test(text)) {
      renamed.push(`Object.defineProperty(${base}${digits}, "name", { value: "${base}", configurable: true });`);
    }
  }
  if (renamed.length > 0) text += `\n${renamed.join('\n')}\n`;
  if (text !== before) writeFileSync(file, text);
}

export default defineConfig({
  // One copy of core for every entry point (`splitting`: shared chunks), so `instanceof APIError`
  // holds between `aiwire`, `aiwire/openai`, `aiwire/anthropic` and `aiwire/replicate`.
  entry: {
    aivillage: 'src/aivillage.ts',
    index: 'src/index.ts',
    openai: 'src/openai.ts',
    anthropic: 'src/anthropic.ts',
    replicate: 'src/replicate.ts',
    codegen: 'src/codegen.ts',
    'helpers/zod': 'src/helpers/zod.ts',
    fetch: 'src/fetch/index.ts',
    batch: 'src/batch/index.ts',
    'testing/index': 'src/testing/index.ts',
    cli: 'src/cli/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  shims: true,
  target: 'node20',
  platform: 'node',
  splitting: true,
  sourcemap: false,
  // Not esbuild's `keepNames`: it wraps every function expression in a `__name()` call, closures made
  // per request included, which cost ~4 µs of CPU per chat request in bench/ (34 -> 38 µs at C=64).
  // Class names are restored after the build instead (`restoreClassNames`).
  async onSuccess() {
    for (const f of readdirSync('dist')) {
      if (f.endsWith('.js') || f.endsWith('.cjs')) restoreClassNames(join('dist', f));
    }
    cjsClassExport('dist/aivillage.cjs', 'AIVillage');
    cjsClassExport('dist/index.cjs', 'OpenAI');
    cjsClassExport('dist/openai.cjs', 'OpenAI');
    cjsClassExport('dist/anthropic.cjs', 'Anthropic');
    cjsClassExport('dist/replicate.cjs', 'Replicate');
    cjsClassExport('dist/codegen.cjs', 'Codegen');
  },
});
