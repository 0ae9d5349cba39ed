import { readFileSync, writeFileSync } from 'node:fs';
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
  // esbuild renames classes when it lowers static fields or dedupes names across chunks (CJS
  // `OpenAI.name` was `_class4`, `APIError.name` `_APIError`); keepNames restores each class's
  // own name, as openai-node has it. scripts/pack-check.mjs checks every exported class's `.name`.
  keepNames: true,
  async onSuccess() {
    cjsClassExport('dist/aivillage.cjs', 'AIVillage');
    cjsClassExport('dist/index.cjs', 'OpenAI');
    cjsClassExport('dist/openai.cjs', 'OpenAI');
    cjsClassExport('dist/anthropic.cjs', 'Anthropic');
    cjsClassExport('dist/replicate.cjs', 'Replicate');
    cjsClassExport('dist/codegen.cjs', 'Codegen');
  },
});
