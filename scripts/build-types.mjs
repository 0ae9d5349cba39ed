#!/usr/bin/env node
/**
 * Declarations for the type-only subpaths (`aiwire/resources`, `aiwire/resources/chat/completions`, …,
 * as openai-node's `openai/resources/...`): `tsc -p tsconfig.types.json` writes `dist/types/**.d.ts`
 * (ESM); each file gets a `.d.cts` twin (relative imports `./x.js` → `./x.cjs`) so CommonJS
 * TypeScript consumers (`node16`/`nodenext`, `.cts`) resolve them too. Run by `npm run build:ts`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(repo, 'dist', 'types');
const tsc = spawnSync(
  process.execPath,
  [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.types.json'],
  {
    cwd: repo,
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) {
  console.error('build-types: tsc -p tsconfig.types.json failed (see above)');
  process.exit(tsc.status ?? 1);
}
// The addon's generated typings are a .d.ts in src/, which tsc does not copy. Its `Buffer`s are typed
// by their base class in the copy (a file-local alias), so that the declarations that import it
// (core/uploads, native/*) type-check in a project without @types/node.
const binding = readFileSync(join(repo, 'src', 'native', 'binding.d.ts'), 'utf8');
writeFileSync(
  join(out, 'native', 'binding.d.ts'),
  `${binding}\n/** A Node \`Buffer\` is a \`Uint8Array\`; aliased so that no @types/node is needed. */\ntype Buffer = Uint8Array;\n`,
);
let count = 0;
for (const name of readdirSync(out, { recursive: true })) {
  const file = join(out, String(name));
  if (!file.endsWith('.d.ts')) continue;
  const text = readFileSync(file, 'utf8').replace(
    /(from\s+|import\()(['"])(\.{1,2}\/[^'"]*?)\.js\2/g,
    '$1$2$3.cjs$2',
  );
  writeFileSync(file.replace(/\.d\.ts$/, '.d.cts'), text);
  count++;
}
console.log(`build-types: ${count} declaration files in dist/types (.d.ts and .d.cts)`);
