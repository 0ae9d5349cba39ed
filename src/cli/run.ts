/**
 * `aiwire run --request-file FILE [--stream] [--json] [--base-url URL]`: send the chat request a
 * JSON file describes (see `request.ts`) and print the reply.
 *
 * @module
 */
import { helpHint, out, parseCommandArgs, stringOption, UsageError } from './common.js';
import { DEFAULT_ANTHROPIC_MAX_TOKENS, loadRequestFile } from './request.js';
import { send } from './send.js';

export const RUN_HELP = `Usage: aiwire run --request-file FILE [--stream] [--json] [--base-url URL]

Send the chat request described by a JSON file and print the reply on stdout; usage and timing
(input/output tokens, finish reason, time, request id) go to stderr as one line.

  -f, --request-file FILE  the request (required), e.g.
                             { "provider": "openai",            (openai | anthropic)
                               "model": "gpt-4o-mini",
                               "messages": [ { "role": "system", "content": "Be brief.", "kind": "text" },
                                             { "role": "user", "content": "Hello", "kind": "text" } ],
                               "parameters": { "temperature": 0.7, "max_tokens": 256 } }
                           roles: user, assistant, system (Anthropic: system messages become its
                           "system" prompt); kind: "text" (optional). Optional "stream": true and
                           "api_base": URL. Parameters: temperature (OpenAI 0-2, Anthropic 0-1),
                           max_tokens (OpenAI: sent as max_completion_tokens; Anthropic requires it:
                           default ${DEFAULT_ANTHROPIC_MAX_TOKENS}), top_p, stop (a string or strings; Anthropic:
                           stop_sequences); any other parameter is sent to the API unchanged.
  -s, --stream             stream the reply, printing text as it arrives
      --json               print the raw response (with --stream: each stream event) as JSON lines
      --base-url URL       API base URL (default: OPENAI_BASE_URL / ANTHROPIC_BASE_URL, else the
                           provider's). OpenAI's includes /v1 (http://127.0.0.1:4010/v1); Anthropic's
                           does not (a trailing /v1 is dropped). 'aiwire mock' serves both.
  -h, --help               show this help

Environment: OPENAI_API_KEY or ANTHROPIC_API_KEY (required for the request's provider).
Exit codes: 0 success, 1 API or connection error, 2 usage error (arguments, request file, missing key).
`;

/** Runs `aiwire run`; returns the exit code. */
export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('run', argv, {
    'request-file': { type: 'string', short: 'f' },
    stream: { type: 'boolean', short: 's' },
    json: { type: 'boolean' },
    'base-url': { type: 'string' },
  });
  if (values.help) {
    out(RUN_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument '${positionals[0]}'`, helpHint('run'));
  }
  const file = stringOption(values, 'request-file');
  if (!file) throw new UsageError('--request-file FILE is required', helpHint('run'));
  const baseURL = stringOption(values, 'base-url');
  if (baseURL !== undefined && !URL.canParse(baseURL)) {
    throw new UsageError(`--base-url must be a URL, got '${baseURL}'`, helpHint('run'));
  }
  const request = loadRequestFile(file);
  if (values.stream) request.stream = true;
  return send(request, { json: values.json === true, baseURL });
}
