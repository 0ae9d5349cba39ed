// Type-level tests of the OpenAI helpers, used the way application code uses them: the parsed type
// flows from a zod schema through zodResponseFormat / zodTextFormat into parse(), stream() and
// responses.parse(); listeners get typed arguments; runTools() returns the runner its `stream` asks
// for. Checked by `npm run typecheck` (tsc --noEmit, strict); nothing runs. `@ts-expect-error` lines
// must fail to compile.
import { z } from 'zod';
import { z as z4 } from 'zod/v4';
import { zodFunction, zodResponseFormat, zodTextFormat } from '../../src/helpers/zod.js';
import type {
  ChatCompletionRunner,
  ChatCompletionStream,
  ChatCompletionStreamingRunner,
  OpenAI,
} from '../../src/index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assert = <T extends true>(_: T) => {};

declare const client: OpenAI;
const messages = [{ role: 'user' as const, content: 'hi' }];
const Answer = z.object({ answer: z.string(), score: z.number().nullable() });
const Answer4 = z4.object({ answer: z4.string(), tags: z4.array(z4.string()) });

export async function parseTypes(): Promise<void> {
  const completion = await client.chat.completions.parse({
    model: 'gpt-4o',
    messages,
    response_format: zodResponseFormat(Answer, 'answer'),
  });
  const parsed = completion.choices[0]?.message.parsed;
  assert<Equal<typeof parsed, { answer: string; score: number | null } | null | undefined>>(true);

  const v4 = await client.chat.completions.parse({
    model: 'gpt-4o',
    messages,
    response_format: zodResponseFormat(Answer4, 'a'),
  });
  assert<
    Equal<
      (typeof v4.choices)[0] extends { message: { parsed: infer P } } ? P : never,
      { answer: string; tags: string[] } | null
    >
  >(true);

  // no auto-parseable format: parsed is null
  const plain = await client.chat.completions.parse({ model: 'gpt-4o', messages });
  assert<Equal<NonNullable<(typeof plain.choices)[0]>['message']['parsed'], null>>(true);
  const args: unknown = plain.choices[0]?.message.tool_calls?.[0]?.function.parsed_arguments;
  void args;

  const response = await client.responses.parse({
    model: 'gpt-4o',
    input: 'hi',
    text: { format: zodTextFormat(Answer, 'answer') },
  });
  assert<Equal<typeof response.output_parsed, { answer: string; score: number | null } | null>>(true);
  const text: string = response.output_text;
  void text;
}

export async function streamTypes(): Promise<void> {
  const stream = client.chat.completions.stream({
    model: 'gpt-4o',
    messages,
    response_format: zodResponseFormat(Answer, 'a'),
  });
  assert<Equal<typeof stream, ChatCompletionStream<{ answer: string; score: number | null }>>>(true);
  stream.on('content', (delta, snapshot) => {
    const both: [string, string] = [delta, snapshot];
    void both;
  });
  stream.on('chunk', (chunk, snapshot) => {
    const id: string = chunk.id;
    const n: number = snapshot.choices.length;
    void id;
    void n;
  });
  stream.on('tool_calls.function.arguments.done', (e) => {
    const name: string = e.name;
    void name;
  });
  // @ts-expect-error not an event of ChatCompletionStream
  stream.on('contentDelta', () => {});
  const final = await stream.finalChatCompletion();
  const p = final.choices[0]?.message.parsed;
  assert<Equal<typeof p, { answer: string; score: number | null } | null | undefined>>(true);
  for await (const chunk of stream) {
    const created: number = chunk.created;
    void created;
  }
  const content: string | null = await stream.finalContent();
  void content;
}

export function runToolsTypes(): void {
  const weather = zodFunction({
    name: 'get_weather',
    parameters: z.object({ city: z.string() }),
    function: (args) => {
      const city: string = args.city;
      return city;
    },
  });
  const runner = client.chat.completions.runTools({ model: 'gpt-4o', messages, tools: [weather] });
  assert<Equal<typeof runner, ChatCompletionRunner<null>>>(true);
  const streaming = client.chat.completions.runTools({
    model: 'gpt-4o',
    messages,
    tools: [weather],
    stream: true,
  });
  assert<Equal<typeof streaming, ChatCompletionStreamingRunner<null>>>(true);
  runner.on('functionToolCallResult', (result) => {
    const s: string = result;
    void s;
  });
  client.chat.completions.runTools(
    {
      model: 'gpt-4o',
      messages,
      tools: [
        {
          type: 'function',
          function: { function: (args: string) => args.length, parameters: { type: 'object' } },
        },
      ],
    },
    { maxChatCompletions: 3 },
  );
}
