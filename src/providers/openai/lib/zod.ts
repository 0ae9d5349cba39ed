/**
 * zod helpers (`aiwire/helpers/zod`, openai-node's `openai/helpers/zod`): a zod schema as a Structured
 * Outputs `response_format` (`zodResponseFormat`), Responses API `text.format` (`zodTextFormat`), or
 * function tool (`zodFunction`, `zodResponsesFunction`), each strict and auto-parseable: `parse()`,
 * `stream()`, `runTools()` and `responses.parse()` parse the model's JSON with the schema itself
 * (`schema.parse`), so `parsed` / `parsed_arguments` are the schema's output type.
 *
 * zod is an optional peer dependency (3.25+, whose `zod/v4` is used, or 4.x). zod 4 schemas are
 * converted with zod's own `z.toJSONSchema` (draft-07, discriminated unions as `anyOf`) then made strict
 * (strict-schema.ts); zod 3 schemas with aiwire's converter (zod-v3-schema.ts), which gives what
 * openai-node sends for them. A field that is `.optional()` without `.nullable()` is refused (the API
 * requires every field); so are types JSON Schema can't carry.
 * Reference: https://platform.openai.com/docs/guides/structured-outputs
 */
import * as z4 from 'zod/v4';
import { AiwireError } from '../../../core/errors.js';
import type * as S from '../generated/schemas.js';
import type {
  AutoParseableResponseFormat,
  AutoParseableResponseTool,
  AutoParseableTextFormat,
  AutoParseableTool,
} from './chat-types.js';
import { makeParseableResponseFormat, makeParseableTextFormat, makeParseableTool } from './parser.js';
import { makeParseableResponseTool } from './responses-parser.js';
import { toStrictJsonSchema } from './strict-schema.js';
import { zodV3ToJsonSchema } from './zod-v3-schema.js';

/** A zod 3 or zod 4 schema (structurally: its output type, and `parse`). */
export type ZodTypeLike = ({ _output: unknown } | { _zod: { output: unknown } }) & {
  parse?: (data: unknown) => unknown;
};

/** The output type of a zod 3 or zod 4 schema. */
export type InferZodType<T extends ZodTypeLike> = T extends { _output: infer Output }
  ? Output
  : T extends { _zod: { output: infer Output } }
    ? Output
    : never;

type Json = Record<string, unknown>;

const isZodV4 = (schema: object): boolean => '_zod' in schema;

function zodV4ToJsonSchema(schema: ZodTypeLike): Json {
  const json = z4.toJSONSchema(schema as never, {
    target: 'draft-7',
    override: ({ zodSchema, jsonSchema }) => {
      const def = (zodSchema as unknown as { _zod: { def: { type: string; discriminator?: string } } })._zod
        .def;
      const out = jsonSchema as Json;
      // discriminated unions: the branches exclude each other, so anyOf says the same in strict's subset
      if (def.type === 'union' && 'discriminator' in def && Array.isArray(out.oneOf)) {
        if (out.anyOf !== undefined) {
          throw new Error(
            'Zod discriminated union generated both `anyOf` and `oneOf`, which cannot be represented in an OpenAI strict schema',
          );
        }
        out.anyOf = out.oneOf;
        delete out.oneOf;
      }
    },
  }) as Json;
  return toStrictJsonSchema(json);
}

function toJsonSchema(schema: ZodTypeLike, name: string): Json {
  return isZodV4(schema) ? zodV4ToJsonSchema(schema) : zodV3ToJsonSchema(schema as never, name);
}

/** `JSON.parse(content)` then the schema's own `parse` (zod 4 mini schemas: `z.parse`). */
function parseWith(schema: ZodTypeLike, content: string): unknown {
  const value = JSON.parse(content);
  if (typeof schema.parse === 'function') return schema.parse.call(schema, value);
  return z4.parse(schema as never, value);
}

/**
 * A strict `json_schema` `response_format` named `name` from a zod object schema; `parse()` /
 * `stream()` give `message.parsed` as the schema's output.
 * @param props other `json_schema` fields (e.g. `description`). `schemaDefinitions` is not supported.
 * @throws Error when the schema can't be a strict schema (optional without nullable, unsupported types).
 */
export function zodResponseFormat<ZodInput extends ZodTypeLike>(
  zodObject: ZodInput,
  name: string,
  props?: Omit<S.ResponseFormatJsonSchema['json_schema'], 'schema' | 'strict' | 'name'> & {
    schemaDefinitions?: never;
  },
): AutoParseableResponseFormat<InferZodType<ZodInput>> {
  const { schemaDefinitions, ...rest } = (props ?? {}) as Json;
  if (schemaDefinitions !== undefined) {
    throw new AiwireError(
      'zodResponseFormat: `schemaDefinitions` is not supported by aiwire; reuse a schema object instead (it is written once under `definitions`)',
    );
  }
  return makeParseableResponseFormat(
    {
      type: 'json_schema',
      json_schema: { ...rest, name, strict: true, schema: toJsonSchema(zodObject, name) },
    },
    (content) => parseWith(zodObject, content),
  ) as AutoParseableResponseFormat<InferZodType<ZodInput>>;
}

/** As {@link zodResponseFormat}, as a Responses API `text.format` (`responses.parse()` gives `output_parsed`). */
export function zodTextFormat<ZodInput extends ZodTypeLike>(
  zodObject: ZodInput,
  name: string,
  props?: Omit<S.TextResponseFormatJsonSchema, 'schema' | 'type' | 'strict' | 'name'>,
): AutoParseableTextFormat<InferZodType<ZodInput>> {
  return makeParseableTextFormat(
    { type: 'json_schema', ...props, name, strict: true, schema: toJsonSchema(zodObject, name) } as never,
    (content) => parseWith(zodObject, content),
  ) as AutoParseableTextFormat<InferZodType<ZodInput>>;
}

/** The options of {@link zodFunction} / {@link zodResponsesFunction}. */
export interface ZodFunctionOptions<Parameters extends ZodTypeLike> {
  /** The function's name as the model sees it. */
  name: string;
  /** The arguments' schema (an object schema). */
  parameters: Parameters;
  /** What `runTools()` calls with the parsed arguments; its result (JSON-encoded unless a string) goes back to the model. */
  function?: ((args: InferZodType<Parameters>) => unknown | Promise<unknown>) | undefined;
  description?: string | undefined;
}

/** A strict Chat Completions function tool from a zod schema; `parsed_arguments` is its output, `runTools()` calls `function`. */
export function zodFunction<Parameters extends ZodTypeLike>(
  options: ZodFunctionOptions<Parameters>,
): AutoParseableTool<InferZodType<Parameters>> {
  return makeParseableTool(
    {
      type: 'function',
      function: {
        name: options.name,
        parameters: toJsonSchema(options.parameters, options.name),
        strict: true,
        ...(options.description ? { description: options.description } : undefined),
      },
    },
    {
      callback: options.function as never,
      parser: (args: string) => parseWith(options.parameters, args) as never,
    },
  ) as never;
}

/** As {@link zodFunction}, as a Responses API function tool (`parsed_arguments` on function calls of `responses.parse()`). */
export function zodResponsesFunction<Parameters extends ZodTypeLike>(
  options: ZodFunctionOptions<Parameters>,
): AutoParseableResponseTool<InferZodType<Parameters>> {
  return makeParseableResponseTool(
    {
      type: 'function',
      name: options.name,
      parameters: toJsonSchema(options.parameters, options.name),
      strict: true,
      ...(options.description ? { description: options.description } : undefined),
    } as S.FunctionTool,
    {
      callback: options.function as never,
      parser: (args: string) => parseWith(options.parameters, args) as never,
    },
  ) as never;
}
