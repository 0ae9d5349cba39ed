/**
 * Part of `npm run pack:check` (scripts/pack-check.mjs): the consumer programs written into the
 * temporary project that installs the tarballs: an ESM and a CJS smoke test (one chat completion,
 * aiwire/fetch, aiwire/batch; each prints the .node files it loaded), a TypeScript program as an
 * openai-node user writes it (chat, stream, withResponse, a 404), and the compiler options it is
 * type-checked with.
 */

/** ESM consumer: `import { OpenAI } from 'aiwire'`, fetch and batch against the mock. */
export const SMOKE_ESM = `import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import OpenAIDefault, { APIError, OpenAI } from 'aiwire';
import aiwireFetch, { createFetch, fetch } from 'aiwire/fetch';
import { runBatch } from 'aiwire/batch';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

assert.equal(OpenAIDefault, OpenAI);
assert.equal(aiwireFetch, fetch);
assert.equal(typeof createFetch, 'function');
assert.equal(typeof APIError, 'function');
const client = new OpenAI(); // OPENAI_API_KEY, OPENAI_BASE_URL from the environment
const completion = await client.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say this is a test' }],
});
assert.equal(completion.object, 'chat.completion');
const content = completion.choices[0].message.content;
assert.ok(typeof content === 'string' && content.length > 0);
// aiwire/fetch through the same engine binary: the mock's model list.
const listed = await fetch(\`\${process.env.OPENAI_BASE_URL}/models\`, {
  headers: { authorization: \`Bearer \${process.env.OPENAI_API_KEY}\` },
});
assert.equal(listed.status, 200);
assert.equal((await listed.json()).object, 'list');
// aiwire/batch: two lines through the same engine into a JSONL output.
const batchDir = mkdtempSync(join(tmpdir(), 'aiwire-pack-batch-'));
const line = (id) => ({ custom_id: id, method: 'POST', url: '/v1/chat/completions',
  body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: id }] } });
const summary = await runBatch({ input: [line('a'), line('b')], output: join(batchDir, 'out.jsonl') });
assert.equal(summary.succeeded, 2);
assert.deepEqual(readFileSync(join(batchDir, 'out.jsonl'), 'utf8').trim().split('\\n').map((l) => JSON.parse(l).custom_id).sort(), ['a', 'b']);
rmSync(batchDir, { recursive: true, force: true });
const addons = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.endsWith('.node'));
console.log(JSON.stringify({ format: 'esm', node: process.version, content, addons }));
`;

/** CJS consumer: `require('aiwire')`, aiwire/testing, aiwire/fetch, aiwire/batch. */
export const SMOKE_CJS = `'use strict';
const assert = require('node:assert/strict');
const aiwire = require('aiwire');
const { startMockServer } = require('aiwire/testing');
const { fetch: aiwireFetch, createFetch } = require('aiwire/fetch');
const { runBatch } = require('aiwire/batch');

assert.equal(typeof startMockServer, 'function');
assert.equal(typeof aiwireFetch, 'function');
assert.equal(typeof createFetch, 'function');
assert.equal(typeof runBatch, 'function');
assert.equal(aiwire.default, aiwire.OpenAI);
async function main() {
  const client = new aiwire.OpenAI();
  const completion = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Say this is a test' }],
  });
  assert.equal(completion.object, 'chat.completion');
  const content = completion.choices[0].message.content;
  assert.ok(typeof content === 'string' && content.length > 0);
  const addons = Object.keys(require.cache).filter((f) => f.endsWith('.node'));
  console.log(JSON.stringify({ format: 'cjs', node: process.version, content, addons }));
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
`;

/** A TypeScript program as an openai-node user writes it: chat, stream, error handling. */
export const CONSUMER_TS = `import OpenAI from 'aiwire';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam } from 'aiwire';
import type { ChatCompletionTool } from 'aiwire/resources/chat/completions';

const client = new OpenAI(); // reads OPENAI_API_KEY and OPENAI_BASE_URL

async function main(): Promise<void> {
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Say this is a test' },
  ];

  const tools: ChatCompletionTool[] = [];
  const typed: OpenAI.Chat.ChatCompletionMessageParam = { role: 'user', content: 'typed via the namespace' };
  const completion: ChatCompletion = await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages,
    temperature: 0,
    ...(tools.length > 0 ? { tools } : {}),
  });
  if (typed.role !== 'user') throw new Error('namespace type');
  const text: string | null = completion.choices[0]?.message.content ?? null;

  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
  let streamed = '';
  for await (const chunk of stream) {
    const part: ChatCompletionChunk = chunk;
    streamed += part.choices[0]?.delta?.content ?? '';
  }

  const { data, response } = await client.chat.completions
    .create({ model: 'gpt-4o-mini', messages })
    .withResponse();
  const status: number = response.status;

  let errorStatus: number | undefined;
  try {
    await client.models.retrieve('no-such-model');
  } catch (err) {
    if (err instanceof OpenAI.NotFoundError) {
      errorStatus = err.status;
    } else if (err instanceof OpenAI.APIError) {
      console.error(err.status, err.name, err.message, err.requestID);
      throw err;
    } else {
      throw err;
    }
  }

  console.log(JSON.stringify({ text, streamed, id: data.id, status, errorStatus }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
`;

/** Compiler options of the TypeScript consumers: strict, and aiwire's own .d.ts files checked. */
export const TSCONFIG_BASE = {
  strict: true,
  target: 'ES2022',
  lib: ['ES2022'],
  types: ['node'],
  // also type-check aiwire's own .d.ts files, as a strict project without skipLibCheck does
  skipLibCheck: false,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
};
