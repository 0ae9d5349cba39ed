#!/usr/bin/env node
// Writes scripts/generate/tested-<provider>.json (openai, anthropic, replicate): the operation ids
// __test__/<provider>-operations.test.ts tests, i.e. every operation of the provider's spec except those
// __test__/<provider>-operations.plan.json lists under `untested` (with the reason). The test reads the same
// plan and fails when this file is stale; `npm run generate` reads it for the "tested" column of
// docs/coverage/<provider>.md.
//
//   node scripts/generate/tested.mjs           write the lists
//   node scripts/generate/tested.mjs --check   exit 1 when a list is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSpec, REPO_ROOT } from './lib/spec.mjs';

const VERBS = ['get', 'post', 'put', 'patch', 'delete'];

/** Providers with an operations test. */
export const TESTED_PROVIDERS = ['openai', 'anthropic', 'replicate', 'codegen', 'aivillage'];

/** The operation ids the operations test of a provider covers, sorted. */
export function testedOperationIds(provider = 'openai', spec = loadSpec(provider)) {
  const plan = JSON.parse(
    readFileSync(join(REPO_ROOT, '__test__', `${provider}-operations.plan.json`), 'utf8'),
  );
  const ids = [];
  for (const item of Object.values(spec.paths)) {
    for (const verb of VERBS) if (item[verb]) ids.push(item[verb].operationId);
  }
  for (const id of Object.keys(plan.untested)) {
    if (!ids.includes(id))
      throw new Error(`${provider}-operations.plan.json: untested ${id} is not an operation`);
  }
  return ids.filter((id) => !(id in plan.untested)).sort();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const provider of TESTED_PROVIDERS) writeList(provider);
}

function writeList(provider) {
  const rel = `scripts/generate/tested-${provider}.json`;
  const file = join(REPO_ROOT, rel);
  const text = `${JSON.stringify(testedOperationIds(provider), null, 2)}\n`;
  let prev = null;
  try {
    prev = readFileSync(file, 'utf8');
  } catch {}
  if (process.argv.includes('--check')) {
    if (prev !== text) {
      console.error(`${rel} is stale: run \`node scripts/generate/tested.mjs\``);
      process.exit(1);
    }
  } else if (prev !== text) {
    writeFileSync(file, text);
    console.log(`wrote ${rel} (${JSON.parse(text).length} operations)`);
  }
}
