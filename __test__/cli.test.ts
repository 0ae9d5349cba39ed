// The `aiwire` bin as a user runs it: `node dist/cli.js …` in child processes (built by
// `npm run build:ts`), real request files in a temp dir, the mock started by the CLI itself.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
/** Every child is killed after this long (the test then fails on its exit code). */
const CHILD_TIMEOUT_MS = 20_000;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const baseEnv: NodeJS.ProcessEnv = {
  ...process.env,
  OPENAI_API_KEY: 'test-key',
  ANTHROPIC_API_KEY: 'test-key',
};
for (const name of [
  'OPENAI_BASE_URL',
  'ANTHROPIC_BASE_URL',
  'ANTHROPIC_AUTH_TOKEN',
  'AIWIRE_LOG',
  'OPENAI_LOG',
]) {
  delete baseEnv[name];
}

let dir = '';
let mock: ChildProcess | undefined;
let url = '';

/** Runs `aiwire …args` to completion (stdin: `input`, or closed), bounded by CHILD_TIMEOUT_MS. */
function aiwire(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: dir,
      env: opts.env ?? baseEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: CHILD_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** Writes `name` in the temp dir (an object as pretty JSON, a string as is); returns its name. */
function file(name: string, content: unknown): string {
  writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return name;
}

/** Starts `aiwire mock --port 0 …` and resolves with the child and its URL from the banner. */
function startMock(args: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'mock', '--port', '0', ...args], {
      env: baseEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mock did not start: ${out}`));
    }, CHILD_TIMEOUT_MS);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.on('exit', () => reject(new Error(`mock exited: ${out}`)));
  });
}

function stopped(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** The stderr summary line's fields (`input_tokens=6 …`). */
function summary(stderr: string): Record<string, string> {
  const line = stderr.split('\n').find((l) => l.includes('input_tokens=')) ?? '';
  return Object.fromEntries(
    line
      .replace(/^aiwire: /, '')
      .split(' ')
      .map((kv) => kv.split('=') as [string, string]),
  );
}

const SYSTEM = { role: 'system', content: 'Be brief.', kind: 'text' };
const USER = { role: 'user', content: 'Hello, how are you?', kind: 'text' };
const openaiRequest = (extra: object = {}) => ({
  provider: 'openai',
  model: 'gpt-4o-mini',
  messages: [SYSTEM, USER],
  parameters: { temperature: 0.7 },
  ...extra,
});
const anthropicRequest = (extra: object = {}) => ({
  provider: 'anthropic',
  model: 'claude-sonnet-4-5',
  messages: [SYSTEM, USER],
  parameters: { temperature: 0.7 },
  ...extra,
});

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build:ts` first');
  dir = mkdtempSync(join(tmpdir(), 'aiwire-cli-'));
  const started = await startMock();
  mock = started.child;
  url = started.url;
});

afterAll(async () => {
  if (mock && mock.exitCode === null) {
    mock.kill('SIGTERM');
    await stopped(mock);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('aiwire run: OpenAI', () => {
  it('prints the reply on stdout and usage, timing and the request id on stderr', async () => {
    const r = await aiwire([
      'run',
      '--request-file',
      file('o.json', openaiRequest()),
      '--base-url',
      `${url}/v1`,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Echo: Hello, how are you?\n');
    const s = summary(r.stderr);
    expect(s).toMatchObject({ input_tokens: '6', output_tokens: '5', finish_reason: 'stop' });
    expect(s.request_id).toMatch(/^req_mock_\d+$/);
    expect(Number(s.time_ms)).toBeGreaterThanOrEqual(0);
  });

  it('--stream prints the text as it arrives, usage from the final chunk', async () => {
    const r = await aiwire([
      'run',
      '-f',
      file('o.json', openaiRequest()),
      '--stream',
      '--base-url',
      `${url}/v1`,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Echo: Hello, how are you?\n');
    expect(summary(r.stderr)).toMatchObject({ input_tokens: '6', output_tokens: '5', finish_reason: 'stop' });
    expect(summary(r.stderr).first_token_ms).toMatch(/^\d+$/);
  });

  it('--json prints the raw chat.completion as one JSON line', async () => {
    const r = await aiwire([
      'run',
      '-f',
      file('o.json', openaiRequest()),
      '--json',
      '--base-url',
      `${url}/v1`,
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const body = JSON.parse(lines[0] as string);
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0].message.content).toBe('Echo: Hello, how are you?');
    expect(body._request_id).toBeUndefined();
  });

  it('--stream --json prints each chunk as a JSON line, the last one with usage', async () => {
    const r = await aiwire([
      'run',
      '-f',
      file('o.json', openaiRequest()),
      '-s',
      '--json',
      '--base-url',
      `${url}/v1`,
    ]);
    expect(r.code).toBe(0);
    const chunks = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Echo: Hello, how are you?');
    expect(chunks.at(-1).usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 5 });
  });

  it('maps max_tokens (max_completion_tokens) and passes other parameters (tools) through', async () => {
    const cut = await aiwire([
      'run',
      '-f',
      file('o-max.json', openaiRequest({ parameters: { max_tokens: 2 } })),
      '--base-url',
      `${url}/v1`,
    ]);
    expect(cut.stdout).toBe('Echo: Hello,\n');
    expect(summary(cut.stderr).finish_reason).toBe('length');
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ];
    const called = await aiwire([
      'run',
      '-f',
      file('o-tools.json', openaiRequest({ parameters: { tools } })),
      '--base-url',
      `${url}/v1`,
    ]);
    expect(called.code).toBe(0);
    expect(called.stdout).toBe('[tool_call get_weather] {"city":"you"}\n');
    expect(summary(called.stderr).finish_reason).toBe('tool_calls');
  });

  it('the file\'s own "stream": true and "api_base" are used (the seed\'s format)', async () => {
    const r = await aiwire([
      'run',
      '-f',
      file('o-file.json', openaiRequest({ stream: true, api_base: `${url}/v1` })),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Echo: Hello, how are you?\n');
    expect(summary(r.stderr).first_token_ms).toBeDefined();
  });
});

describe('aiwire run: Anthropic', () => {
  it('prints the reply; system messages become the system prompt (counted in input tokens)', async () => {
    const r = await aiwire(['run', '-f', file('a.json', anthropicRequest()), '--base-url', url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Echo: Hello, how are you?\n');
    const s = summary(r.stderr);
    // 2 words of system prompt + 4 of the user message: the mock refuses a "system" role in messages.
    expect(s).toMatchObject({ input_tokens: '6', output_tokens: '5', finish_reason: 'end_turn' });
    expect(s.request_id).toMatch(/^req_mock_\d+$/);
  });

  it('--stream prints the text deltas; a base URL ending in /v1 works too', async () => {
    const r = await aiwire([
      'run',
      '-f',
      file('a.json', anthropicRequest()),
      '--stream',
      '--base-url',
      `${url}/v1`,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Echo: Hello, how are you?\n');
    expect(summary(r.stderr)).toMatchObject({
      input_tokens: '6',
      output_tokens: '5',
      finish_reason: 'end_turn',
    });
  });

  it('--json prints the Message; --stream --json every event (ping skipped)', async () => {
    const plain = await aiwire([
      'run',
      '-f',
      file('a.json', anthropicRequest()),
      '--json',
      '--base-url',
      url,
    ]);
    expect(plain.code).toBe(0);
    const message = JSON.parse(plain.stdout);
    expect(message).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn' });
    expect(message.content).toEqual([{ type: 'text', text: 'Echo: Hello, how are you?' }]);

    const streamed = await aiwire(['run', '-f', 'a.json', '--stream', '--json', '--base-url', url]);
    expect(streamed.code).toBe(0);
    const events = streamed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('message_start');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(types).not.toContain('ping');
    const text = events
      .filter((e) => e.type === 'content_block_delta')
      .map((e) => e.delta.text)
      .join('');
    expect(text).toBe('Echo: Hello, how are you?');
  });

  it('sends max_tokens 1024 when the file has none, and maps stop to stop_sequences', async () => {
    const long = Array.from({ length: 1100 }, (_, i) => `w${i}`).join(' ');
    const big = await aiwire([
      'run',
      '-f',
      file('a-long.json', anthropicRequest({ messages: [{ role: 'user', content: long }], parameters: {} })),
      '--base-url',
      url,
    ]);
    expect(big.code).toBe(0);
    expect(summary(big.stderr)).toMatchObject({ output_tokens: '1024', finish_reason: 'max_tokens' });

    const stop = await aiwire([
      'run',
      '-f',
      file('a-stop.json', anthropicRequest({ parameters: { stop: 'how', max_tokens: 50 } })),
      '--base-url',
      url,
    ]);
    expect(stop.stdout).toBe('Echo: Hello, \n');
    expect(summary(stop.stderr).finish_reason).toBe('stop_sequence');
  });

  it('tools passed as parameters get a tool_use block', async () => {
    const tools = [
      { name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
    ];
    const r = await aiwire([
      'run',
      '-f',
      file('a-tools.json', anthropicRequest({ parameters: { tools } })),
      '--base-url',
      url,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('[tool_use get_weather] {"city":"you"}\n');
    expect(summary(r.stderr).finish_reason).toBe('tool_use');
  });
});

describe('aiwire chat', () => {
  it('reads the prompt from stdin (Anthropic, --stream, --system, --max-tokens)', async () => {
    const r = await aiwire(
      [
        'chat',
        '--provider',
        'anthropic',
        '--model',
        'claude-sonnet-4-5',
        '--system',
        'Be brief.',
        '--max-tokens',
        '3',
        '--stream',
        '--base-url',
        url,
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
      `${url}/v1`,
      'Hello',
      'world',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).choices[0].message.content).toBe('Echo: Hello world');
  });

  it("'-' reads the prompt from stdin", async () => {
    const r = await aiwire(['chat', '-m', 'gpt-4o-mini', '--base-url', `${url}/v1`, '-'], {
      input: 'piped prompt',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Echo: piped prompt\n');
  });
});

describe('usage errors (exit 2)', () => {
  it('--help works on every subcommand and at the top', async () => {
    for (const args of [['--help'], ['run', '--help'], ['chat', '-h'], ['mock', '--help'], ['help', 'run']]) {
      const r = await aiwire(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^Usage: aiwire/);
    }
    const chatHelp = await aiwire(['chat', '--help']);
    expect(chatHelp.stdout).toContain('default 1024');
    const version = await aiwire(['--version']);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each([
    [['frob'], "unknown command 'frob'"],
    [['run'], '--request-file FILE is required'],
    [['run', '-f', 'x.json', '--bogus'], "Unknown option '--bogus'"],
    [['run', '-f', 'x.json', 'extra'], "unexpected argument 'extra'"],
    [['run', '-f', 'x.json', '--base-url', 'not a url'], '--base-url must be a URL'],
    [['chat', 'hi'], '--model M is required'],
    [['chat', '-m', 'x', '-p', 'gemini', 'hi'], "--provider must be one of openai, anthropic, got 'gemini'"],
    [['chat', '-m', 'x', '--temperature', '3', 'hi'], '--temperature must be a number from 0 to 2'],
    [
      ['chat', '-m', 'x', '-p', 'anthropic', '--temperature', '1.5', 'hi'],
      '--temperature must be a number from 0 to 1',
    ],
    [['chat', '-m', 'x', '--max-tokens', '0', 'hi'], '--max-tokens must be a whole number >= 1'],
    [['chat', '-m', 'x'], 'the prompt read from stdin is empty'],
    [['mock', '--port', '70000'], '--port must be a whole number from 0 to 65535'],
  ])('aiwire %j', async (args, message) => {
    const r = await aiwire(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a missing API key names the variable', async () => {
    const env = { ...baseEnv };
    delete env.OPENAI_API_KEY;
    delete env.ANTHROPIC_API_KEY;
    const o = await aiwire(['run', '-f', file('o.json', openaiRequest()), '--base-url', `${url}/v1`], {
      env,
    });
    expect(o.code).toBe(2);
    expect(o.stderr).toContain('OPENAI_API_KEY is not set');
    const a = await aiwire(['chat', '-p', 'anthropic', '-m', 'claude-sonnet-4-5', '--base-url', url, 'hi'], {
      env,
    });
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('ANTHROPIC_API_KEY is not set');
    expect(o.stdout + a.stdout).toBe('');
  });
});

describe('bad request files (exit 2, file:line:column)', () => {
  const cases: [string, string, string][] = [
    [
      'trailing comma',
      '{\n  "provider": "openai",\n  "model": "m",\n  "messages": [\n    {"role": "user", "content": "x",}\n  ]\n}\n',
      'bad.json:5:37: invalid JSON: Expected double-quoted property name',
    ],
    [
      'bad literal',
      '{\n  "provider": "openai",\n  "model": tru\n}\n',
      "bad.json:3:12: invalid JSON: Unexpected 'tru'",
    ],
    [
      'cut short',
      '{"provider": "openai", "model": "m", "messages": [{"role": "user", "content": "x"}]',
      "bad.json:1:84: invalid JSON: Expected ',' or '}' after property value",
    ],
    [
      'unknown role',
      '{\n  "provider": "openai",\n  "model": "m",\n  "messages": [\n    {"role": "user", "content": "x"},\n    {"role": "bot", "content": "y"}\n  ]\n}\n',
      'bad.json:6:14: messages[1].role must be one of user, assistant, system, got "bot"',
    ],
    [
      'missing model',
      '{"provider": "openai", "messages": [{"role": "user", "content": "x"}]}',
      'bad.json:1:1: model is required',
    ],
    [
      'unknown provider',
      '{\n  "provider": "gemini", "model": "m", "messages": []}',
      'bad.json:2:15: provider must be one of openai, anthropic, got "gemini"',
    ],
    [
      'content not a string',
      '{"provider": "openai", "model": "m",\n "messages": [{"role": "user", "content": 42}]}',
      'bad.json:2:43: messages[0].content must be a string, got a number (42)',
    ],
    [
      'kind other than text',
      '{"provider": "openai", "model": "m",\n "messages": [{"role": "user", "content": "x", "kind": "image"}]}',
      'bad.json:2:56: messages[0].kind must be "text"',
    ],
    [
      'Anthropic temperature above 1',
      '{"provider": "anthropic", "model": "m", "messages": [{"role": "user", "content": "x"}],\n "parameters": {"temperature": 1.5}}',
      'bad.json:2:32: parameters.temperature must be a number from 0 to 1',
    ],
    [
      'unknown top-level field',
      '{"provider": "openai", "model": "m", "messages": [{"role": "user", "content": "x"}],\n "paramters": {}}',
      'bad.json:2:15: paramters is not a known field',
    ],
    [
      'a key in the file',
      '{"provider": "openai", "model": "m", "api_key": "sk-1", "messages": [{"role": "user", "content": "x"}]}',
      'bad.json:1:49: api_key is not read from request files',
    ],
    ['empty file', '  \n', 'bad.json:1:1: the request file is empty'],
    ['not an object', '[1, 2]', 'bad.json:1:1: the request must be a JSON object, got an array'],
  ];
  it.each(cases)('%s', async (_name, content, message) => {
    const r = await aiwire(['run', '--request-file', file('bad.json', content)]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toContain(`aiwire: ${message}`);
    expect(r.stdout).toBe('');
  });

  it('syntax errors show the line with a caret under the column', async () => {
    const r = await aiwire(['run', '-f', file('bad.json', '{\n  "provider": "openai",,\n}')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.json:2:24: invalid JSON: Expected double-quoted property name');
    expect(r.stderr).toContain(`\n    "provider": "openai",,\n  ${' '.repeat(23)}^`);
  });

  it('a missing file is named', async () => {
    const r = await aiwire(['run', '-f', 'nope.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('aiwire: nope.json: cannot read the request file: no such file\n');
  });
});

describe('API errors (exit 1: class, status, type, message, request id)', () => {
  it('OpenAI 429 (mock-error-429)', async () => {
    const r = await aiwire([
      'run',
      '-f',
      file('e.json', openaiRequest({ model: 'mock-error-429' })),
      '--base-url',
      `${url}/v1`,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^aiwire: RateLimitError 429 requests: Mock error 429 .* \(request id req_mock_\d+\)\n$/,
    );
    expect(r.stdout).toBe('');
  });

  it('OpenAI 400 while streaming', async () => {
    const r = await aiwire(['chat', '-m', 'mock-error-400', '--stream', '--base-url', `${url}/v1`, 'hi']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^aiwire: BadRequestError 400 invalid_request_error: .*request id req_mock_\d+/);
  });

  it('Anthropic 500 and 529', async () => {
    const r = await aiwire([
      'run',
      '-f',
      file('e.json', anthropicRequest({ model: 'mock-error-500' })),
      '--base-url',
      url,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^aiwire: InternalServerError 500 api_error: Mock error 500 .*\(request id req_mock_\d+\)\n$/,
    );
    const o = await aiwire([
      'chat',
      '-p',
      'anthropic',
      '-m',
      'mock-error-529',
      '--stream',
      '--base-url',
      url,
      'hi',
    ]);
    expect(o.code).toBe(1);
    expect(o.stderr).toContain('InternalServerError 529 overloaded_error');
  });

  it('Anthropic error event mid-stream: the text so far, then the error', async () => {
    const r = await aiwire([
      'chat',
      '-p',
      'anthropic',
      '-m',
      'mock-stream-error-529',
      '--stream',
      '--base-url',
      url,
      'hi',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('Echo: \n');
    expect(r.stderr).toContain('InternalServerError 529 overloaded_error: Mock stream error 529.');
  });

  it('a refused connection is a connection error', async () => {
    const r = await aiwire(['chat', '-m', 'gpt-4o-mini', '--base-url', 'http://127.0.0.1:1/v1', 'hi']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^aiwire: APIConnectionError: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('aiwire mock', () => {
  it('serves OpenAI and Anthropic model lists on one port, and checks Anthropic headers', async () => {
    const openai = await (await fetch(`${url}/v1/models`)).json();
    expect(openai.object).toBe('list');
    const headers = { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };
    const anthropic = await (await fetch(`${url}/v1/models?limit=2`, { headers })).json();
    expect(anthropic.data[0].type).toBe('model');
    expect(anthropic.has_more).toBe(true);
    const noVersion = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'k', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const noKey = await fetch(`${url}/v1/messages`, {
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
