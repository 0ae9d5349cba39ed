/**
 * `aiwire mock [--port N] [--host H] [--latency MS]`: serve the bundled deterministic OpenAI,
 * Anthropic, Codegen and AIVillage mock on one port until SIGINT/SIGTERM.
 *
 * @module
 */
import {
  CliFailure,
  helpHint,
  numberOption,
  out,
  parseCommandArgs,
  stringOption,
  UsageError,
} from './common.js';

export const MOCK_HELP = `Usage: aiwire mock [--port N] [--host H] [--latency MS]

Serve a deterministic mock of the OpenAI, Anthropic, Codegen and AIVillage APIs on one port, for demos
and tests, until Ctrl-C. Replies echo the last message ("Echo: ..."), plain or streamed (SSE).
  OpenAI:    baseURL http://HOST:PORT/v1       (chat/completions, responses, models, embeddings, ...)
  Anthropic: baseURL http://HOST:PORT          (POST /v1/messages, /v1/messages/count_tokens, GET /v1/models)
  Codegen:   baseURL http://HOST:PORT/codegen  (any token, org id 323: agent runs that complete after
             2 polls, runs/users/repos/organizations lists, integrations)
  AIVillage: baseURL http://HOST:PORT/aivillage/v1  (health, chat, query, agents, p2p, digital-twin;
             any key; header "x-mock-error: 429" or message "mock-error-500-once" fails on demand)
Errors on demand: model "mock-error-429" (any status 400-599) gets that status and the provider's
error body; Anthropic model "mock-stream-error-529" fails mid-stream with an error event; a Codegen
prompt containing "mock-error-402" is refused with that status, one containing "mock-fail" ends FAILED.

      --port N       port to listen on (default 4010; 0 picks a free one)
      --host H       address to bind (default 127.0.0.1)
      --latency MS   delay before each response, in ms (default 0)
  -h, --help         show this help
`;

/** Runs `aiwire mock`; resolves with the exit code once a signal stops the server. */
export async function mockCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('mock', argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    latency: { type: 'string' },
  });
  if (values.help) {
    out(MOCK_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument '${positionals[0]}'`, helpHint('mock'));
  }
  const port = numberOption('mock', values, 'port', { min: 0, max: 65535, integer: true }) ?? 4010;
  const latencyMs = numberOption('mock', values, 'latency', { min: 0, max: 3_600_000 }) ?? 0;
  const host = stringOption(values, 'host') ?? '127.0.0.1';
  const { startMockServer } = await import('../testing/index.js');
  let server: Awaited<ReturnType<typeof startMockServer>>;
  try {
    server = await startMockServer({ port, host, latencyMs });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (err.code === 'EADDRINUSE') {
      throw new CliFailure(
        `cannot listen on ${where}: the port is already in use (try --port 0 for a free one)`,
      );
    }
    if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
      throw new CliFailure(`cannot listen on ${where}: no such local address (${err.code})`);
    }
    if (err.code === 'EACCES') throw new CliFailure(`cannot listen on ${where}: permission denied (EACCES)`);
    throw new CliFailure(`cannot listen on ${where}: ${err.message}`);
  }
  out(
    `aiwire mock server listening on ${server.url} (OpenAI baseURL ${server.url}/v1, Anthropic baseURL ${server.url}, Codegen baseURL ${server.url}/codegen, AIVillage baseURL ${server.url}/aivillage/v1)\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}
