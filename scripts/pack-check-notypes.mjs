/**
 * Part of `npm run pack:check` (called by scripts/pack-check.mjs after its TypeScript consumers): the
 * packed typings type-check in a project WITHOUT @types/node, as openai-node's do. The root tarball
 * alone (no platform package: only types are checked) and TypeScript go into a fresh project that
 * has no @types/node anywhere; a `strict` program using `aiwire`, `aiwire/anthropic`,
 * `aiwire/replicate`, `aiwire/codegen`, `aiwire/fetch` and `aiwire/resources/*` is type-checked (`skipLibCheck: false`,
 * `types: []`) under node16 (.mts and .cts: the .d.ts and .d.cts files) and bundler resolution.
 *
 * lib is ["ES2022", "DOM"], not ES2022 alone: the public API is the fetch API's (`Response`,
 * `Headers`, `AbortSignal`, `ReadableStream`, `Blob`/`File`, `RequestInit`), whose only global
 * declarations are lib.dom's or @types/node's. openai-node 6 makes the same assumption (its
 * builtin-types alias the global `Request`/`Response`/`RequestInit`: 72 errors with lib ES2022 alone
 * and no @types/node), and so would `console` in the program itself.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PROGRAM = `import OpenAI, { toFile } from 'aiwire';
import Anthropic from 'aiwire/anthropic';
import Replicate from 'aiwire/replicate';
import Codegen from 'aiwire/codegen';
import { fetch } from 'aiwire/fetch';
import type { ChatCompletionTool } from 'aiwire/resources/chat/completions';

export async function main(): Promise<void> {
  const client = new OpenAI({ apiKey: 'k' });
  const completion = await client.chat.completions.create({ model: 'm', messages: [] });
  const text: string | null = completion.choices[0]?.message.content ?? null;
  const stream = await client.chat.completions.create({ model: 'm', messages: [], stream: true });
  let streamed = '';
  for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
  const file = await toFile(new Uint8Array([104, 105]), 'hi.txt', { type: 'text/plain' });
  const uploaded = await client.files.create({ file, purpose: 'assistants' });
  const tools: ChatCompletionTool[] = [];
  const anthropic = new Anthropic({ apiKey: 'k' });
  const messages = anthropic.messages.stream({
    model: 'claude-sonnet-4-6',
    max_tokens: 16,
    messages: [{ role: 'user', content: 'hi' }],
  });
  for await (const event of messages) streamed += event.type;
  const message = await messages.finalMessage();
  const output: unknown = await new Replicate({ auth: 'k' }).run('owner/model', { input: { prompt: 'hi' } });
  const codegen = new Codegen({ apiToken: 'k', orgId: 1 });
  const run = await codegen.agentRuns.waitForCompletion((await codegen.agentRuns.create({ prompt: 'hi' })).id);
  const res = await fetch('https://example.com/', { method: 'POST', body: 'x' });
  const body: string = await res.text();
  console.log(text, streamed, uploaded.id, tools.length, message.id, output, run.status, res.status, body);
}
`;

const BASE = {
  strict: true,
  target: 'ES2022',
  lib: ['ES2022', 'DOM'],
  types: [],
  skipLibCheck: false,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noEmit: true,
};

/**
 * @param {{ dir: string, rootTarball: string, tsVersion: string, env: NodeJS.ProcessEnv, npm: string,
 *   run: Function, ok: (message: string) => void, fail: (message: string) => never }} ctx
 */
export async function checkWithoutNodeTypes({ dir, rootTarball, tsVersion, env, npm, run, ok, fail }) {
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    '{"name":"aiwire-no-node-types","version":"0.0.0","private":true}\n',
  );
  const flags = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', '--omit=optional'];
  await run(npm, ['install', ...flags, rootTarball, `typescript@${tsVersion}`], { cwd: dir, env });
  if (existsSync(join(dir, 'node_modules', '@types', 'node'))) fail('@types/node got installed');
  for (const file of ['consumer.mts', 'consumer.cts', 'consumer.ts']) writeFileSync(join(dir, file), PROGRAM);
  const configs = {
    node16: { module: 'node16', moduleResolution: 'node16', files: ['consumer.mts', 'consumer.cts'] },
    bundler: { module: 'preserve', moduleResolution: 'bundler', files: ['consumer.ts'] },
  };
  const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const [name, { files, ...options }] of Object.entries(configs)) {
    const config = `tsconfig.${name}.json`;
    writeFileSync(join(dir, config), JSON.stringify({ compilerOptions: { ...BASE, ...options }, files }));
    const res = await run(process.execPath, [tsc, '-p', config], { cwd: dir, env, allowFail: true });
    if (res.code !== 0) fail(`without @types/node, tsc -p ${config} failed:\n${res.stdout}${res.stderr}`);
  }
  ok(
    'TypeScript consumer without @types/node type-checks (strict, no skipLibCheck, types [], lib ES2022 + DOM) ' +
      'with moduleResolution node16 (.mts + .cts) and bundler',
  );
}
