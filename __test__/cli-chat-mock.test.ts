// The `aiwire chat` and `aiwire mock` commands as a user runs them (`node dist/cli.js …` in child
// processes, built by `npm run build:ts`): prompts from arguments and stdin against the mock the CLI
// itself starts, and the mock's routes, port errors, latency and shutdown (helpers: __test__/helpers/cli.ts).
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { aiwire, startMock, stopped, summary, useCliMock } from './helpers/cli.js';

const mock = useCliMock();

describe('aiwire chat', () => {
  it('reads the prompt from stdin (Anthropic, --stream, --system, --max-tokens)', async () => {
    const r = await aiwire(
      [
        'chat',
        '--provider',
        'anthropic',
        '--model',
        'claude-sonnet-4-6',
        '--system',
        'Be brief.',
        '--max-tokens',
        '3',
        '--stream',
        '--base-url',
        mock.url,
      ],
      { input: 'Tell me about Rust engines\n' },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Echo: Tell me\n');
    expect(summary(r.stderr)).toMatchObject({
      input_tokens: '7',
      output_tokens: '3',
      finish_reason: 'max_tokens',
    });
  });

  it('takes the prompt from the arguments (OpenAI by default, --json, --temperature)', async () => {
    const r = await aiwire([
      'chat',
      '-m',
      'gpt-4o-mini',
      '--temperature',
      '0.2',
      '--json',
      '--base-url',
      `${mock.url}/v1`,
      'Hello',
      'world',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).choices[0].message.content).toBe('Echo: Hello world');
  });

  it("'-' reads the prompt from stdin", async () => {
    const r = await aiwire(['chat', '-m', 'gpt-4o-mini', '--base-url', `${mock.url}/v1`, '-'], {
      input: 'piped prompt',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Echo: piped prompt\n');
  });
});

describe('aiwire mock', () => {
  it('serves OpenAI and Anthropic model lists on one port, and checks Anthropic headers', async () => {
    const openai = await (await fetch(`${mock.url}/v1/models`)).json();
    expect(openai.object).toBe('list');
    const headers = { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };
    const anthropic = await (await fetch(`${mock.url}/v1/models?limit=2`, { headers })).json();
    expect(anthropic.data[0].type).toBe('model');
    expect(anthropic.has_more).toBe(true);
    const noVersion = await fetch(`${mock.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'k', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const noKey = await fetch(`${mock.url}/v1/messages`, {
      method: 'POST',
      headers: { 'anthropic-version': '2023-06-01' },
      body: '{}',
    });
    expect(noKey.status).toBe(401);
    expect(noKey.headers.get('request-id')).toMatch(/^req_mock_/);
  });

  it('a port in use gives a one-line error and exit 1', async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await aiwire(['mock', '--port', String(port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `aiwire: cannot listen on 127.0.0.1:${port}: the port is already in use (try --port 0 for a free one)\n`,
      );
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it('--latency delays responses; SIGTERM stops it with exit 0', async () => {
    const slow = await startMock(['--latency', '300']);
    try {
      const started = performance.now();
      const r = await aiwire(['chat', '-m', 'gpt-4o-mini', '--base-url', `${slow.url}/v1`, 'hi']);
      expect(r.code).toBe(0);
      expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    } finally {
      slow.child.kill('SIGTERM');
    }
    expect(await stopped(slow.child)).toBe(0);
  });
});
