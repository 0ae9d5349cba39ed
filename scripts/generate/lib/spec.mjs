// Loads the vendored OpenAPI documents in specs/ (never ../shared): one helper shared by the type
// generator (scripts/generate/types.mjs) and the operations generator.
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

/** Absolute path of the repository root. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Folder holding the vendored specs. */
export const SPECS_DIR = join(REPO_ROOT, 'specs');

/** Provider name (folder under src/providers/) -> spec file name under specs/. */
export const PROVIDERS = Object.freeze({
  openai: 'openai.openapi.yaml',
  anthropic: 'anthropic.openapi.json',
  replicate: 'replicate.openapi.json',
  codegen: 'codegen.openapi.json',
  aivillage: 'aivillage.openapi.yaml',
});

/** Provider names, in a stable order. */
export const PROVIDER_NAMES = Object.freeze(Object.keys(PROVIDERS));

/**
 * Absolute path of a provider's spec file.
 * @param {string} provider one of PROVIDER_NAMES
 */
export function specPath(provider) {
  const file = PROVIDERS[provider];
  if (!file) {
    throw new Error(`unknown provider "${provider}" (known: ${PROVIDER_NAMES.join(', ')})`);
  }
  return join(SPECS_DIR, file);
}

/** Path relative to the repository root, with forward slashes (for messages and file headers). */
export function repoRelative(path) {
  return relative(REPO_ROOT, path).split('\\').join('/');
}

/**
 * Parses a provider's spec. Returns a fresh object on every call: callers may mutate it.
 * YAML is parsed as YAML 1.2 (the `yaml` package; `yes`/`no`/`on` stay strings), JSON with JSON.parse.
 * @param {string} provider one of PROVIDER_NAMES
 * @returns {Record<string, any>} the OpenAPI document
 */
export function loadSpec(provider) {
  const path = specPath(provider);
  const text = readFileSync(path, 'utf8');
  const doc = /\.ya?ml$/i.test(path) ? YAML.parse(text, { maxAliasCount: -1 }) : JSON.parse(text);
  if (!doc || typeof doc !== 'object' || typeof doc.openapi !== 'string') {
    throw new Error(`${repoRelative(path)} is not an OpenAPI document (no "openapi" version field)`);
  }
  return doc;
}
