// The `aiwire run --request-file` command as a user runs it (`node dist/cli.js …` in child processes,
// built by `npm run build:ts`): OpenAI and Anthropic request files in a temp dir, sent to the mock the
// CLI itself starts (helpers: __test__/helpers/cli.ts).
import { describe, expect, it } from 'vitest';
import { aiwire, anthropicRequest, file, openaiRequest, summary, useCliMock } from './helpers/cli.js';

const mock = useCliMock();

describe('aiwire run: OpenAI', () => {
  it('prints the reply on stdout and usage, timing and the request id on stderr', async () => {
    const r = await aiwire([
      'run',
      '--request-file',
      file('o.json', openaiRequest()),
      '--base-url',
      `${mock.url}/v1`,
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
      `${mock.url}/v1`,
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
      `${mock.url}/v1`,
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
      `${mock.url}/v1`,
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
      `${mock.url}/v1`,
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
      `${mock.url}/v1`,
    ]);
    expect(called.code).toBe(0);
    expect(called.stdout).toBe('[tool_call get_weather] {"city":"you"}\n');
    expect(summary(called.stderr).finish_reason).toBe('tool_calls');
  });

  it('the file\'s own "stream": true and "api_base" are used (the seed\'s format)', async () => {
    const r = await aiwire([
      'run',
      '-f',
      file('o-file.json', openaiRequest({ stream: true, api_base: `${mock.url}/v1` })),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Echo: Hello, how are you?\n');
    expect(summary(r.stderr).first_token_ms).toBeDefined();
  });
});

describe('aiwire run: Anthropic', () => {
  it('prints the reply; system messages become the system prompt (counted in input tokens)', async () => {
    const r = await aiwire(['run', '-f', file('a.json', anthropicRequest()), '--base-url', mock.url]);
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
      `${mock.url}/v1`,
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
      mock.url,
    ]);
    expect(plain.code).toBe(0);
    const message = JSON.parse(plain.stdout);
    expect(message).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn' });
    expect(message.content).toEqual([{ type: 'text', text: 'Echo: Hello, how are you?' }]);

    const streamed = await aiwire(['run', '-f', 'a.json', '--stream', '--json', '--base-url', mock.url]);
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
      mock.url,
    ]);
    expect(big.code).toBe(0);
    expect(summary(big.stderr)).toMatchObject({ output_tokens: '1024', finish_reason: 'max_tokens' });

    const stop = await aiwire([
      'run',
      '-f',
      file('a-stop.json', anthropicRequest({ parameters: { stop: 'how', max_tokens: 50 } })),
      '--base-url',
      mock.url,
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
      mock.url,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('[tool_use get_weather] {"city":"you"}\n');
    expect(summary(r.stderr).finish_reason).toBe('tool_use');
  });
});
