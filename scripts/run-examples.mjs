#!/usr/bin/env node
/**
 * `npm run examples`: type-checks examples/<provider>/*.ts (EXAMPLE_DIRS) under --strict, compiles them, and
 * runs each one against a mock: the bundled one (`startMockServer()` from dist/testing) or Prism serving
 * specs/openai.openapi.yaml, as the example's header says (`// mock: aiwire`, `// mock: prism`,
 * `// mock: aiwire (azure)` for an AzureOpenAI example, which gets AZURE_OPENAI_ENDPOINT instead of
 * OPENAI_BASE_URL; `// mock: aiwire (codegen)` for a Codegen example: CODEGEN_BASE_URL is the mock's
 * /codegen, CODEGEN_ORG_ID its organization; examples/aivillage get AIVILLAGE_API_URL: DIR_ENV). Prints one line per example (name, ok/FAIL, ms), then `N passed, M failed`; exits 1
 * when anything failed (a type error counts as a failure of `tsc`).
 *
 * Needs `npm run build` first (the examples import 'aiwire', i.e. dist/). The compiled examples go to a
 * temporary folder whose node_modules/aiwire links to this checkout, so they resolve 'aiwire' exactly as
 * an installed package; they are compiled by the repo's own TypeScript (no extra runner dependency).
 *
 * Options: example names to run only those (e.g. `npm run examples -- chat tools`);
 * EXAMPLE_TIMEOUT_MS (default 30000) per example; EXAMPLE_JOBS (default 2) examples at a time;
 * EXAMPLE_VERBOSE=1 shows every example's output, not only the failures'.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The example folders (one tsconfig each); an example's name is `<folder>/<file>` outside openai/. */
const EXAMPLE_DIRS = ['openai', 'codegen', 'aivillage'];
/** Extra environment of a folder's examples, given the bundled mock's URL. */
const DIR_ENV = {
  aivillage: (mockUrl) => ({
    AIVILLAGE_API_KEY: 'av-aiwire-examples',
    AIVILLAGE_API_URL: `${mockUrl}/aivillage/v1`,
  }),
};
const TIMEOUT_MS = Number(process.env.EXAMPLE_TIMEOUT_MS ?? 30_000);
const JOBS = Math.max(1, Number(process.env.EXAMPLE_JOBS ?? 2));
const PRISM_TIMEOUT_MS = 90_000;
/** Lines of a failed example's output shown under its line (every example's with EXAMPLE_VERBOSE=1). */
const TAIL_LINES = 25;
const VERBOSE = process.env.EXAMPLE_VERBOSE === '1';

const started = Date.now();
const only = process.argv.slice(2).map((a) => a.replace(/\.ts$/, ''));

/** Children to kill if this process exits early. */
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

function fail(message) {
  console.error(`run-examples: ${message}`);
  process.exit(2);
}

/** Examples and the mock each one declares in its first lines. */
function listExamples() {
  return EXAMPLE_DIRS.flatMap((dir) =>
    readdirSync(path.join(ROOT, 'examples', dir))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .map((f) => f.slice(0, -3))
      .sort()
      .map((file) => ({ dir, file, name: dir === 'openai' ? file : `${dir}/${file}` }))
      .filter(({ name, file }) => only.length === 0 || only.includes(name) || only.includes(file))
      .map(({ dir, file, name }) => {
        const head = readFileSync(path.join(ROOT, 'examples', dir, `${file}.ts`), 'utf8')
          .split('\n', 5)
          .join('\n');
        const m = /^\/\/ mock: (aiwire|prism)( \((azure|codegen)\))?\s*$/m.exec(head);
        if (!m) fail(`examples/${dir}/${file}.ts: no "// mock: aiwire" or "// mock: prism" header line`);
        return { name, dir, file, mock: m[1], azure: m[3] === 'azure', codegen: m[3] === 'codegen' };
      }),
  );
}

/** Runs a command; resolves to its exit code, output and time. Killed (SIGKILL) after `timeoutMs`. */
function run(command, args, { env, cwd = ROOT, timeoutMs } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let output = '';
    child.stdout.on('data', (b) => {
      output += b;
    });
    child.stderr.on('data', (b) => {
      output += b;
    });
    let timedOut = false;
    const timer =
      timeoutMs &&
      setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      children.delete(child);
      resolve({ code: timedOut ? 'timeout' : (code ?? signal), output, ms: Date.now() - t0 });
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts Prism on the vendored OpenAI spec (see __test__/helpers/prism.ts); resolves once it answers. */
async function startPrism() {
  const bin = path.join(ROOT, 'node_modules', '.bin', 'prism');
  if (!existsSync(bin)) fail('Prism not found: run `npm ci` (devDependency @stoplight/prism-cli)');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Exit when this process is gone, so a killed runner leaves no 800 MB orphan.
  const watchdog =
    'const p=process.ppid;setInterval(()=>{if(process.ppid!==p)process.exit(0)},1000).unref();';
  const args = [
    `--import=data:text/javascript,${encodeURIComponent(watchdog)}`,
    realpathSync(bin),
    'mock',
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    path.join(ROOT, 'specs', 'openai.openapi.yaml'),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  children.add(child);
  let log = '';
  child.stdout.on('data', (b) => {
    log = (log + b).slice(-4000);
  });
  child.stderr.on('data', (b) => {
    log = (log + b).slice(-4000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
    children.delete(child);
  });
  const deadline = Date.now() + PRISM_TIMEOUT_MS;
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`${url}/models`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      return {
        url,
        close: () =>
          new Promise((resolve) => {
            if (exited) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
          }),
      };
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`Prism did not start. Last output:\n${log}`);
}

/** A folder where the compiled examples resolve 'aiwire' to this checkout, as an installed package would. */
function makeOutDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aiwire-examples-'));
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(ROOT, path.join(dir, 'node_modules', 'aiwire'), 'dir');
  return dir;
}

async function main() {
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js']) {
    if (!existsSync(path.join(ROOT, f))) fail(`${f} is missing: run \`npm run build\` first`);
  }
  const examples = listExamples();
  if (examples.length === 0) fail(`no example matches ${only.join(', ')}`);
  const outDir = makeOutDir();
  let prism;
  let mock;
  try {
    // Prism takes ~15 s to load the spec: start it while TypeScript compiles.
    const prismStarting = examples.some((e) => e.mock === 'prism')
      ? startPrism()
      : Promise.resolve(undefined);
    prismStarting.catch(() => {});
    const { startMockServer } = await import(
      pathToFileURL(path.join(ROOT, 'dist', 'testing', 'index.js')).href
    );
    mock = await startMockServer();

    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const dirs = [...new Set(examples.map((e) => e.dir))];
    const compiles = await Promise.all(
      dirs.map((dir) =>
        run(process.execPath, [
          tsc,
          '-p',
          path.join(ROOT, 'examples', dir),
          '--noEmit',
          'false',
          '--rootDir',
          path.join(ROOT, 'examples', dir),
          '--outDir',
          path.join(outDir, dir),
        ]),
      ),
    );
    const compiled = {
      code: compiles.every((c) => c.code === 0) ? 0 : 1,
      ms: Math.max(...compiles.map((c) => c.ms)),
      output: compiles.map((c) => c.output).join(''),
    };
    const results = [];
    const report = (name, ok, ms, output) => {
      results.push(ok);
      console.log(`${name.padEnd(24)} ${ok ? 'ok  ' : 'FAIL'} ${String(ms).padStart(6)} ms`);
      if ((!ok || VERBOSE) && output.trim()) {
        const lines = output.trimEnd().split('\n');
        console.log(
          lines
            .slice(-TAIL_LINES)
            .map((l) => `    ${l}`)
            .join('\n'),
        );
      }
    };
    report('tsc --strict', compiled.code === 0, compiled.ms, compiled.output);

    prism = await prismStarting.catch((err) => {
      report('prism (start)', false, 0, String(err?.message ?? err));
      return undefined;
    });
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const queue = [...examples];
    const worker = async () => {
      for (let ex = queue.shift(); ex; ex = queue.shift()) {
        const file = path.join(outDir, ex.dir, `${ex.file}.js`);
        if (!existsSync(file)) {
          report(ex.name, false, 0, 'not compiled (see tsc above)');
          continue;
        }
        if (ex.mock === 'prism' && !prism) {
          report(ex.name, false, 0, 'Prism did not start');
          continue;
        }
        const base = ex.mock === 'prism' ? prism.url : mock.url;
        const env = {
          ...process.env,
          OPENAI_API_KEY: 'sk-aiwire-examples',
          OPENAI_WEBHOOK_SECRET: secret,
          OPENAI_LOG: 'warn',
        };
        if (DIR_ENV[ex.dir]) {
          Object.assign(env, DIR_ENV[ex.dir](mock.url));
        } else if (ex.codegen) {
          Object.assign(env, {
            CODEGEN_API_TOKEN: 'cg-aiwire-examples',
            CODEGEN_BASE_URL: `${mock.url}/codegen`,
            CODEGEN_ORG_ID: '323',
            CODEGEN_LOG: 'warn',
          });
        } else if (ex.azure) {
          delete env.OPENAI_BASE_URL;
          Object.assign(env, {
            AZURE_OPENAI_ENDPOINT: base,
            AZURE_OPENAI_API_KEY: 'azure-aiwire-examples',
            OPENAI_API_VERSION: '2024-10-21',
          });
        } else {
          env.OPENAI_BASE_URL = base;
        }
        const r = await run(process.execPath, [file], { env, timeoutMs: TIMEOUT_MS });
        const why = r.code === 'timeout' ? `\n(timed out after ${TIMEOUT_MS} ms)` : '';
        report(ex.name, r.code === 0, r.ms, r.output + why);
      }
    };
    await Promise.all(Array.from({ length: Math.min(JOBS, examples.length) }, worker));

    const failed = results.filter((ok) => !ok).length;
    console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
    console.log(`${results.length - failed} passed, ${failed} failed`);
    process.exitCode = failed > 0 ? 1 : 0;
  } finally {
    await mock?.close();
    await prism?.close();
    rmSync(outDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
