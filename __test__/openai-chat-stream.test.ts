// chat.completions.stream(), differential against openai-node 6.49.0 (a devDependency, the test oracle,
// never imported by src): the same recorded SSE bodies (__test__/fixtures/openai/*.sse, written by hand
// after https://platform.openai.com/docs/api-reference/chat/streaming: content with a usage chunk,
// parallel tool calls, refusal, logprobs, structured output, an in-stream error) served by one loopback
// server in 7-byte pieces plus a cut inside the first multi-byte UTF-8 character, read by openai-node
// (its fetch) and by aiwire (real addon). Compared: every listener call in order with its arguments
// (cloned when made), the final objects, abort / error / end ordering; aiwire's partial-JSON parser
// against openai-node's on every prefix.
import { partialParse as sdkPartialParse } from 'openai/_vendor/partial-json-parser/parser';
import { zodResponseFormat as sdkZodResponseFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { APIError, APIUserAbortError, InternalServerError } from '../src/core/errors.js';
import { zodResponseFormat } from '../src/helpers/zod.js';
import { ChatCompletionStream } from '../src/providers/openai/lib/chat-completion-stream.js';
import { partialParse } from '../src/providers/openai/lib/partial-json.js';
import {
  aiwire,
  fixture,
  type Log,
  record,
  STREAM_EVENTS,
  sdk,
  sent,
  settle,
  startServer,
  stopServer,
} from './helpers/openai-chat-server.js';

beforeAll(startServer);
afterAll(stopServer);

const Math3 = z.object({
  steps: z.array(z.object({ explanation: z.string(), output: z.string() })),
  final_answer: z.string(),
  confidence: z.number(),
  note: z.string().nullable(),
});

const params = (name: string, extra: Record<string, unknown> = {}) => ({
  model: `fixture:${name}`,
  messages: [{ role: 'user' as const, content: 'Hello' }],
  ...extra,
});

/** The same request through both clients' stream(): both logs and final values. */
async function both(name: string, extra: Record<string, unknown> = {}, sdkExtra = extra) {
  const theirs = sdk().chat.completions.stream(params(name, sdkExtra) as never);
  const ours = aiwire().chat.completions.stream(params(name, extra) as never);
  const theirLog = record(theirs as never, STREAM_EVENTS);
  const ourLog = record(ours as never, STREAM_EVENTS);
  const [t, o] = await Promise.all([
    settle(theirs.finalChatCompletion()),
    settle(ours.finalChatCompletion()),
  ]);
  return { theirs, ours, theirLog, ourLog, theirFinal: t, ourFinal: o };
}

const names = (log: Log) => log.map((e) => e[0]);

describe('chat.completions.stream(): the same listener calls as openai-node', () => {
  const tools = [
    { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
    { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } },
  ];
  const cases: [string, Record<string, unknown>][] = [
    ['content', { stream_options: { include_usage: true } }],
    ['tool-calls', { tools, stream_options: { include_usage: true } }],
    ['refusal', {}],
    ['logprobs', { logprobs: true, top_logprobs: 2 }],
  ];
  for (const [name, extra] of cases) {
    it(`${name}: events, arguments, final values, request body`, async () => {
      const { theirs, ours, theirLog, ourLog, theirFinal, ourFinal } = await both(name, extra);
      expect(names(ourLog)).toEqual(names(theirLog));
      expect(ourLog).toEqual(theirLog);
      expect(ourFinal).toEqual(theirFinal);
      expect('ok' in ourFinal).toBe(true);
      for (const m of ['finalContent', 'finalMessage', 'totalUsage', 'finalFunctionToolCall'] as const) {
        expect(
          await settle((ours as never as Record<string, () => Promise<unknown>>)[m]?.() as Promise<unknown>),
        ).toEqual(
          await settle(
            (theirs as never as Record<string, () => Promise<unknown>>)[m]?.() as Promise<unknown>,
          ),
        );
      }
      expect(ours.messages).toEqual(structuredClone(theirs.messages));
      expect(ours.allChatCompletions()).toEqual(theirs.allChatCompletions());
      expect(ours.currentChatCompletionSnapshot).toBeUndefined();
      expect(ours.ended && !ours.errored && !ours.aborted).toBe(true);
      // both sent the same body: stream: true, stream_options as given (nothing added)
      expect(sent('aiwire', `fixture:${name}`).at(-1)).toEqual(sent('sdk', `fixture:${name}`).at(-1));
      expect(sent('aiwire', `fixture:${name}`).at(-1)).toMatchObject({ stream: true, ...extra });
      expect(names(ourLog).filter((n) => n === 'chunk').length).toBe(
        fixture(name)
          .toString()
          .split('\n\n')
          .filter((e) => e.startsWith('data: {')).length,
      );
    });
  }

  it('content: the text really arrived, multi-byte characters intact; usage totalled', async () => {
    const stream = aiwire().chat.completions.stream(
      params('content', { stream_options: { include_usage: true } }),
    );
    const deltas: string[] = [];
    stream.on('content', (delta) => deltas.push(delta));
    expect(await stream.finalContent()).toBe('Bonjour ! Café crème, 日本語 et 🙂 — "fin".\n');
    expect(deltas.join('')).toBe(await stream.finalContent());
    expect(await stream.totalUsage()).toEqual({ completion_tokens: 14, prompt_tokens: 19, total_tokens: 33 });
  });

  it('tool-calls: parallel calls merged by index; strict tools get parsed_arguments, as openai-node', async () => {
    const strict = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' }, strict: true } },
      { type: 'function', function: { name: 'get_time', parameters: { type: 'object' } } },
    ];
    const { ourLog, theirLog, ourFinal, theirFinal } = await both('tool-calls', { tools: strict });
    expect(ourLog).toEqual(theirLog);
    expect(ourFinal).toEqual(theirFinal);
    const calls = (ourFinal as unknown as { ok: { choices: { message: { tool_calls: unknown[] } }[] } }).ok
      .choices[0]?.message.tool_calls;
    expect(calls).toEqual([
      {
        id: 'call_Weather0Paris',
        type: 'function',
        function: {
          name: 'get_weather',
          arguments: '{"city": "Paris", "units": "celsius", "days": 3}',
          parsed_arguments: { city: 'Paris', units: 'celsius', days: 3 },
        },
      },
      {
        id: 'call_Weather1Kyoto',
        type: 'function',
        function: {
          name: 'get_weather',
          arguments: '{"city": "京都", "units": "celsius", "days": 10}',
          parsed_arguments: { city: '京都', units: 'celsius', days: 10 },
        },
      },
      {
        id: 'call_Time2Tokyo',
        type: 'function',
        function: { name: 'get_time', arguments: '{"tz": "Asia/Tokyo"}', parsed_arguments: null },
      },
    ]);
    const done = ourLog
      .filter((e) => e[0] === 'tool_calls.function.arguments.done')
      .map((e) => (e[1] as { index: number }).index);
    expect(done).toEqual([0, 1, 2]);
  });

  for (const [label, schema] of [
    ['zod 3', Math3],
    ['zod/v4', null],
  ] as const) {
    it(`structured (${label} zodResponseFormat): partial parsed snapshots, content.done parsed, message.parsed`, async () => {
      const { z: z4 } = await import('zod/v4');
      const s =
        schema ??
        z4.object({
          steps: z4.array(z4.object({ explanation: z4.string(), output: z4.string() })),
          final_answer: z4.string(),
          confidence: z4.number(),
          note: z4.string().nullable(),
        });
      const { ourLog, theirLog, ourFinal, theirFinal } = await both(
        'structured',
        { response_format: zodResponseFormat(s as never, 'math') },
        { response_format: sdkZodResponseFormat(s as never, 'math') },
      );
      expect(ourLog).toEqual(theirLog);
      expect(ourFinal).toEqual(theirFinal);
      const parsed = (ourFinal as unknown as { ok: { choices: { message: { parsed: unknown } }[] } }).ok
        .choices[0]?.message.parsed;
      expect(parsed).toEqual({
        steps: [
          { explanation: '8x + 31 = 2 → 8x = -29', output: '8x = -29' },
          { explanation: 'diviser par 8', output: 'x = -29/8' },
        ],
        final_answer: 'x = -3.625',
        confidence: 0.95,
        note: null,
      });
      const deltas = ourLog
        .filter((e) => e[0] === 'content.delta')
        .map((e) => (e[1] as { parsed: unknown }).parsed);
      expect(deltas.length).toBeGreaterThan(3);
      // a key cut off is dropped; a string cut off is kept as far as it goes
      expect(deltas[0]).toEqual({ steps: [{}] });
      expect(deltas[1]).toEqual({ steps: [{ explanation: '8x + 31 = 2 → 8x = -29', output: '8x = -2' }] });
      expect(sent('aiwire', 'fixture:structured').at(-1)).toEqual(sent('sdk', 'fixture:structured').at(-1));
    });
  }

  it('for await gives the chunks, as openai-node', async () => {
    const collect = async (stream: AsyncIterable<unknown>) => {
      const out: unknown[] = [];
      for await (const chunk of stream) out.push(chunk);
      return out;
    };
    for (const name of ['content', 'tool-calls', 'logprobs']) {
      const [theirs, ours] = await Promise.all([
        collect(sdk().chat.completions.stream(params(name) as never)),
        collect(aiwire().chat.completions.stream(params(name))),
      ]);
      expect(ours).toEqual(theirs);
      expect(ours.length).toBeGreaterThan(3);
    }
  });

  it('toReadableStream() → fromReadableStream() replays the same listener calls and completion', async () => {
    const source = aiwire().chat.completions.stream(params('tool-calls'));
    const sourceLog = record(source as never, STREAM_EVENTS);
    const replay = ChatCompletionStream.fromReadableStream(source.toReadableStream());
    const replayLog = record(replay as never, STREAM_EVENTS);
    const [a, b] = await Promise.all([source.finalChatCompletion(), replay.finalChatCompletion()]);
    expect(b).toEqual(a);
    const same = (log: Log) =>
      log.filter((e) => e[0] !== 'connect' && e[0] !== 'message' && e[0] !== 'finalMessage');
    expect(same(replayLog)).toEqual(same(sourceLog));
  });
});

describe('abort, errors and end: the same order as openai-node', () => {
  type Runner = {
    on(e: string, l: (...a: unknown[]) => void): unknown;
    abort(): void;
    finalChatCompletion(): Promise<unknown>;
    aborted: boolean;
    errored: boolean;
  };
  const run = async (stream: Runner, abortAt?: number) => {
    const log = record(stream as never, STREAM_EVENTS);
    let contents = 0;
    if (abortAt) {
      stream.on('content', () => {
        if (++contents === abortAt) stream.abort();
      });
    }
    const error = await stream.finalChatCompletion().then(
      () => undefined,
      (e: { constructor: { name: string }; status?: number }) => ({
        class: e.constructor.name,
        status: e.status,
      }),
    );
    return { log, error, aborted: stream.aborted, errored: stream.errored };
  };

  it('abort() mid-stream: abort then end; finalChatCompletion() rejects with APIUserAbortError', async () => {
    const theirs = await run(sdk().chat.completions.stream(params('content') as never) as never, 2);
    const ours = await run(aiwire().chat.completions.stream(params('content')) as never, 2);
    expect(names(ours.log).slice(-4)).toEqual(names(theirs.log).slice(-4));
    expect(names(ours.log).slice(-3)).toEqual(['content.delta', 'abort', 'end']);
    expect({ ...ours, log: undefined }).toEqual({ ...theirs, log: undefined });
    expect(ours.error).toEqual({ class: 'APIUserAbortError', status: undefined });
  });

  it("the request's signal aborts the stream the same way", async () => {
    const go = async (make: (signal: AbortSignal) => Runner) => {
      const ctl = new AbortController();
      const stream = make(ctl.signal);
      stream.on('content', () => ctl.abort());
      return run(stream);
    };
    const theirs = await go(
      (signal) => sdk().chat.completions.stream(params('content') as never, { signal }) as never,
    );
    const ours = await go(
      (signal) => aiwire().chat.completions.stream(params('content'), { signal }) as never,
    );
    expect(names(ours.log)).toEqual(names(theirs.log));
    expect(ours.error).toEqual({ class: 'APIUserAbortError', status: undefined });
  });

  it('HTTP 500: error (InternalServerError 500) then end, no connect', async () => {
    const theirs = await run(
      sdk().chat.completions.stream(params('x', { model: 'status:500' }) as never) as never,
    );
    const ours = await run(aiwire().chat.completions.stream(params('x', { model: 'status:500' })) as never);
    expect(ours.log).toEqual(theirs.log);
    expect(names(ours.log)).toEqual(['error', 'end']);
    expect(ours.error).toEqual({ class: 'InternalServerError', status: 500 });
    const stream = aiwire().chat.completions.stream(params('x', { model: 'status:500' }));
    await expect(stream.done()).rejects.toBeInstanceOf(InternalServerError);
  });

  it('in-stream error event: the chunks before it, then error (APIError, no status) and end', async () => {
    const theirs = await run(sdk().chat.completions.stream(params('error-in-stream') as never) as never);
    const ours = await run(aiwire().chat.completions.stream(params('error-in-stream')) as never);
    expect(ours.log).toEqual(theirs.log);
    expect(names(ours.log).slice(-2)).toEqual(['error', 'end']);
    expect(names(ours.log)).toContain('content');
    expect(ours.error).toEqual({ class: 'APIError', status: undefined });
    const stream = aiwire().chat.completions.stream(params('error-in-stream'));
    const err = await stream.finalContent().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).error).toMatchObject({ type: 'server_error' });
  });

  it('listeners added or removed while an event is emitted: as openai-node (from the next emission on)', async () => {
    const go = async (stream: {
      on(e: string, l: (...a: unknown[]) => void): unknown;
      off(e: string, l: (...a: unknown[]) => void): unknown;
      once(e: string, l: (...a: unknown[]) => void): unknown;
      done(): Promise<void>;
    }) => {
      const calls: string[] = [];
      let n = 0;
      const late = (d: unknown) => calls.push(`late:${d}`);
      const second = (d: unknown) => calls.push(`second:${d}`);
      stream.on('content', (d) => {
        calls.push(`first:${d}`);
        if (++n === 1) {
          stream.on('content', late);
          stream.off('content', second);
          stream.once('content', (x) => calls.push(`once:${x}`));
        }
      });
      stream.on('content', second);
      await stream.done();
      return calls;
    };
    const theirs = await go(sdk().chat.completions.stream(params('content') as never) as never);
    const ours = await go(aiwire().chat.completions.stream(params('content')) as never);
    expect(ours).toEqual(theirs);
    expect(ours.slice(0, 4)).toEqual(['first:Bonjour', 'second:Bonjour', 'first: ! Café', 'late: ! Café']);
  });

  it('emitted(), once(), off(), events(), done()', async () => {
    const stream = aiwire().chat.completions.stream(params('content'));
    let onceCalls = 0;
    const removed = () => {
      throw new Error('removed listener called');
    };
    stream.once('content', () => onceCalls++);
    stream.on('content', removed).off('content', removed);
    const iter = stream.events('content');
    const [first, completion] = await Promise.all([
      stream.emitted('content'),
      stream.emitted('chatCompletion'),
    ]);
    const seen: string[] = [];
    for await (const [delta] of iter) seen.push(delta);
    await stream.done();
    expect(onceCalls).toBe(1);
    expect(first).toEqual(['Bonjour', 'Bonjour']);
    expect(completion.id).toBe('chatcmpl-AaContent01');
    expect(seen.join('')).toBe(await stream.finalContent());
    const aborted = aiwire().chat.completions.stream(params('content'));
    aborted.abort();
    await expect(aborted.done()).rejects.toBeInstanceOf(APIUserAbortError);
  });
});

describe('partialParse: the same values as openai-node on every prefix', () => {
  const texts = [
    '{"steps":[{"explanation":"8x + 31 = 2 → 8x = -29","output":"8x = -29"}],"final_answer":"x = -3.625","confidence":0.95,"note":null}',
    '{"city": "京都", "units": "celsius", "days": 10, "ok": true, "x": [1, -2.5e3, false, null], "esc": "a\\"b\\u00e9\\n"}',
    '[1, 2, {"a": "b"}, [tr',
    '  {"nested": {"deep": [{"k": "v"}]}, "n": -0.5}  ',
    '12.5',
    '"just a string',
    '{"a": Infinity, "b": -Infinity, "c": NaN}',
  ];
  const attempt = (fn: (s: string) => unknown, s: string) => {
    try {
      return { value: fn(s) };
    } catch (e) {
      return { error: (e as Error).constructor.name };
    }
  };
  it('values (or the error class) match on each prefix', () => {
    let compared = 0;
    for (const text of texts) {
      for (let i = 1; i <= text.length; i++) {
        const prefix = text.slice(0, i);
        expect(attempt(partialParse, prefix), prefix).toEqual(attempt(sdkPartialParse, prefix));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(300);
    expect(attempt(partialParse, '   ')).toEqual(attempt(sdkPartialParse, '   '));
    expect(attempt(partialParse, 'nope')).toEqual(attempt(sdkPartialParse, 'nope'));
  });
});
