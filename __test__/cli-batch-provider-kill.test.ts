// `aiwire batch --via openai-batch | anthropic-batch` SIGKILLed between a batch's create and the state
// write that records it, as a user's process dies: a loopback proxy in front of `aiwire mock` lets the
// create through to the mock, then kills the CLI before handing it the answer. The rerun (same command)
// must adopt that batch: the mock ends up with exactly one batch, and the output has every id once.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Anthropic } from '../src/anthropic.js';
import { OpenAI } from '../src/openai.js';
import { aiwire, baseEnv, stopped, useCliMock } from './helpers/cli.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const mock = useCliMock();
let proxy: Server;
let proxyURL = '';
/** The CLI process to kill when a create's answer comes back (then the answer is dropped). */
let victim: ChildProcess | undefined;
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aiwire-cli-kill-'));
  proxy = createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      const up = new URL(mock.url);
      const forward = httpRequest(
        {
          host: up.hostname,
          port: up.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: up.host },
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', async () => {
            const create = req.method === 'POST' && /\/batches$/.test((req.url ?? '').split('?')[0] ?? '');
            if (create && victim) {
              const v = victim;
              victim = undefined;
              v.kill('SIGKILL');
              await stopped(v);
              res.destroy();
              return;
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(chunks));
          });
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(Buffer.concat(body));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyURL = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** Every batch on the mock, newest first. */
async function batchIds(provider: 'openai' | 'anthropic'): Promise<string[]> {
  const ids: string[] = [];
  if (provider === 'openai') {
    const client = new OpenAI({ apiKey: 'k', baseURL: `${mock.url}/v1`, maxRetries: 0 });
    for await (const b of client.batches.list({ limit: 100 })) ids.push(b.id);
    client.close();
  } else {
    const client = new Anthropic({ apiKey: 'k', baseURL: mock.url, maxRetries: 0 });
    for await (const b of client.messages.batches.list({ limit: 100 })) ids.push(b.id);
    client.close();
  }
  return ids;
}

describe('aiwire batch: SIGKILL between a create and its record', () => {
  for (const provider of ['openai', 'anthropic'] as const) {
    it(`--via ${provider}-batch: the rerun adopts the batch instead of creating it again`, async () => {
      const input = join(dir, `${provider}-in.jsonl`);
      const output = join(dir, `${provider}-out.jsonl`);
      const lines = [0, 1, 2].map((i) =>
        JSON.stringify(
          provider === 'openai'
            ? {
                custom_id: `k${i}`,
                method: 'POST',
                url: '/v1/chat/completions',
                body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `killed ${i}` }] },
              }
            : {
                custom_id: `k${i}`,
                method: 'POST',
                url: '/v1/messages',
                body: {
                  model: 'claude-sonnet-4-5',
                  max_tokens: 16,
                  messages: [{ role: 'user', content: `killed ${i}` }],
                },
              },
        ),
      );
      writeFileSync(input, `${lines.join('\n')}\n`);
      const before = await batchIds(provider);
      const args = [
        'batch',
        input,
        '-o',
        output,
        '--via',
        `${provider}-batch`,
        '--poll-interval',
        '5',
        '--quiet',
      ];

      const child = spawn(process.execPath, [CLI, ...args, '--base-url', proxyURL], {
        env: baseEnv,
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 60_000,
        killSignal: 'SIGKILL',
      });
      victim = child;
      const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('close', (_c, s) => resolve(s)),
      );
      expect(signal).toBe('SIGKILL');
      const created = (await batchIds(provider)).filter((id) => !before.includes(id));
      expect(created).toHaveLength(1);
      const state = JSON.parse(readFileSync(`${output}.${provider}-batch-state.json`, 'utf8')) as {
        batches: unknown[];
        intents: { custom_ids: string[] }[];
      };
      expect(state.batches).toEqual([]);
      expect(state.intents.map((i) => i.custom_ids)).toEqual([['k0', 'k1', 'k2']]);

      const r = await aiwire([...args, '--base-url', mock.url, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ succeeded: 3, failed: 0 });
      expect((await batchIds(provider)).filter((id) => !before.includes(id))).toEqual(created);
      const out = readFileSync(output, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { custom_id: string; error: unknown });
      expect(out.map((l) => l.custom_id).sort()).toEqual(['k0', 'k1', 'k2']);
      expect(out.every((l) => l.error === null)).toBe(true);
    });
  }
});
