#!/usr/bin/env node
/**
 * npm run cold-start: reports (does not assert) the cold start of aiwire beside openai-node.
 *
 * Cold start = a new `node` process that imports the client library, constructs a client and
 * completes its first chat completion against the bundled mock server (a separate process on
 * 127.0.0.1). Both libraries are installed from packages into a temporary folder under
 * os.tmpdir(): aiwire from `npm pack` of this checkout (root + this platform's package, after
 * `npm run build`), openai-node from the registry (default openai@6.49.0, the newest release line
 * that supports Node 20; `--openai=<version>` to change). Timed with hyperfine (20 runs, 3 warm-ups,
 * no shell) when it is installed, else with 20 sequential spawns. Also prints a per-phase breakdown
 * (bootstrap, import, client construction incl. addon load, first request), median of 10 runs.
 *
 *   node scripts/cold-start.mjs [--runs=20] [--openai=6.49.0] [--keep]
 */
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const RUNS = Number(arg('runs', '20'));
const OPENAI = arg('openai', '6.49.0');
const KEEP = process.argv.includes('--keep');
const TARGET_MS = 200;
const IS_WIN = process.platform === 'win32';
const NPM = IS_WIN ? 'npm.cmd' : 'npm';

function run(command, args, opts = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: IS_WIN && /\.cmd$/.test(command),
      ...opts,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 5 * 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise({ stdout, stderr });
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${stderr.slice(-3000)}`));
    });
  });
}

function platformKey() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    let musl = false;
    try {
      musl = readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
    } catch {
      // assume glibc
    }
    return `linux-${arch}-${musl ? 'musl' : 'gnu'}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

const REQUEST = `{
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say this is a test' }],
}`;

const PROGRAMS = {
  'aiwire.mjs': `import { OpenAI } from 'aiwire';
const client = new OpenAI();
const completion = await client.chat.completions.create(${REQUEST});
if (!completion.choices[0].message.content) process.exit(1);
`,
  'openai.mjs': `import OpenAI from 'openai';
const client = new OpenAI();
const completion = await client.chat.completions.create(${REQUEST});
if (!completion.choices[0].message.content) process.exit(1);
`,
  'aiwire-phases.mjs': `const t0 = performance.now();
const { OpenAI } = await import('aiwire');
const t1 = performance.now();
const client = new OpenAI();
const t2 = performance.now();
await client.chat.completions.create(${REQUEST});
const t3 = performance.now();
console.log(JSON.stringify({ bootstrap: t0, import: t1 - t0, client: t2 - t1, request: t3 - t2, total: t3 }));
`,
  'openai-phases.mjs': `const t0 = performance.now();
const { default: OpenAI } = await import('openai');
const t1 = performance.now();
const client = new OpenAI();
const t2 = performance.now();
await client.chat.completions.create(${REQUEST});
const t3 = performance.now();
console.log(JSON.stringify({ bootstrap: t0, import: t1 - t0, client: t2 - t1, request: t3 - t2, total: t3 }));
`,
};

async function startMock(cli) {
  const child = spawn(process.execPath, [cli, 'mock', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  for await (const data of child.stdout) {
    out += data;
    const match = /listening on (http:\/\/\S+)/.exec(out);
    if (match) return { url: match[1], close: () => child.kill('SIGTERM') };
  }
  throw new Error(`mock server did not start: ${out}`);
}

async function hasHyperfine() {
  try {
    await run('hyperfine', ['--version']);
    return true;
  } catch {
    return false;
  }
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, samples.length - 1));
  return { mean, sd, min: sorted[0], max: sorted.at(-1), median: sorted[Math.floor(sorted.length / 2)] };
}

async function spawnTimes(command, args, env, runs) {
  const samples = [];
  for (let i = 0; i < runs + 3; i++) {
    const t = process.hrtime.bigint();
    await run(command, args, { env });
    if (i >= 3) samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return samples;
}

async function main() {
  const key = platformKey();
  const nodeFile = `aiwire.${key}.node`;
  if (!existsSync(join(repo, 'src', 'native', nodeFile)) || !existsSync(join(repo, 'dist', 'index.js'))) {
    throw new Error('run `npm run build` first');
  }
  const tmp = mkdtempSync(join(tmpdir(), 'aiwire-cold-start-'));
  let mock;
  try {
    // aiwire from its packages (no optionalDependencies needed: the platform tarball is installed directly)
    const platformStage = join(tmp, 'platform');
    cpSync(join(repo, 'npm', key), platformStage, { recursive: true });
    copyFileSync(join(repo, 'src', 'native', nodeFile), join(platformStage, nodeFile));
    const tarballs = join(tmp, 'tarballs');
    mkdirSync(tarballs);
    const pack = async (cwd) => {
      const { stdout } = await run(
        NPM,
        ['pack', '--json', '--ignore-scripts', '--pack-destination', tarballs],
        {
          cwd,
        },
      );
      return join(tarballs, JSON.parse(stdout.slice(stdout.indexOf('[')))[0].filename);
    };
    const rootTgz = await pack(repo);
    const platformTgz = await pack(platformStage);
    const apps = { aiwire: join(tmp, 'aiwire-app'), openai: join(tmp, 'openai-app') };
    for (const dir of Object.values(apps)) {
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), '{"name":"app","version":"0.0.0","private":true}\n');
    }
    const npmInstall = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
    await run(NPM, [...npmInstall, rootTgz, platformTgz], { cwd: apps.aiwire });
    await run(NPM, [...npmInstall, `openai@${OPENAI}`], { cwd: apps.openai });
    const openaiVersion = JSON.parse(
      readFileSync(join(apps.openai, 'node_modules', 'openai', 'package.json'), 'utf8'),
    ).version;
    for (const [file, source] of Object.entries(PROGRAMS)) {
      writeFileSync(join(file.startsWith('aiwire') ? apps.aiwire : apps.openai, file), source);
    }

    mock = await startMock(join(apps.aiwire, 'node_modules', 'aiwire', 'dist', 'cli.js'));
    const env = { ...process.env, OPENAI_API_KEY: 'sk-cold-start', OPENAI_BASE_URL: `${mock.url}/v1` };
    delete env.NODE_OPTIONS;
    delete env.AIWIRE_NATIVE_PATH;

    const node = process.execPath;
    const cases = [
      {
        name: `aiwire ${JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version}`,
        args: [join(apps.aiwire, 'aiwire.mjs')],
      },
      { name: `openai-node ${openaiVersion}`, args: [join(apps.openai, 'openai.mjs')] },
      { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
    ];
    const results = [];
    if (await hasHyperfine()) {
      const json = join(tmp, 'hyperfine.json');
      const commands = cases.map((c) =>
        [node, ...c.args].map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' '),
      );
      const names = cases.flatMap((c) => ['--command-name', c.name]);
      await run(
        'hyperfine',
        [
          '-N',
          '--runs',
          String(RUNS),
          '--warmup',
          '3',
          '--export-json',
          json,
          '--style',
          'none',
          ...names,
          ...commands,
        ],
        { env, timeout: 10 * 60_000 },
      );
      const data = JSON.parse(readFileSync(json, 'utf8'));
      for (const [i, r] of data.results.entries()) {
        results.push({ name: cases[i].name, ...stats(r.times.map((t) => t * 1000)) });
      }
      console.log(`hyperfine ${RUNS} runs (+3 warm-ups) each, -N (no shell), node ${process.version}:`);
    } else {
      for (const c of cases)
        results.push({ name: c.name, ...stats(await spawnTimes(node, c.args, env, RUNS)) });
      console.log(
        `hyperfine not found: ${RUNS} sequential spawns (+3 warm-ups) each, node ${process.version}:`,
      );
    }
    const f = (ms) => `${ms.toFixed(1).padStart(6)} ms`;
    for (const r of results) {
      console.log(
        `  ${r.name.padEnd(24)} mean ${f(r.mean)} ± ${r.sd.toFixed(1).padStart(4)}  median ${f(r.median)}  min ${f(r.min)}  max ${f(r.max)}`,
      );
    }

    // Where the time goes: per-phase, median of 10 runs each.
    console.log('phases (median of 10 runs; ms since process start for bootstrap):');
    for (const [label, dir, file] of [
      ['aiwire', apps.aiwire, 'aiwire-phases.mjs'],
      ['openai-node', apps.openai, 'openai-phases.mjs'],
    ]) {
      const rows = [];
      for (let i = 0; i < 10; i++) {
        const { stdout } = await run(node, [join(dir, file)], { env });
        rows.push(JSON.parse(stdout.trim()));
      }
      const med = (k) => stats(rows.map((r) => r[k])).median;
      console.log(
        `  ${label.padEnd(12)} bootstrap ${f(med('bootstrap'))}  import ${f(med('import'))}  ` +
          `new client ${f(med('client'))}  first request ${f(med('request'))}  total ${f(med('total'))}`,
      );
    }
    const [aiwire, openai] = results;
    console.log(
      `aiwire cold start ${aiwire.mean.toFixed(1)} ms: ${aiwire.mean <= TARGET_MS ? 'within' : 'ABOVE'} the ` +
        `${TARGET_MS} ms target, ${aiwire.mean < openai.mean ? 'below' : 'NOT below'} openai-node ` +
        `(${openai.mean.toFixed(1)} ms)`,
    );
  } finally {
    mock?.close();
    if (KEEP) console.log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
