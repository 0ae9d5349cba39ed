#!/usr/bin/env node
// Writes scripts/generate/tested-openai.json: the operation ids __test__/openai-operations.test.ts tests,
// i.e. every operation of specs/openai.openapi.yaml except those __test__/openai-operations.plan.json lists
// under `untested` (with the reason). The test reads the same plan and fails when this file is stale;
// `npm run generate` reads it for the "tested" column of docs/coverage/openai.md.
//
//   node scripts/generate/tested.mjs           write the list
//   node scripts/generate/tested.mjs --check   exit 1 when the list is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSpec, REPO_ROOT } from './lib/spec.mjs';

const VERBS = ['get', 'post', 'put', 'patch', 'delete'];

/** The operation ids the operations test covers, sorted. */
export function testedOperationIds(spec = loadSpec('openai')) {
  const plan = JSON.parse(readFileSync(join(REPO_ROOT, '__test__', 'openai-operations.plan.json'), 'utf8'));
  const ids = [];
  for (const item of Object.values(spec.paths)) {
    for (const verb of VERBS) if (item[verb]) ids.push(item[verb].operationId);
  }
  for (const id of Object.keys(plan.untested)) {
    if (!ids.includes(id)) throw new Error(`openai-operations.plan.json: untested ${id} is not an operation`);
  }
  return ids.filter((id) => !(id in plan.untested)).sort();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = join(REPO_ROOT, 'scripts', 'generate', 'tested-openai.json');
  const text = `${JSON.stringify(testedOperationIds(), null, 2)}\n`;
  let prev = null;
  try {
    prev = readFileSync(file, 'utf8');
  } catch {}
  if (process.argv.includes('--check')) {
    if (prev !== text) {
      console.error('scripts/generate/tested-openai.json is stale: run `node scripts/generate/tested.mjs`');
      process.exit(1);
    }
  } else if (prev !== text) {
    writeFileSync(file, text);
    console.log(`wrote scripts/generate/tested-openai.json (${JSON.parse(text).length} operations)`);
  }
}
