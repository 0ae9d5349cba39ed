// Type-level tests of the generated OpenAI schema types (src/providers/openai/generated/schemas.ts), written
// the way openai-node users write them. Checked by `npm run typecheck` (tsc --noEmit); nothing runs.
// `@ts-expect-error` lines must fail to compile: they guard against regressions of the generator
// (e.g. discriminator values rendered as schema names).
import type {
  ChatCompletionRequestMessage,
  ChatCompletionTool,
  CreateChatCompletionRequest,
  CreateChatCompletionResponse,
  CreateEmbeddingRequest,
  CreateEmbeddingResponse,
  CreateFileRequest,
  FineTuningJob,
  ListPaginatedFineTuningJobsResponse,
  Metadata,
  ResponseFormatJsonSchema,
} from '../../src/providers/openai/generated/schemas.js';

type Message = ChatCompletionRequestMessage;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

// Chat messages of each role.
export const messages: ChatCompletionRequestMessage[] = [
  { role: 'developer', content: 'You are terse.' },
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'hi' },
  { role: 'user', name: 'ann', content: [{ type: 'text', text: 'What is in this image?' }] },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'Describe' },
      { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } },
    ],
  },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ],
  },
  { role: 'assistant', content: 'Sunny.' },
  { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
];

// The discriminator property carries the wire value, never the schema name.
// @ts-expect-error role must be 'user', not the schema name
export const badRole: Message = { role: 'ChatCompletionRequestUserMessage', content: 'hi' };
// @ts-expect-error a tool message needs tool_call_id
export const missingToolCallId: ChatCompletionRequestMessage = { role: 'tool', content: 'x' };

// Narrowing on role works like a discriminated union.
export function textOf(m: ChatCompletionRequestMessage): string | undefined {
  if (m.role === 'tool') return m.tool_call_id;
  if (m.role === 'user' && typeof m.content === 'string') return m.content;
  return undefined;
}

// Tools with function parameters (JSON Schema is an open object).
export const tools: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
        required: ['city'],
        additionalProperties: false,
      },
      strict: true,
    },
  },
];

// response_format: json_schema.
export const responseFormat: ResponseFormatJsonSchema = {
  type: 'json_schema',
  json_schema: {
    name: 'weather',
    strict: true,
    schema: { type: 'object', properties: { temp: { type: 'number' } }, required: ['temp'] },
  },
};

// A full request; optional fields with defaults stay optional (defaultNonNullable is off).
export const request: CreateChatCompletionRequest = {
  model: 'gpt-4o-mini',
  messages,
  tools,
  tool_choice: 'auto',
  response_format: responseFormat,
  temperature: 0.2,
  max_completion_tokens: 256,
  stream: false,
  metadata: { run: 'types-test' },
  logit_bias: { '50256': -100 },
};
export const minimalRequest: CreateChatCompletionRequest = { model: 'gpt-4o-mini', messages: [] };
// @ts-expect-error messages is required
export const noMessages: CreateChatCompletionRequest = { model: 'gpt-4o-mini' };
// @ts-expect-error metadata values are strings
export const badMetadata: Metadata = { n: 1 };

// Reading a response.
export function firstChoice(r: CreateChatCompletionResponse): string | null | undefined {
  const choice = r.choices[0];
  const call = choice?.message.tool_calls?.[0];
  if (call?.type === 'function') return call.function.arguments;
  return choice?.message.content;
}

// Embeddings params.
export const embeddingParams: CreateEmbeddingRequest[] = [
  { model: 'text-embedding-3-small', input: 'The food was delicious' },
  { model: 'text-embedding-3-small', input: ['a', 'b'], encoding_format: 'float', dimensions: 256 },
  { model: 'my-fine-tuned-embedder', input: [[1, 2, 3]], encoding_format: 'base64' },
];
// @ts-expect-error encoding_format is 'float' | 'base64'
export const badEncoding: CreateEmbeddingRequest = { model: 'm', input: 'x', encoding_format: 'int8' };
export function firstVector(r: CreateEmbeddingResponse): number[] | undefined {
  return r.data[0]?.embedding;
}

// A fine-tuning job object, read.
export function describeJob(job: FineTuningJob): string {
  const status: 'validating_files' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' = job.status;
  const finished: number | null = job.finished_at;
  const tokens: number | null | undefined = job.trained_tokens;
  const error = job.error?.message ?? 'none';
  const method = job.method?.type;
  return `${job.id} ${job.object} ${job.model} ${status} ${finished} ${tokens} ${error} ${method}`;
}
export function jobIds(page: ListPaginatedFineTuningJobsResponse): string[] {
  return page.has_more ? page.data.map((j) => j.id) : [];
}
export type _JobObject = Expect<Equal<FineTuningJob['object'], 'fine_tuning.job'>>;

// Multipart file fields (`format: binary`) are Uploadable, not string.
export function uploadParams(file: Blob): CreateFileRequest {
  return { file, purpose: 'fine-tune' };
}
// @ts-expect-error a path string is not an Uploadable
export const badUpload: CreateFileRequest = { file: '/tmp/data.jsonl', purpose: 'fine-tune' };
