// How the `aiwire` bin fails (`node dist/cli.js …` in child processes, built by `npm run build:ts`):
// usage errors and bad request files (exit 2, file:line:column) and API errors from the mock the CLI
// itself starts (exit 1: class, status, type, message, request id) (helpers: __test__/helpers/cli.ts).
import { describe, expect, it } from 'vitest';
import { aiwire, anthropicRequest, baseEnv, file, openaiRequest, useCliMock } from './helpers/cli.js';

const mock = useCliMock();

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
    [['run', '-f', 'x.json', '--base-url', 'not a mock.url'], '--base-url must be a URL'],
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
    const o = await aiwire(['run', '-f', file('o.json', openaiRequest()), '--base-url', `${mock.url}/v1`], {
      env,
    });
    expect(o.code).toBe(2);
    expect(o.stderr).toContain('OPENAI_API_KEY is not set');
    const a = await aiwire(
      ['chat', '-p', 'anthropic', '-m', 'claude-sonnet-4-6', '--base-url', mock.url, 'hi'],
      {
        env,
      },
    );
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
      `${mock.url}/v1`,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^aiwire: RateLimitError 429 requests: Mock error 429 .* \(request id req_mock_\d+\)\n$/,
    );
    expect(r.stdout).toBe('');
  });

  it('OpenAI 400 while streaming', async () => {
    const r = await aiwire([
      'chat',
      '-m',
      'mock-error-400',
      '--stream',
      '--base-url',
      `${mock.url}/v1`,
      'hi',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^aiwire: BadRequestError 400 invalid_request_error: .*request id req_mock_\d+/);
  });

  it('Anthropic 500 and 529', async () => {
    const r = await aiwire([
      'run',
      '-f',
      file('e.json', anthropicRequest({ model: 'mock-error-500' })),
      '--base-url',
      mock.url,
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
      mock.url,
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
      mock.url,
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
