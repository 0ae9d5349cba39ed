// chat.completions.parse(), responses.parse() and the zod helpers, differential against openai-node
// 6.49.0 (devDependency, test oracle): the same schemas (zod 3 and zod/v4) through aiwire's
// `aiwire/helpers/zod` and `openai/helpers/zod` give the same JSON Schema (or the same refusal); the
// same requests through both clients to one loopback server send the same bodies (`response_format`
// json_schema, strict) and give the same parsed results, `_request_id`, and errors
// (LengthFinishReasonError, ContentFilterFinishReasonError, non-strict tools).
import {
  ContentFilterFinishReasonError as SdkContentFilterError,
  LengthFinishReasonError as SdkLengthError,
} from 'openai/core/error';
import {
  zodFunction as sdkZodFunction,
  zodResponseFormat as sdkZodResponseFormat,
  zodResponsesFunction as sdkZodResponsesFunction,
  zodTextFormat as sdkZodTextFormat,
} from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { z as z4 } from 'zod/v4';
import { zodFunction, zodResponseFormat, zodResponsesFunction, zodTextFormat } from '../src/helpers/zod.js';
import { ContentFilterFinishReasonError, LengthFinishReasonError, OpenAIError } from '../src/index.js';
import * as openaiEntry from '../src/openai.js';
import {
  aiwire,
  jsonAnswers,
  sdk,
  sent,
  settle,
  startServer,
  stopServer,
} from './helpers/openai-chat-server.js';

beforeAll(startServer);
afterAll(stopServer);

const attempt = (fn: () => unknown) => {
  try {
    return { value: JSON.parse(JSON.stringify(fn())) };
  } catch (e) {
    return { error: (e as Error).message };
  }
};

// zod 3 schemas, and the same shapes in zod/v4 where v4 has them
const Step3 = z.object({ explanation: z.string(), output: z.string() });
const Node3: z.ZodType<{ name: string; children: unknown[] }> = z.lazy(() =>
  z.object({ name: z.string(), children: z.array(Node3) }),
);
const SCHEMAS_V3: [string, z.ZodTypeAny][] = [
  [
    'math',
    z.object({
      steps: z.array(Step3),
      final_answer: z.string(),
      confidence: z.number(),
      note: z.string().nullable(),
    }),
  ],
  [
    'shared sub-schema ($ref under definitions)',
    z.object({ first: Step3, second: Step3, list: z.array(Step3) }),
  ],
  [
    'recursive root',
    z.object({ name: z.string(), children: z.array(z.lazy(() => SCHEMAS_V3[2]?.[1] as z.ZodTypeAny)) }),
  ],
  ['recursive inner', z.object({ tree: Node3 })],
  [
    'scalars and checks',
    z.object({
      email: z.string().email().describe('contact'),
      code: z
        .string()
        .regex(/^[A-Z]{3}$/)
        .min(3)
        .max(3),
      starts: z.string().startsWith('a.b'),
      n: z.number().int().min(0).lt(100).multipleOf(5),
      flag: z.boolean(),
      when: z.string().datetime(),
      uuids: z.array(z.string().uuid()).min(1).max(4),
    }),
  ],
  [
    'enums, literals, unions, nullable',
    z.object({
      color: z.enum(['red', 'green']),
      kind: z.literal('k'),
      lit: z.union([z.literal('a'), z.literal(1), z.literal(true)]),
      prim: z.union([z.string(), z.number(), z.null()]),
      obj: z.union([z.object({ a: z.string() }), z.object({ b: z.number() })]).nullable(),
      shape: z.discriminatedUnion('type', [
        z.object({ type: z.literal('circle'), r: z.number() }),
        z.object({ type: z.literal('square'), side: z.number() }),
      ]),
      maybe: z.array(z.string()).nullable(),
      dflt: z.string().default('x'),
      native: z.nativeEnum({ A: 'a', B: 'b' } as const),
    }),
  ],
  ['optional without nullable (refused)', z.object({ a: z.string().optional() })],
  [
    'record, tuple, intersection',
    z.object({ r: z.record(z.string()), t: z.tuple([z.string(), z.number()]) }),
  ],
];
const SCHEMAS_V4: [string, unknown][] = [
  [
    'math',
    z4.object({
      steps: z4.array(z4.object({ explanation: z4.string(), output: z4.string() })),
      final_answer: z4.string(),
      confidence: z4.number(),
      note: z4.string().nullable(),
    }),
  ],
  [
    'enums, unions, nullable, descriptions',
    z4.object({
      color: z4.enum(['red', 'green']).describe('a color'),
      prim: z4.union([z4.string(), z4.number()]),
      shape: z4.discriminatedUnion('type', [
        z4.object({ type: z4.literal('circle'), r: z4.number() }),
        z4.object({ type: z4.literal('square'), side: z4.number().int().min(1) }),
      ]),
      maybe: z4.array(z4.string()).nullable(),
      optNull: z4.string().nullable().optional(),
      nested: z4.object({ deep: z4.object({ x: z4.boolean() }) }),
    }),
  ],
  ['optional without nullable (refused)', z4.object({ a: z4.string().optional() })],
  ['root not an object (refused)', z4.array(z4.string())],
  ['open record (refused)', z4.object({ r: z4.record(z4.string(), z4.string()) })],
];

describe('zod helpers: the same JSON Schema (or the same refusal) as openai-node', () => {
  for (const [label, schema] of SCHEMAS_V3) {
    it(`zod 3: ${label}`, () => {
      const ours = attempt(() => zodResponseFormat(schema, 'answer'));
      expect(ours).toEqual(attempt(() => sdkZodResponseFormat(schema, 'answer')));
      expect(attempt(() => zodFunction({ name: 'fn', parameters: schema, description: 'd' }))).toEqual(
        attempt(() => sdkZodFunction({ name: 'fn', parameters: schema, description: 'd' })),
      );
      expect(attempt(() => zodTextFormat(schema, 'answer'))).toEqual(
        attempt(() => sdkZodTextFormat(schema, 'answer')),
      );
      if (label.includes('refused')) expect(ours).toHaveProperty('error');
      else expect(ours.value.json_schema.strict).toBe(true);
      if (label.startsWith('shared') || label.startsWith('recursive')) {
        expect(JSON.stringify(ours.value)).toContain('"$ref":"#/definitions/');
      }
    });
  }
  for (const [label, schema] of SCHEMAS_V4) {
    it(`zod/v4: ${label}`, () => {
      const ours = attempt(() => zodResponseFormat(schema as never, 'answer'));
      expect(ours).toEqual(attempt(() => sdkZodResponseFormat(schema as never, 'answer')));
      expect(attempt(() => zodResponsesFunction({ name: 'fn', parameters: schema as never }))).toEqual(
        attempt(() => sdkZodResponsesFunction({ name: 'fn', parameters: schema as never })),
      );
      if (label.includes('refused')) expect(ours).toHaveProperty('error');
      else expect(ours.value.json_schema.schema.additionalProperties).toBe(false);
    });
  }

  it('the brand is not sent: the format serializes to the plain json_schema object', () => {
    const format = zodResponseFormat(z.object({ a: z.string() }), 'a');
    expect(Object.keys(format)).toEqual(['type', 'json_schema']);
    expect(format.$parseRaw('{"a":"x"}')).toEqual({ a: 'x' });
    expect(() => format.$parseRaw('{"a":1}')).toThrow(z.ZodError);
  });
});

const head = { object: 'chat.completion', created: 1732982400, model: 'gpt-4o-2024-08-06' };
const usage = { prompt_tokens: 20, completion_tokens: 30, total_tokens: 50 };
const answer = (id: string, message: Record<string, unknown>, finish_reason = 'stop') => ({
  id,
  ...head,
  choices: [
    { index: 0, message: { role: 'assistant', refusal: null, ...message }, logprobs: null, finish_reason },
  ],
  usage,
});
const MATH = {
  steps: [{ explanation: 'subtract 31', output: '8x = -29' }],
  final_answer: 'x = -3.625',
  confidence: 0.5,
  note: null,
};
jsonAnswers['math-ok'] = answer('chatcmpl-parse1', { content: JSON.stringify(MATH) });
jsonAnswers['math-length'] = answer('chatcmpl-parse2', { content: '{"steps": [' }, 'length');
jsonAnswers['math-filter'] = answer('chatcmpl-parse3', { content: null }, 'content_filter');
jsonAnswers['math-refusal'] = answer('chatcmpl-parse4', {
  content: null,
  refusal: "I can't help with that.",
});
jsonAnswers['math-bad'] = answer('chatcmpl-parse5', { content: '{"steps": "nope"}' });
jsonAnswers.tools = answer(
  'chatcmpl-parse6',
  {
    content: null,
    tool_calls: [
      {
        id: 'call_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris","days":3}' },
      },
      { id: 'call_2', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } },
    ],
  },
  'tool_calls',
);

describe('chat.completions.parse(): the same request and result as openai-node', () => {
  const math3 = SCHEMAS_V3[0]?.[1] as z.ZodTypeAny;
  const math4 = SCHEMAS_V4[0]?.[1] as never;
  for (const [label, schema] of [
    ['zod 3', math3],
    ['zod/v4', math4],
  ] as const) {
    for (const key of ['math-ok', 'math-refusal', 'math-length', 'math-filter', 'math-bad']) {
      it(`${label}: ${key}`, async () => {
        const model = `json:${key}`;
        const messages = [{ role: 'user' as const, content: 'solve 8x + 31 = 2' }];
        const theirs = await settle(
          sdk().chat.completions.parse({
            model,
            messages,
            response_format: sdkZodResponseFormat(schema, 'math'),
          }),
        );
        const promise = aiwire().chat.completions.parse({
          model,
          messages,
          response_format: zodResponseFormat(schema, 'math'),
        });
        const ours = await settle(promise);
        expect(ours).toEqual(theirs);
        const body = sent('aiwire', model).at(-1);
        expect(body).toEqual(sent('sdk', model).at(-1));
        expect(body?.response_format).toMatchObject({
          type: 'json_schema',
          json_schema: { name: 'math', strict: true },
        });
        if (key === 'math-ok') {
          expect(
            (ours as { ok: { choices: { message: { parsed: unknown } }[] } }).ok.choices[0]?.message.parsed,
          ).toEqual(MATH);
          expect((await promise)._request_id).toBe('req_math-ok');
        }
        if (key === 'math-refusal') expect(JSON.stringify(ours)).toContain('"parsed":null');
        if (key === 'math-length') {
          await expect(promise).rejects.toBeInstanceOf(LengthFinishReasonError);
          expect(ours).toEqual({ error: 'LengthFinishReasonError', message: new SdkLengthError().message });
        }
        if (key === 'math-filter')
          await expect(promise).rejects.toBeInstanceOf(ContentFilterFinishReasonError);
        if (key === 'math-bad') expect(ours).toMatchObject({ error: 'ZodError' });
      });
    }
  }

  it('tools: zodFunction and strict tools get parsed_arguments; a non-strict tool is refused before sending', async () => {
    const Weather = z.object({ city: z.string(), days: z.number().int() });
    const strictLookup = {
      type: 'function' as const,
      function: {
        name: 'lookup',
        strict: true,
        parameters: { type: 'object', properties: { q: { type: 'string' } } },
      },
    };
    const messages = [{ role: 'user' as const, content: 'weather?' }];
    const theirs = await sdk().chat.completions.parse({
      model: 'json:tools',
      messages,
      tools: [sdkZodFunction({ name: 'get_weather', parameters: Weather }), strictLookup],
    });
    const ours = await aiwire().chat.completions.parse({
      model: 'json:tools',
      messages,
      tools: [zodFunction({ name: 'get_weather', parameters: Weather }), strictLookup],
    });
    expect(ours).toEqual(JSON.parse(JSON.stringify(theirs)));
    expect(ours.choices[0]?.message.tool_calls?.map((c) => c.function.parsed_arguments)).toEqual([
      { city: 'Paris', days: 3 },
      { q: 'x' },
    ]);
    expect(sent('aiwire', 'json:tools').at(-1)).toEqual(sent('sdk', 'json:tools').at(-1));
    const loose = { type: 'function' as const, function: { name: 'loose', parameters: {} } };
    const refuse = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as Error).message;
      }
    };
    const before = sent('aiwire', 'json:tools').length;
    const ourError = refuse(() =>
      aiwire().chat.completions.parse({ model: 'json:tools', messages, tools: [loose] }),
    );
    expect(ourError).toBe(
      refuse(() => sdk().chat.completions.parse({ model: 'json:tools', messages, tools: [loose] })),
    );
    expect(ourError).toContain('`loose` tool is not marked with `strict: true`');
    expect(sent('aiwire', 'json:tools').length).toBe(before);
  });

  it('the error classes are exported from aiwire and aiwire/openai and extend OpenAIError', () => {
    expect(openaiEntry.LengthFinishReasonError).toBe(LengthFinishReasonError);
    expect(openaiEntry.ContentFilterFinishReasonError).toBe(ContentFilterFinishReasonError);
    expect(new LengthFinishReasonError()).toBeInstanceOf(OpenAIError);
    expect(new ContentFilterFinishReasonError().message).toBe(new SdkContentFilterError().message);
  });
});

describe('responses.parse(): the same request and result as openai-node', () => {
  const Answer = z.object({ answer: z.string(), score: z.number() });
  const Search = z.object({ query: z.string() });
  const response = (status: string) => ({
    id: 'resp_parse1',
    object: 'response',
    created_at: 1732982400,
    status,
    model: 'gpt-4o-2024-08-06',
    output: [
      {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        status: 'completed',
        content: [
          { type: 'output_text', text: '{"answer":"42 ✓","score":0.9}', annotations: [], logprobs: [] },
        ],
      },
      {
        id: 'fc_1',
        type: 'function_call',
        call_id: 'call_1',
        name: 'search',
        arguments: '{"query":"q"}',
        status: 'completed',
      },
    ],
    usage: { input_tokens: 10, output_tokens: 20, total_tokens: 30 },
  });
  jsonAnswers['resp:completed'] = response('completed');
  jsonAnswers['resp:incomplete'] = response('incomplete');

  for (const model of ['resp:completed', 'resp:incomplete']) {
    it(`${model}: output_parsed, parsed, parsed_arguments`, async () => {
      const base = { model, input: 'meaning of life?' };
      const theirs = await sdk().responses.parse({
        ...base,
        text: { format: sdkZodTextFormat(Answer, 'answer') },
        tools: [sdkZodResponsesFunction({ name: 'search', parameters: Search })],
      });
      const ours = await aiwire().responses.parse({
        ...base,
        text: { format: zodTextFormat(Answer, 'answer') },
        tools: [zodResponsesFunction({ name: 'search', parameters: Search })],
      });
      expect(structuredClone(ours)).toEqual(structuredClone(theirs));
      expect(ours.output_parsed).toEqual(theirs.output_parsed);
      expect(ours.output_text).toBe('{"answer":"42 ✓","score":0.9}');
      if (model === 'resp:completed') expect(ours.output_parsed).toEqual({ answer: '42 ✓', score: 0.9 });
      else expect(ours.output_parsed).toBeNull();
      expect(sent('aiwire', model).at(-1)).toEqual(sent('sdk', model).at(-1));
      expect(sent('aiwire', model).at(-1)?.text).toMatchObject({
        format: { type: 'json_schema', name: 'answer', strict: true },
      });
    });
  }
});
