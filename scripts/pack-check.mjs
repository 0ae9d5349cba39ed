#!/usr/bin/env node
/**
 * npm run pack:check: does `npm install aiwire` work for a user without a Rust toolchain?
 *
 * Needs `npm run build` first (dist/ and src/native/aiwire.<platform>.node). In a temporary folder
 * under os.tmpdir(), outside the checkout, with every cargo/rustc directory removed from PATH, it:
 *  1. stages the root package and all npm/<platform>/ packages and runs the release workflow's own
 *     steps on them: `napi artifacts` (this platform's real .node; a placeholder file for each
 *     platform that cannot be built here, which is never packed) and
 *     `napi prepublish --skip-optional-publish`, which writes the root optionalDependencies;
 *  2. packs the root package and this platform's package, and checks what each tarball holds
 *     (the root's package.json must list all platform packages as optionalDependencies);
 *  3. installs both tarballs into a fresh project and there runs, against the bundled mock server:
 *     an ESM and a CJS consumer (one chat completion each, the addon must come from the platform
 *     package), a TypeScript consumer type-checked with `strict` under node16 (as .mts and .cts) and
 *     bundler resolution and then run, and `npx aiwire --help`; and (scripts/pack-check-notypes.mjs)
 *     a TypeScript consumer in a project without @types/node, type-checked only; and
 *     (scripts/pack-check-names.mjs) every exported class's `.name` in ESM and CJS;
 *  4. installs the root tarball alone with --omit=optional and checks the loader's error message;
 *  5. repeats the consumers on the oldest Node that package.json `engines.node` admits (from the
 *     registry's `node-<platform>-<arch>` package), so `engines` states a version that was tested;
 *  6. runs publint and @arethetypeswrong/cli on the tarballs;
 * and prints the tarball and .node sizes. Bounded in time; removes its folder (--keep keeps it).
 * Helpers: pack-check-env.mjs (processes, the environment without Rust, the platform key),
 * pack-check-programs.mjs (the consumer programs).
 */
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  children,
  devBin,
  IS_WIN,
  kib,
  killTree,
  mib,
  NPM,
  NPX,
  platformKey,
  RUST_TOOLS,
  readJson,
  run,
  sha256,
  userEnv,
  whichIn,
} from './pack-check-env.mjs';
import { checkClassNames } from './pack-check-names.mjs';
import { checkWithoutNodeTypes } from './pack-check-notypes.mjs';
import { CONSUMER_TS, SMOKE_CJS, SMOKE_ESM, TSCONFIG_BASE } from './pack-check-programs.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KEEP = process.argv.includes('--keep');
const TOTAL_BUDGET_MS = 12 * 60_000;
const RUN_TIMEOUT_MS = 60_000;

const started = Date.now();
let passed = 0;
let tmp;
let mock;

function log(message) {
  process.stdout.write(
    `[pack:check ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}\n`,
  );
}

function fail(message) {
  throw new Error(message);
}

/** Records one passed check. */
function ok(message) {
  passed += 1;
  log(`ok  ${message}`);
}

/** A `files` entry as the paths it packs: a folder's files (recursively), or the file itself. */
function packedFiles(entry) {
  const abs = join(repo, entry);
  if (!statSync(abs).isDirectory()) return [entry];
  return readdirSync(abs, { recursive: true })
    .map((name) => `${entry}/${String(name).split(sep).join('/')}`)
    .filter((rel) => statSync(join(repo, rel)).isFile());
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const deadline = setTimeout(() => {
    log(`time budget of ${TOTAL_BUDGET_MS / 1000} s exceeded`);
    for (const child of children) killTree(child);
    cleanup();
    process.exit(1);
  }, TOTAL_BUDGET_MS);
  deadline.unref();

  const rootManifest = readJson(join(repo, 'package.json'));
  const { version } = rootManifest;
  const key = platformKey();
  const binaryName = rootManifest.napi.binaryName;
  const nodeFile = `${binaryName}.${key}.node`;
  const builtNode = join(repo, 'src', 'native', nodeFile);
  for (const file of [builtNode, join(repo, 'dist', 'index.js'), join(repo, 'dist', 'index.cjs')]) {
    const abs = resolve(repo, file);
    if (!existsSync(abs)) fail(`${relative(repo, abs)} is missing: run \`npm run build\` first`);
  }
  const npmDirs = readdirSync(join(repo, 'npm')).sort();
  if (!npmDirs.includes(key)) fail(`npm/${key}/ does not exist: ${key} is not a configured target`);
  if (npmDirs.length !== rootManifest.napi.targets.length) {
    fail(`npm/ has ${npmDirs.length} packages but napi.targets has ${rootManifest.napi.targets.length}`);
  }

  tmp = realpathSync(mkdtempSync(join(tmpdir(), 'aiwire-pack-check-')));
  if (tmp === repo || tmp.startsWith(repo + sep)) fail(`temporary folder ${tmp} is inside the checkout`);
  log(`platform ${key}, aiwire ${version}, node ${process.version}; working in ${tmp}`);

  const { env, pathKey, dropped } = userEnv();
  for (const tool of RUST_TOOLS) {
    const found = whichIn(env[pathKey], tool);
    if (found) fail(`${tool} is still on the consumer PATH: ${found}`);
  }
  if (!IS_WIN) {
    const probe = await run('sh', ['-c', 'command -v cargo || command -v rustc'], { env, allowFail: true });
    if (probe.code === 0) fail(`cargo/rustc still found on PATH: ${probe.stdout.trim()}`);
  }
  ok(`no cargo/rustc on the consumer PATH (removed: ${dropped.join(', ') || 'nothing'})`);

  // 1. Stage and prepare exactly as the release workflow does -----------------------------------
  const stage = join(tmp, 'stage');
  mkdirSync(stage);
  for (const file of ['package.json', 'README.md', 'LICENSE'])
    copyFileSync(join(repo, file), join(stage, file));
  cpSync(join(repo, 'dist'), join(stage, 'dist'), { recursive: true });
  cpSync(join(repo, 'npm'), join(stage, 'npm'), { recursive: true });
  for (const dir of npmDirs) copyFileSync(join(repo, 'LICENSE'), join(stage, 'npm', dir, 'LICENSE'));
  const artifacts = join(tmp, 'artifacts');
  mkdirSync(artifacts);
  copyFileSync(builtNode, join(artifacts, nodeFile));
  const placeholders = npmDirs.filter((dir) => dir !== key);
  for (const dir of placeholders) {
    writeFileSync(join(artifacts, `${binaryName}.${dir}.node`), 'placeholder: not built on this machine\n');
  }
  const napi = devBin('@napi-rs/cli', 'napi');
  await run(process.execPath, [napi, 'artifacts', '--output-dir', artifacts, '--npm-dir', 'npm'], {
    cwd: stage,
    env,
  });
  await run(
    process.execPath,
    [napi, 'prepublish', '-t', 'npm', '--no-gh-release', '--skip-optional-publish'],
    { cwd: stage, env },
  );
  ok(
    `napi artifacts + napi prepublish ran on the staged package (${placeholders.length} placeholder binaries)`,
  );

  // 2. Pack --------------------------------------------------------------------------------------
  const tarballs = join(tmp, 'tarballs');
  mkdirSync(tarballs);
  const pack = async (dir) => {
    const { stdout } = await run(NPM, ['pack', '--json', '--pack-destination', tarballs], { cwd: dir, env });
    const [info] = JSON.parse(stdout.slice(stdout.indexOf('[')));
    return {
      ...info,
      path: join(tarballs, info.filename),
      size: statSync(join(tarballs, info.filename)).size,
    };
  };
  const rootPack = await pack(stage);
  const platformPack = await pack(join(stage, 'npm', key));

  const rootFiles = rootPack.files.map((f) => f.path).sort();
  const expectedRoot = [...new Set(['package.json', ...rootManifest.files.flatMap(packedFiles)])].sort();
  if (JSON.stringify(rootFiles) !== JSON.stringify(expectedRoot)) {
    fail(`root tarball holds ${JSON.stringify(rootFiles)}, expected ${JSON.stringify(expectedRoot)}`);
  }
  ok(`root tarball ${rootPack.filename} holds exactly package.json + "files" (${rootFiles.length} files)`);
  const platformFiles = platformPack.files.map((f) => f.path).sort();
  const expectedPlatform = ['LICENSE', 'README.md', nodeFile, 'package.json'].sort();
  if (JSON.stringify(platformFiles) !== JSON.stringify(expectedPlatform)) {
    fail(
      `platform tarball holds ${JSON.stringify(platformFiles)}, expected ${JSON.stringify(expectedPlatform)}`,
    );
  }

  const extracted = join(tmp, 'extracted');
  for (const [name, tgz] of [
    ['root', rootPack.path],
    ['platform', platformPack.path],
  ]) {
    mkdirSync(join(extracted, name), { recursive: true });
    await run('tar', ['-xzf', tgz, '-C', join(extracted, name)], { env });
  }
  const packedRoot = readJson(join(extracted, 'root', 'package', 'package.json'));
  const expectedOptional = Object.fromEntries(npmDirs.map((dir) => [`${binaryName}-${dir}`, version]));
  const actualOptional = packedRoot.optionalDependencies ?? {};
  for (const [name, range] of Object.entries(expectedOptional)) {
    if (actualOptional[name] !== range) {
      fail(
        `packed package.json optionalDependencies lacks ${name}@${range}: ${JSON.stringify(actualOptional)}`,
      );
    }
  }
  if (Object.keys(actualOptional).length !== npmDirs.length) {
    fail(`packed optionalDependencies has extra entries: ${JSON.stringify(actualOptional)}`);
  }
  for (const field of ['license', 'repository', 'keywords', 'types', 'engines', 'bin', 'exports']) {
    if (packedRoot[field] === undefined) fail(`packed package.json has no "${field}"`);
  }
  ok(
    `packed package.json lists all ${npmDirs.length} platform packages at ${version} as optionalDependencies`,
  );

  const packedPlatform = readJson(join(extracted, 'platform', 'package', 'package.json'));
  const platformManifest = readJson(join(repo, 'npm', key, 'package.json'));
  for (const field of ['os', 'cpu', 'libc']) {
    if (JSON.stringify(packedPlatform[field]) !== JSON.stringify(platformManifest[field])) {
      fail(`packed ${packedPlatform.name} has ${field} ${JSON.stringify(packedPlatform[field])}`);
    }
  }
  if (!packedPlatform.os || !packedPlatform.cpu || (key.startsWith('linux-') && !packedPlatform.libc)) {
    fail(`packed ${packedPlatform.name} is not marked with os/cpu/libc`);
  }
  if (packedPlatform.version !== version)
    fail(`packed ${packedPlatform.name} has version ${packedPlatform.version}`);
  if (sha256(join(extracted, 'platform', 'package', nodeFile)) !== sha256(builtNode)) {
    fail(`the packed ${nodeFile} differs from src/native/${nodeFile}`);
  }
  ok(
    `platform tarball ${platformPack.filename}: ${nodeFile} as built, os ${packedPlatform.os} cpu ` +
      `${packedPlatform.cpu} libc ${packedPlatform.libc ?? '-'}`,
  );

  // 3. Install both tarballs into a fresh project -------------------------------------------------
  const consumer = join(tmp, 'consumer');
  mkdirSync(consumer);
  writeFileSync(
    join(consumer, 'package.json'),
    `${JSON.stringify({ name: 'aiwire-consumer', version: '0.0.0', private: true }, null, 2)}\n`,
  );
  const tsVersion = readJson(join(repo, 'node_modules', 'typescript', 'package.json')).version;
  const typesNodeVersion = readJson(join(repo, 'node_modules', '@types', 'node', 'package.json')).version;
  await run(
    NPM,
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      rootPack.path,
      platformPack.path,
      `typescript@${tsVersion}`,
      `@types/node@${typesNodeVersion}`,
    ],
    { cwd: consumer, env },
  );
  const installedNode = join(consumer, 'node_modules', `${binaryName}-${key}`, nodeFile);
  if (!existsSync(installedNode)) fail(`${binaryName}-${key} was not installed with its .node`);
  if (sha256(installedNode) !== sha256(builtNode))
    fail(`the installed ${nodeFile} is not the one built here`);
  const installedRoot = join(consumer, 'node_modules', 'aiwire');
  const strayNode = listFiles(installedRoot).filter((f) => f.endsWith('.node'));
  if (strayNode.length) fail(`the installed aiwire package holds .node files: ${strayNode.join(', ')}`);
  if (existsSync(join(installedRoot, 'src'))) fail('the installed aiwire package has a src/ folder');
  ok(`installed both tarballs (+ typescript ${tsVersion}, @types/node ${typesNodeVersion}) without Rust`);

  // The bundled mock, from the installed package (ESM entry of aiwire/testing).
  const testing = await import(pathToFileURL(join(installedRoot, 'dist', 'testing', 'index.js')).href);
  mock = await testing.startMockServer();
  const runEnv = { ...env, OPENAI_API_KEY: 'sk-pack-check', OPENAI_BASE_URL: `${mock.url}/v1` };
  delete runEnv.OPENAI_ORG_ID;
  delete runEnv.OPENAI_PROJECT_ID;
  delete runEnv.AIWIRE_NATIVE_PATH;

  writeFileSync(join(consumer, 'esm.mjs'), SMOKE_ESM);
  writeFileSync(join(consumer, 'cjs.cjs'), SMOKE_CJS);
  writeFileSync(join(consumer, 'consumer.mts'), CONSUMER_TS);
  writeFileSync(join(consumer, 'consumer.cts'), CONSUMER_TS);
  writeFileSync(join(consumer, 'consumer.ts'), CONSUMER_TS);
  writeFileSync(
    join(consumer, 'tsconfig.node16.json'),
    JSON.stringify({
      compilerOptions: {
        ...TSCONFIG_BASE,
        module: 'node16',
        moduleResolution: 'node16',
        outDir: 'out-node16',
      },
      files: ['consumer.mts', 'consumer.cts'],
    }),
  );
  writeFileSync(
    join(consumer, 'tsconfig.bundler.json'),
    JSON.stringify({
      compilerOptions: { ...TSCONFIG_BASE, module: 'preserve', moduleResolution: 'bundler', noEmit: true },
      files: ['consumer.ts'],
    }),
  );

  const platformDirReal = realpathSync(join(consumer, 'node_modules', `${binaryName}-${key}`));
  const smoke = async (nodeBin, file, label) => {
    const { stdout } = await run(nodeBin, [file], { cwd: consumer, env: runEnv, timeout: RUN_TIMEOUT_MS });
    const line = JSON.parse(stdout.trim().split('\n').pop());
    const fromPlatform = line.addons.length === 1 && realpathSync(line.addons[0]).startsWith(platformDirReal);
    if (!fromPlatform) fail(`${label}: the addon was not loaded from ${binaryName}-${key}: ${line.addons}`);
    ok(
      `${label}: one chat completion via ${binaryName}-${key} (${JSON.stringify(line.content.slice(0, 40))})`,
    );
  };
  const tsc = join(consumer, 'node_modules', 'typescript', 'bin', 'tsc');
  const consumers = async (nodeBin, label) => {
    await smoke(nodeBin, 'esm.mjs', `${label} ESM import { OpenAI } from 'aiwire'`);
    await smoke(nodeBin, 'cjs.cjs', `${label} CJS require('aiwire')`);
    for (const out of ['consumer.mjs', 'consumer.cjs']) {
      const { stdout } = await run(nodeBin, [join('out-node16', out)], {
        cwd: consumer,
        env: runEnv,
        timeout: RUN_TIMEOUT_MS,
      });
      const result = JSON.parse(stdout.trim().split('\n').pop());
      if (!result.text || !result.streamed || result.status !== 200 || result.errorStatus !== 404) {
        fail(`${label} compiled ${out} printed ${stdout}`);
      }
    }
    ok(`${label} compiled TypeScript consumer ran as ESM and CJS (chat, stream, withResponse, 404)`);
  };

  await run(process.execPath, [tsc, '-p', 'tsconfig.node16.json'], { cwd: consumer, env });
  ok('TypeScript consumer type-checks (strict, no skipLibCheck) with moduleResolution node16 (.mts + .cts)');
  await run(process.execPath, [tsc, '-p', 'tsconfig.bundler.json'], { cwd: consumer, env });
  ok('TypeScript consumer type-checks (strict, no skipLibCheck) with moduleResolution bundler');
  const noTypes = { dir: join(tmp, 'no-node-types'), rootTarball: rootPack.path, tsVersion, env, npm: NPM };
  await checkWithoutNodeTypes({ ...noTypes, run, ok, fail });
  await consumers(process.execPath, `node ${process.version}`);
  await checkClassNames({
    consumer,
    nodeBin: process.execPath,
    env: runEnv,
    run,
    ok,
    fail,
    timeout: RUN_TIMEOUT_MS,
  });

  // exactly what a user types; npm_config_yes=false stops npx from fetching anything if the local bin is missing
  const npxEnv = { ...runEnv, npm_config_yes: 'false' };
  const help = await run(NPX, ['aiwire', '--help'], { cwd: consumer, env: npxEnv, timeout: RUN_TIMEOUT_MS });
  if (!help.stdout.includes('Usage: aiwire')) fail(`npx aiwire --help printed: ${help.stdout}${help.stderr}`);
  const ver = await run(NPX, ['aiwire', '--version'], {
    cwd: consumer,
    env: npxEnv,
    timeout: RUN_TIMEOUT_MS,
  });
  if (ver.stdout.trim() !== version) fail(`npx aiwire --version printed ${ver.stdout.trim()}`);
  ok(`npx aiwire --help exits 0; --version prints ${version}`);

  // 4. --omit=optional: the loader's error -----------------------------------------------------------
  const omit = join(tmp, 'omit-optional');
  mkdirSync(omit);
  writeFileSync(join(omit, 'package.json'), '{"name":"aiwire-omit","version":"0.0.0","private":true}\n');
  await run(
    NPM,
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      '--omit=optional',
      rootPack.path,
    ],
    { cwd: omit, env },
  );
  if (existsSync(join(omit, 'node_modules', `${binaryName}-${key}`)))
    fail('--omit=optional installed the binary');
  writeFileSync(join(omit, 'esm.mjs'), SMOKE_ESM);
  const omitted = await run(process.execPath, ['esm.mjs'], {
    cwd: omit,
    env: runEnv,
    timeout: RUN_TIMEOUT_MS,
    allowFail: true,
  });
  const wanted = [`platform ${key}`, `'${binaryName}-${key}'`, '--omit=optional', 'npm run build:native'];
  const missing = wanted.filter((w) => !omitted.stderr.includes(w));
  if (omitted.code === 0 || missing.length) {
    fail(`without the platform package: exit ${omitted.code}, message lacks ${missing}:\n${omitted.stderr}`);
  }
  ok(`--omit=optional install: new OpenAI() throws the loader's error naming ${wanted.join(', ')}`);

  // 5. The oldest Node that engines.node admits --------------------------------------------------
  const minimum = /^>=\s*(\d+\.\d+\.\d+)$/.exec(rootManifest.engines?.node ?? '')?.[1];
  if (!minimum) fail(`engines.node should read ">=x.y.z", is ${rootManifest.engines?.node}`);
  if (`v${minimum}` === process.version) {
    ok(`this is already the oldest supported Node (${minimum})`);
  } else {
    // The registry's node-<os>-<arch> packages hold the official (glibc) builds; few exist outside linux-x64.
    const nodePkg = `node-${IS_WIN ? 'win' : process.platform}-${process.arch}`;
    const oldDir = join(tmp, 'oldest-node');
    mkdirSync(oldDir);
    writeFileSync(join(oldDir, 'package.json'), '{"name":"oldest-node","version":"0.0.0","private":true}\n');
    const install = key.includes('musl')
      ? { code: 1, stderr: 'E404 (official builds are glibc)' }
      : await run(
          NPM,
          [
            'install',
            '--no-audit',
            '--no-fund',
            '--prefer-offline',
            '--loglevel=error',
            `${nodePkg}@${minimum}`,
          ],
          { cwd: oldDir, env, allowFail: true },
        );
    if (install.code !== 0 && !/E404|ETARGET|No match found/.test(install.stderr)) {
      fail(`installing ${nodePkg}@${minimum} failed:\n${install.stderr}`);
    }
    const oldNode = join(oldDir, 'node_modules', nodePkg, 'bin', IS_WIN ? 'node.exe' : 'node');
    if (install.code !== 0 || !existsSync(oldNode)) {
      log(`skip: the registry has no ${nodePkg}@${minimum}; consumers not run on Node ${minimum} here`);
    } else {
      const { stdout } = await run(oldNode, ['--version'], { env });
      if (stdout.trim() !== `v${minimum}`) fail(`${nodePkg}@${minimum} runs as ${stdout.trim()}`);
      await consumers(oldNode, `node v${minimum} (engines.node minimum)`);
      const oldHelp = await run(oldNode, [join(installedRoot, 'dist', 'cli.js'), '--help'], {
        cwd: consumer,
        env,
      });
      if (!oldHelp.stdout.includes('Usage: aiwire')) fail('aiwire --help failed on the oldest Node');
      ok(`node v${minimum}: aiwire --help exits 0`);
    }
  }

  await mock.close();
  mock = undefined;

  // 6. publint and arethetypeswrong ----------------------------------------------------------------
  const publint = devBin('publint', 'publint');
  for (const tgz of [rootPack.path, platformPack.path]) {
    const res = await run(process.execPath, [publint, 'run', tgz, '--level', 'suggestion'], {
      cwd: tmp,
      env,
    });
    const report = res.stdout
      .trim()
      .split('\n')
      .filter((l) => !/^(Running publint|Unpacking tarball|Packing files|Linting)/.test(l))
      .join('\n    ');
    ok(`publint ${relative(tarballs, tgz)}: no errors\n    ${report}`);
  }
  const attw = devBin('@arethetypeswrong/cli', 'attw');
  const types = await run(
    process.execPath,
    [attw, rootPack.path, '--format', 'ascii', '--no-color', '--no-emoji'],
    {
      cwd: tmp,
      env,
    },
  );
  const verdict = types.stdout.includes('No problems found') ? 'No problems found' : types.stdout.trim();
  const resolutions = types.stdout
    .split('\n')
    .filter((l) => /^(node10|node16|bundler)/.test(l))
    .map((l) => l.trim());
  // attw cannot resolve a wildcard subpath (`aiwire/resources/*`); the TypeScript consumers above
  // import one (`aiwire/resources/chat/completions`) under node16 (ESM and CJS) and bundler.
  if (!resolutions.length || resolutions.some((l) => !/: (OK\b|\(wildcard\)$)/.test(l))) {
    fail(`attw:\n${types.stdout}`);
  }
  ok(
    `@arethetypeswrong/cli ${rootPack.filename}: ${verdict} (${resolutions.length} entrypoint resolutions OK)`,
  );

  // Sizes -------------------------------------------------------------------------------------------
  const nodeSize = statSync(builtNode).size;
  let stripped = '';
  if (process.platform === 'linux') {
    const file = await run('file', ['-b', builtNode], { env, allowFail: true });
    if (file.code === 0) {
      stripped = /not stripped/.test(file.stdout)
        ? ' (NOT stripped)'
        : / stripped/.test(file.stdout)
          ? ' (stripped)'
          : '';
    }
  }
  log(`sizes: ${nodeFile} ${mib(nodeSize)}${stripped}`);
  log(`       ${rootPack.filename} ${kib(rootPack.size)} packed, ${kib(rootPack.unpackedSize)} unpacked`);
  log(
    `       ${platformPack.filename} ${mib(platformPack.size)} packed, ${mib(platformPack.unpackedSize)} unpacked`,
  );
}

function listFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else out.push(full);
  }
  return out;
}

function cleanup() {
  if (mock) {
    mock.close().catch(() => {});
    mock = undefined;
  }
  if (!tmp) return;
  if (KEEP) {
    log(`kept ${tmp}`);
    return;
  }
  try {
    rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  } catch (e) {
    log(`could not remove ${tmp}: ${e.message}`);
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const child of children) killTree(child);
    cleanup();
    process.exit(130);
  });
}

try {
  await main();
  cleanup();
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.stdout.write(`pack:check: ${passed} passed, 0 failed\n`);
} catch (e) {
  process.stdout.write(`\n[pack:check] FAILED: ${e.message}\n`);
  for (const child of children) killTree(child);
  cleanup();
  process.stdout.write(`pack:check: ${passed} passed, 1 failed\n`);
  process.exitCode = 1;
}
