/**
 * `aiwire chat --provider openai|anthropic --model M [options] [PROMPT | -]`: one prompt, one reply.
 * The prompt comes from the arguments, or from stdin when there is none (or it is `-`).
 *
 * @module
 */
import { helpHint, numberOption, out, parseCommandArgs, stringOption, UsageError } from './common.js';
import {
  type ChatMessage,
  checkParameters,
  DEFAULT_ANTHROPIC_MAX_TOKENS,
  PROVIDERS,
  type Provider,
  SchemaError,
} from './request.js';
import { send } from './send.js';

export const CHAT_HELP = `Usage: aiwire chat --model M [--provider openai|anthropic] [options] [PROMPT | -]

Send one prompt and print the reply on stdout (usage and timing on stderr). The prompt is the
arguments joined by spaces; without one (or with -) it is read from stdin.

  -p, --provider P       openai (default) or anthropic
  -m, --model M          the model (required), e.g. gpt-4o-mini, claude-sonnet-4-6
      --system TEXT      a system prompt
      --max-tokens N     the reply's token limit (Anthropic requires one: default ${DEFAULT_ANTHROPIC_MAX_TOKENS})
      --temperature T    sampling temperature (OpenAI 0-2, Anthropic 0-1)
  -s, --stream           stream the reply, printing text as it arrives
      --json             print the raw response (with --stream: each stream event) as JSON lines
      --base-url URL     API base URL (default: OPENAI_BASE_URL / ANTHROPIC_BASE_URL, else the
                         provider's); OpenAI's includes /v1, Anthropic's does not
  -h, --help             show this help

Environment: OPENAI_API_KEY or ANTHROPIC_API_KEY.
Exit codes: 0 success, 1 API or connection error, 2 usage error.
Example: echo "Say hi" | aiwire chat --provider anthropic --model claude-sonnet-4-6 --stream
`;

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    process.stderr.write('aiwire: reading the prompt from stdin (end it with Ctrl-D)\n');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Runs `aiwire chat`; returns the exit code. */
export async function chatCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('chat', argv, {
    provider: { type: 'string', short: 'p' },
    model: { type: 'string', short: 'm' },
    system: { type: 'string' },
    'max-tokens': { type: 'string' },
    temperature: { type: 'string' },
    stream: { type: 'boolean', short: 's' },
    json: { type: 'boolean' },
    'base-url': { type: 'string' },
  });
  if (values.help) {
    out(CHAT_HELP);
    return 0;
  }
  const provider = stringOption(values, 'provider') ?? 'openai';
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    throw new UsageError(
      `--provider must be one of ${PROVIDERS.join(', ')}, got '${provider}'`,
      helpHint('chat'),
    );
  }
  const model = stringOption(values, 'model');
  if (!model) throw new UsageError('--model M is required', helpHint('chat'));
  const parameters: Record<string, unknown> = {};
  const maxTokens = numberOption('chat', values, 'max-tokens', {
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    integer: true,
  });
  if (maxTokens !== undefined) parameters.max_tokens = maxTokens;
  const temperature = numberOption('chat', values, 'temperature', {
    min: 0,
    max: provider === 'anthropic' ? 1 : 2,
  });
  if (temperature !== undefined) parameters.temperature = temperature;
  try {
    checkParameters(provider as Provider, parameters);
  } catch (e) {
    if (e instanceof SchemaError) throw new UsageError(e.message, helpHint('chat'));
    throw e;
  }
  const baseURL = stringOption(values, 'base-url');
  if (baseURL !== undefined && !URL.canParse(baseURL)) {
    throw new UsageError(`--base-url must be a URL, got '${baseURL}'`, helpHint('chat'));
  }

  const fromStdin = positionals.length === 0 || (positionals.length === 1 && positionals[0] === '-');
  if (!fromStdin && positionals.includes('-')) {
    throw new UsageError("'-' (read the prompt from stdin) cannot be mixed with a prompt", helpHint('chat'));
  }
  const prompt = fromStdin ? (await readStdin()).replace(/\r?\n$/, '') : positionals.join(' ');
  if (prompt.trim() === '') {
    throw new UsageError(
      fromStdin ? 'the prompt read from stdin is empty' : 'the prompt is empty',
      helpHint('chat'),
    );
  }
  const messages: ChatMessage[] = [];
  const system = stringOption(values, 'system');
  if (system) messages.push({ role: 'system', content: system });
  messages.push({ role: 'user', content: prompt });
  return send(
    { provider: provider as Provider, model, messages, parameters, stream: values.stream === true },
    { json: values.json === true, baseURL },
  );
}
