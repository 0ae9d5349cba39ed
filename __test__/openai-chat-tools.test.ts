// chat.completions.runTools(), differential against openai-node 6.49.0's runners: one loopback server
// answers each client's n-th request of a script (tool calls, then content), as JSON or as SSE chunks
// split at 7 bytes. Compared: every listener call, the requests each runner sent (messages replayed,
// tool results in the calls' order), the conversation, final values, `maxChatCompletions`, tool
// errors (a parse error goes back to the model; a thrown error ends the run), abort from a tool.
// One difference on purpose: an error that is not an API error is wrapped in aiwire's `AiwireError`
// (exported as `OpenAIError`), whose class name is `AiwireError`.
import { zodFunction as sdkZodFunction } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { zodFunction } from '../src/helpers/zod.js';
import {
  ChatCompletionRunner,
  ChatCompletionStreamingRunner,
  type ChatCompletionToolRunnerParams,
  OpenAIError,
} from '../src/index.js';
import {
  aiwire,
  type Log,
  record,
  STREAM_EVENTS,
  scripts,
  sdk,
  sent,
  settle,
  startServer,
  stopServer,
} from './helpers/openai-chat-server.js';

beforeAll(startServer);
afterAll(stopServer);

const head = { object: 'chat.completion', created: 1732982400, model: 'gpt-4o-2024-08-06' };
const completion = (id: string, message: Record<string, unknown>, finish_reason: string) => ({
  id,
  ...head,
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: null, refusal: null, ...message },
      logprobs: null,
      finish_reason,
    },
  ],
  usage: { prompt_tokens: 30, completion_tokens: 12, total_tokens: 42 },
});
const toolCalls = (n: number, calls: [string, string][]) =>
  completion(
    `chatcmpl-tools${n}`,
    {
      tool_calls: calls.map(([name, args], i) => ({
        id: `call_${n}_${i}`,
        type: 'function',
        function: { name, arguments: args },
      })),
    },
    'tool_calls',
  );
const WEATHER_CALLS: [string, string][] = [
  ['get_weather', '{"city":"Paris","days":3}'],
  ['get_time', '{"tz":"Asia/Tokyo"}'],
  ['unknown_tool', '{}'],
];

// weather: tool calls, then the answer
scripts.weather = (_body, n) =>
  n === 0
    ? toolCalls(n, WEATHER_CALLS)
    : completion(`chatcmpl-final${n}`, { content: 'Paris: 18 °C, Tokyo: 09:00 ✓' }, 'stop');
// forever: tool calls every time
scripts.forever = (_body, n) => toolCalls(n, [['get_time', `{"tz":"UTC+${n}"}`]]);
// bad-args: arguments the tool's `parse` refuses, then the answer
scripts['bad-args'] = (_body, n) =>
  n === 0 ? toolCalls(n, [['get_time', '{"tz":5}']]) : completion('chatcmpl-b', { content: 'ok' }, 'stop');
// zod-bad: arguments a zodFunction's schema refuses (the completion itself fails to parse)
scripts['zod-bad'] = (_body, n) =>
  n === 0
    ? toolCalls(n, [['get_weather', '{"city":"Paris","days":"three"}']])
    : completion('chatcmpl-z', { content: 'ok' }, 'stop');
// each client's requests are counted per script name: every test uses its own names
for (const name of ['weather', 'forever', 'bad-args', 'zod-bad'])
  scripts[`${name}-stream`] = scripts[name] as never;
scripts['weather-throw'] = scripts.weather as never;
scripts['weather-replay'] = scripts.weather as never;
scripts['forever-abort'] = scripts.forever as never;
scripts['forever-abort-stream'] = scripts.forever as never;
scripts['forever-signal'] = scripts.forever as never;
scripts['forever-signal-stream'] = scripts.forever as never;

const Weather = z.object({ city: z.string(), days: z.number().int() });

/** The tools, built with each library's zodFunction, calling into a shared log of calls. */
function tools(zf: typeof zodFunction, calls: unknown[], opts: { throwIn?: string; abortIn?: boolean } = {}) {
  return [
    zf({
      name: 'get_weather',
      parameters: Weather,
      function: async (args: { city: string; days: number }) => {
        calls.push(['get_weather', args]);
        if (opts.throwIn === 'get_weather') throw new Error('weather service down');
        return { city: args.city, celsius: 18 };
      },
    }),
    {
      type: 'function' as const,
      function: {
        name: 'get_time',
        parameters: { type: 'object', properties: { tz: { type: 'string' } } },
        parse: (text: string) => {
          const args = JSON.parse(text) as { tz: unknown };
          if (typeof args.tz !== 'string') throw new Error('tz must be a string like "Asia/Tokyo"');
          return args as { tz: string };
        },
        function: (args: { tz: string }, runner: { abort(): void }, context?: unknown) => {
          calls.push(['get_time', args, context]);
          if (opts.abortIn) runner.abort();
          return `09:00 ${args.tz}`;
        },
      },
    },
  ];
}

const messages = [{ role: 'user' as const, content: 'Weather in Paris, time in Tokyo?' }];

async function both(
  model: string,
  extra: Record<string, unknown> = {},
  options: Record<string, unknown> = {},
  opts: { throwIn?: string; abortIn?: boolean } = {},
) {
  const theirCalls: unknown[] = [];
  const ourCalls: unknown[] = [];
  const theirs = sdk().chat.completions.runTools(
    { model, messages, tools: tools(sdkZodFunction as never, theirCalls, opts) as never, ...extra } as never,
    options,
  );
  const ours = aiwire().chat.completions.runTools(
    {
      model,
      messages,
      tools: tools(zodFunction, ourCalls, opts) as never,
      ...extra,
    } as ChatCompletionToolRunnerParams,
    options,
  );
  const theirLog = record(theirs as never, STREAM_EVENTS);
  const ourLog = record(ours as never, STREAM_EVENTS);
  const [theirFinal, ourFinal] = await Promise.all([
    settle(theirs.finalContent()),
    settle(ours.finalContent()),
  ]);
  return { theirs, ours, theirLog, ourLog, theirFinal, ourFinal, theirCalls, ourCalls };
}

/** Logs with aiwire's wrapper class named as openai-node's. */
const sameNames = (log: Log) =>
  JSON.parse(JSON.stringify(log).replaceAll('"class":"AiwireError"', '"class":"OpenAIError"')) as Log;
const names = (log: Log) => log.map((e) => e[0]);

describe('runTools(): the same tool loop as openai-node', () => {
  for (const stream of [false, true]) {
    const model = stream ? 'script:weather-stream' : 'script:weather';
    it(`${stream ? 'streaming' : 'non-streaming'}: events, requests, conversation, final values`, async () => {
      const r = await both(model, { stream, toolContext: { user: 'u1' } });
      expect(r.ours).toBeInstanceOf(stream ? ChatCompletionStreamingRunner : ChatCompletionRunner);
      expect(names(r.ourLog)).toEqual(names(r.theirLog));
      expect(r.ourLog).toEqual(r.theirLog);
      expect(r.ourFinal).toEqual(r.theirFinal);
      expect(r.ourFinal).toEqual({ ok: 'Paris: 18 °C, Tokyo: 09:00 ✓' });
      expect(r.ourCalls).toEqual(r.theirCalls);
      expect(r.ourCalls).toEqual([
        ['get_weather', { city: 'Paris', days: 3 }],
        ['get_time', { tz: 'Asia/Tokyo' }, { user: 'u1' }],
      ]);
      // the requests: same bodies (tools without their functions, messages replayed, no toolContext)
      const ourSent = sent('aiwire', model);
      expect(ourSent).toEqual(sent('sdk', model));
      expect(ourSent).toHaveLength(2);
      expect(ourSent[1]?.messages).toHaveLength(5);
      expect(JSON.stringify(ourSent)).not.toContain('toolContext');
      expect(r.ours.messages).toEqual(JSON.parse(JSON.stringify(r.theirs.messages)));
      expect(r.ours.allMessages()).toEqual(r.ours.messages);
      expect(r.ours.allMessages().map((m) => m.role)).toEqual([
        'user',
        'assistant',
        'tool',
        'tool',
        'tool',
        'assistant',
      ]);
      for (const m of [
        'finalMessage',
        'totalUsage',
        'finalFunctionToolCall',
        'finalFunctionToolCallResult',
        'finalChatCompletion',
      ] as const) {
        expect(
          await settle(
            (r.ours as never as Record<string, () => Promise<unknown>>)[m]?.() as Promise<unknown>,
          ),
        ).toEqual(
          await settle(
            (r.theirs as never as Record<string, () => Promise<unknown>>)[m]?.() as Promise<unknown>,
          ),
        );
      }
      if (!stream)
        expect(await r.ours.totalUsage()).toEqual({
          completion_tokens: 24,
          prompt_tokens: 60,
          total_tokens: 84,
        });
      const results = r.ourLog.filter((e) => e[0] === 'functionToolCallResult').map((e) => e[1]);
      expect(results).toEqual([
        '{"city":"Paris","celsius":18}',
        '09:00 Asia/Tokyo',
        'Invalid tool_call: "unknown_tool". Available options are: "get_weather", "get_time". Please try again',
      ]);
    });
  }

  it('maxChatCompletions: the loop stops after that many completions', async () => {
    for (const stream of [false, true]) {
      const model = stream ? 'script:forever-stream' : 'script:forever';
      const r = await both(model, { stream }, { maxChatCompletions: 3 });
      expect(r.ourLog).toEqual(r.theirLog);
      expect(sent('aiwire', model)).toHaveLength(3);
      expect(sent('sdk', model)).toHaveLength(3);
      expect(r.ourFinal).toEqual({ ok: null });
      expect(r.ourCalls).toHaveLength(3);
    }
  });

  it('a parse error goes back to the model as the tool message; the loop goes on', async () => {
    for (const stream of [false, true]) {
      const model = stream ? 'script:bad-args-stream' : 'script:bad-args';
      const r = await both(model, { stream });
      expect(r.ourLog).toEqual(r.theirLog);
      expect(sent('aiwire', model)).toEqual(sent('sdk', model));
      const toolMessage = (
        sent('aiwire', model)[1]?.messages as { role: string; content: string }[] | undefined
      )?.at(-1);
      expect(toolMessage?.role).toBe('tool');
      expect(toolMessage?.content).toBe('tz must be a string like "Asia/Tokyo"');
      expect(r.ourCalls).toEqual([]);
      expect(r.ourFinal).toEqual({ ok: 'ok' });
    }
  });

  it('arguments a zodFunction schema refuses: streamed, the run fails; not streamed, the error goes to the model (as openai-node)', async () => {
    for (const stream of [false, true]) {
      const model = stream ? 'script:zod-bad-stream' : 'script:zod-bad';
      const r = await both(model, { stream });
      expect(sameNames(r.ourLog)).toEqual(r.theirLog);
      if (stream) {
        // the streaming runner parses with the zod schema as the arguments complete: the run fails
        expect(names(r.ourLog).slice(-2)).toEqual(['error', 'end']);
        expect(r.ourFinal).toMatchObject({
          message: expect.stringContaining('Expected number, received string'),
        });
        expect(sent('aiwire', model)).toHaveLength(1);
      } else {
        // the runner parses the completion as JSON (strict) and the arguments with zod when calling:
        // the zod error goes back to the model
        expect(r.ourFinal).toEqual({ ok: 'ok' });
        const toolMessage = (sent('aiwire', model)[1]?.messages as { content: string }[] | undefined)?.at(-1);
        expect(toolMessage?.content).toContain('Expected number, received string');
        expect(sent('aiwire', model)).toEqual(sent('sdk', model));
      }
    }
  });

  it('an error thrown by a tool function ends the run: error then end (OpenAIError wrapping it)', async () => {
    const model = 'script:weather-throw';
    const r = await both(model, { parallel_tool_calls: false }, {}, { throwIn: 'get_weather' });
    expect(sameNames(r.ourLog)).toEqual(r.theirLog);
    expect(names(r.ourLog).slice(-2)).toEqual(['error', 'end']);
    expect(r.ourFinal).toMatchObject({ message: 'weather service down' });
    const err = await r.ours.done().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAIError);
    expect((err as Error & { cause: Error }).cause.message).toBe('weather service down');
  });

  it('runner.abort() from a tool: abort then end, APIUserAbortError', async () => {
    for (const stream of [false, true]) {
      const model = stream ? 'script:forever-abort-stream' : 'script:forever-abort';
      const r = await both(model, { stream }, {}, { abortIn: true });
      expect(names(r.ourLog)).toEqual(names(r.theirLog));
      expect(names(r.ourLog).slice(-2)).toEqual(['abort', 'end']);
      expect(r.ourFinal).toMatchObject({ error: 'APIUserAbortError' });
      expect(r.ours.aborted).toBe(true);
    }
  });

  it("the `signal` option aborts the run as openai-node's does (between completions, from a tool)", async () => {
    for (const stream of [false, true]) {
      const model = stream ? 'script:forever-signal-stream' : 'script:forever-signal';
      const go = (client: typeof aiwire | typeof sdk, zf: typeof zodFunction) => {
        const ctl = new AbortController();
        const completions = client().chat.completions as unknown as {
          runTools(body: unknown, options: unknown): unknown;
        };
        const runner = completions.runTools(
          {
            model,
            messages,
            stream,
            tools: [
              zf({
                name: 'get_time',
                parameters: z.object({ tz: z.string() }),
                function: () => {
                  ctl.abort();
                  return 'aborted';
                },
              }),
            ],
          } as never,
          { signal: ctl.signal },
        ) as unknown as { on(e: string, l: (...a: unknown[]) => void): unknown; done(): Promise<void> };
        const log = record(runner as never, STREAM_EVENTS);
        return runner.done().then(
          () => ({ log, error: undefined }),
          (e: Error) => ({ log, error: e.constructor.name }),
        );
      };
      const [theirs, ours] = await Promise.all([go(sdk, sdkZodFunction as never), go(aiwire, zodFunction)]);
      expect(names(ours.log)).toEqual(names(theirs.log));
      expect(ours.error).toBe('APIUserAbortError');
      expect(names(ours.log).slice(-2)).toEqual(['abort', 'end']);
      expect(sent('aiwire', model)).toHaveLength(1);
    }
  });

  it('the streaming runner toReadableStream() → fromReadableStream() replays chunks and tool messages', async () => {
    const runner = aiwire().chat.completions.runTools({
      model: 'script:weather-replay',
      messages,
      stream: true,
      tools: tools(zodFunction, []) as never,
    });
    const replay = ChatCompletionStreamingRunner.fromReadableStream(runner.toReadableStream());
    const [a, b] = await Promise.all([runner.finalContent(), replay.finalContent()]);
    expect(b).toBe(a);
    expect(replay.allChatCompletions()).toHaveLength(2);
    expect(replay.messages.filter((m) => m.role === 'tool')).toHaveLength(3);
  });
});
