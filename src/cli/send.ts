/**
 * Sending a `ChatRequest` with aiwire's public clients (`aiwire` for OpenAI, `aiwire/anthropic`) and
 * printing the outcome: the reply (or the streamed text as it arrives) on stdout, one line of usage
 * and timing on stderr; with `json`, the response or each stream event as a JSON line instead of text.
 * API errors are printed with their status, type, message and request id (exit 1).
 *
 * The clients are imported when a request is sent, so `aiwire --help` does not load the engine.
 *
 * @module
 */
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  OpenAI,
} from '../index.js';
import { EXIT_FAILURE, EXIT_OK, elapsedMs, fail, out, UsageError } from './common.js';
import { type ChatRequest, DEFAULT_ANTHROPIC_MAX_TOKENS, type Provider } from './request.js';

/** How to send and print. */
export interface SendOptions {
  /** Print the raw response / each stream event as JSON lines. */
  json: boolean;
  /** `--base-url`, over the request's own `api_base` and the provider's environment variable. */
  baseURL?: string | undefined;
}

/** The environment variable holding each provider's API key. */
export const KEY_VARIABLES: Record<Provider, string> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
};

/**
 * The provider's API key from the environment (Anthropic: `ANTHROPIC_API_KEY`, else
 * `ANTHROPIC_AUTH_TOKEN`).
 *
 * @throws UsageError naming the variable when it is unset or empty.
 */
export function apiKeyFor(provider: Provider): { apiKey?: string; authToken?: string } {
  const name = KEY_VARIABLES[provider];
  const key = process.env[name];
  if (key) return { apiKey: key };
  const token = provider === 'anthropic' ? process.env.ANTHROPIC_AUTH_TOKEN : undefined;
  if (token) return { authToken: token };
  throw new UsageError(
    `${name} is not set: export ${name}=... (the ${provider} API key; any value works with 'aiwire mock')`,
  );
}

/** What one exchange produced, for the stderr summary line. */
interface Summary {
  input?: number | undefined;
  output?: number | undefined;
  finish?: string | null | undefined;
  requestId?: string | null | undefined;
  firstTokenMs?: number | undefined;
}

function summarize(s: Summary, started: number): void {
  const parts = [
    `input_tokens=${s.input ?? '?'}`,
    `output_tokens=${s.output ?? '?'}`,
    `finish_reason=${s.finish ?? '?'}`,
    `time_ms=${elapsedMs(started)}`,
  ];
  if (s.firstTokenMs !== undefined) parts.push(`first_token_ms=${s.firstTokenMs}`);
  if (s.requestId) parts.push(`request_id=${s.requestId}`);
  process.stderr.write(`aiwire: ${parts.join(' ')}\n`);
}

/** Anthropic's base URL has no `/v1` (its paths carry it): a trailing `/v1` is dropped. */
function anthropicBase(url: string | undefined): string | undefined {
  return url?.replace(/\/v1\/?$/, '').replace(/\/$/, '');
}

function openaiBody(req: ChatRequest): Record<string, unknown> {
  const { max_tokens, ...rest } = req.parameters;
  const body: Record<string, unknown> = {
    model: req.model,
    messages: req.messages.map(({ role, content }) => ({ role, content })),
    ...rest,
  };
  if (max_tokens !== undefined) body.max_completion_tokens = max_tokens;
  if (req.stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return body;
}

function anthropicBody(req: ChatRequest): Record<string, unknown> {
  const { max_tokens, stop, ...rest } = req.parameters;
  const system = req.messages.filter((m) => m.role === 'system').map((m) => m.content);
  const body: Record<string, unknown> = {
    model: req.model,
    max_tokens: max_tokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
    messages: req.messages.filter((m) => m.role !== 'system').map(({ role, content }) => ({ role, content })),
    ...rest,
  };
  if (system.length > 0) body.system = system.join('\n\n');
  if (stop !== undefined && stop !== null) body.stop_sequences = typeof stop === 'string' ? [stop] : stop;
  if (req.stream) body.stream = true;
  return body;
}

/** Ends stdout's text with a newline. */
function endLine(text: string): void {
  if (text !== '' && !text.endsWith('\n')) out('\n');
}

async function sendOpenAI(client: OpenAI, req: ChatRequest, opts: SendOptions): Promise<void> {
  const started = performance.now();
  const body = openaiBody(req);
  if (!req.stream) {
    const { data: completion, request_id } = await client.chat.completions
      .create(body as unknown as ChatCompletionCreateParamsNonStreaming)
      .withResponse();
    const choice = completion.choices[0];
    if (opts.json) out(`${JSON.stringify(completion)}\n`);
    else {
      const message = choice?.message;
      let text = message?.content ?? message?.refusal ?? '';
      for (const call of message?.tool_calls ?? []) {
        if (call.type === 'function')
          text += `${text ? '\n' : ''}[tool_call ${call.function.name}] ${call.function.arguments}`;
      }
      out(text);
      endLine(text || ' ');
    }
    summarize(
      {
        input: completion.usage?.prompt_tokens,
        output: completion.usage?.completion_tokens,
        finish: choice?.finish_reason,
        requestId: request_id,
      },
      started,
    );
    return;
  }
  const stream = await client.chat.completions.create(body as unknown as ChatCompletionCreateParamsStreaming);
  const summary: Summary = {};
  let printed = '';
  try {
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      const text = choice?.delta?.content ?? '';
      if (summary.firstTokenMs === undefined && text) summary.firstTokenMs = elapsedMs(started);
      if (choice?.finish_reason) summary.finish = choice.finish_reason;
      if (chunk.usage) {
        summary.input = chunk.usage.prompt_tokens;
        summary.output = chunk.usage.completion_tokens;
      }
      if (opts.json) out(`${JSON.stringify(chunk)}\n`);
      else if (text) {
        out(text);
        printed += text;
      }
    }
  } finally {
    if (!opts.json) endLine(printed || ' ');
  }
  summarize(summary, started);
}

/** The parts of Anthropic's message and stream events the CLI reads. */
interface AnthropicBlock {
  type: string;
  text?: string;
  name?: string;
  input?: unknown;
}
interface AnthropicMessage {
  content: AnthropicBlock[];
  stop_reason: string | null;
  usage: { input_tokens: number; output_tokens: number };
}
interface AnthropicEvent {
  type: string;
  message?: AnthropicMessage;
  delta?: { type?: string; text?: string; stop_reason?: string | null };
  usage?: { output_tokens?: number; input_tokens?: number | null };
}

async function sendAnthropic(
  req: ChatRequest,
  key: { apiKey?: string; authToken?: string },
  opts: SendOptions,
) {
  const { Anthropic } = await import('../anthropic.js');
  const client = new Anthropic({ ...key, baseURL: anthropicBase(opts.baseURL ?? req.baseURL) });
  const started = performance.now();
  const body = anthropicBody(req) as never;
  if (!req.stream) {
    const { data, request_id } = await client.messages.create(body).withResponse();
    const message = data as unknown as AnthropicMessage;
    if (opts.json) out(`${JSON.stringify(message)}\n`);
    else {
      const text = message.content
        .map((b) =>
          b.type === 'text'
            ? (b.text ?? '')
            : b.type === 'tool_use'
              ? `[tool_use ${b.name}] ${JSON.stringify(b.input)}\n`
              : '',
        )
        .join('');
      out(text);
      endLine(text || ' ');
    }
    summarize(
      {
        input: message.usage?.input_tokens,
        output: message.usage?.output_tokens,
        finish: message.stop_reason,
        requestId: request_id,
      },
      started,
    );
    return;
  }
  const stream = (await client.messages.create(body)) as unknown as AsyncIterable<AnthropicEvent>;
  const summary: Summary = {};
  let printed = '';
  try {
    for await (const event of stream) {
      if (opts.json) out(`${JSON.stringify(event)}\n`);
      if (event.type === 'message_start') {
        summary.input = event.message?.usage.input_tokens;
        summary.output = event.message?.usage.output_tokens;
      } else if (event.type === 'content_block_delta' && event.delta?.type === 'text_delta') {
        const text = event.delta.text ?? '';
        if (summary.firstTokenMs === undefined && text) summary.firstTokenMs = elapsedMs(started);
        if (!opts.json) {
          out(text);
          printed += text;
        }
      } else if (event.type === 'message_delta') {
        if (event.delta?.stop_reason) summary.finish = event.delta.stop_reason;
        if (typeof event.usage?.output_tokens === 'number') summary.output = event.usage.output_tokens;
        if (typeof event.usage?.input_tokens === 'number') summary.input = event.usage.input_tokens;
      }
    }
  } finally {
    if (!opts.json) endLine(printed || ' ');
  }
  summarize(summary, started);
}

/** One line about an error from a client: `<Class> <status> <type>: <message> (request id …)`. */
async function describeError(e: unknown): Promise<string | undefined> {
  const { APIError } = await import('../index.js');
  if (!(e instanceof APIError)) return undefined;
  const status = e.status;
  let message = e.message;
  if (status !== undefined && message.startsWith(`${status} `)) message = message.slice(`${status} `.length);
  const head = [e.constructor.name, status, e.type].filter((x) => x !== undefined && x !== null).join(' ');
  const cause = e.cause instanceof Error && e.cause.message ? ` (${e.cause.message})` : '';
  const id = e.requestID ? ` (request id ${e.requestID})` : '';
  return `${head}: ${message}${cause}${id}`;
}

/**
 * Sends `req` and prints the outcome.
 *
 * @returns 0 on success, 1 when the API (or the connection) failed.
 * @throws UsageError when the provider's API key is not in the environment.
 */
export async function send(req: ChatRequest, opts: SendOptions): Promise<number> {
  const key = apiKeyFor(req.provider);
  try {
    if (req.provider === 'anthropic') await sendAnthropic(req, key, opts);
    else {
      const { OpenAI } = await import('../index.js');
      const client = new OpenAI({ apiKey: key.apiKey, baseURL: opts.baseURL ?? req.baseURL });
      await sendOpenAI(client, req, opts);
    }
    return EXIT_OK;
  } catch (e) {
    const line = await describeError(e);
    if (line === undefined) throw e;
    fail(line);
    return EXIT_FAILURE;
  }
}
