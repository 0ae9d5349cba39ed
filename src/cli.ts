#!/usr/bin/env node
/**
 * The `aiwire` command.
 *
 *   aiwire mock [--port N] [--host H] [--latency MS]   serve the bundled OpenAI mock until Ctrl-C
 *   aiwire --help | --version
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startMockServer } from './testing/mock-server.js';

const HELP = `Usage: aiwire <command> [options]

Commands:
  mock        Serve a deterministic OpenAI-compatible API on 127.0.0.1 (chat completions, plain and
              streamed; models; embeddings) for demos and tests. Point baseURL at the printed URL.
    --port N      port to listen on (default 4010; 0 picks a free one)
    --host H      address to bind (default 127.0.0.1)
    --latency MS  delay before each response, in ms (default 0)

Options:
  -h, --help     show this help
  -v, --version  print the version
`;

function version(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'aiwire' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return 'unknown';
}

/** Run the CLI with `argv` (without node and script). Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        port: { type: 'string' },
        host: { type: 'string' },
        latency: { type: 'string' },
      },
    });
  } catch (e) {
    process.stderr.write(`aiwire: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = positionals[0];
  if (command === 'mock') {
    const port = Number(values.port ?? 4010);
    const latencyMs = Number(values.latency ?? 0);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      process.stderr.write(
        `aiwire: --port must be a whole number from 0 to 65535, got ${String(values.port)}\n`,
      );
      return 2;
    }
    if (!Number.isFinite(latencyMs) || latencyMs < 0) {
      process.stderr.write(`aiwire: --latency must be a number of ms >= 0, got ${String(values.latency)}\n`);
      return 2;
    }
    const host = typeof values.host === 'string' ? values.host : '127.0.0.1';
    const server = await startMockServer({ port, host, latencyMs });
    process.stdout.write(
      `aiwire mock server listening on ${server.url} (OpenAI API; baseURL ${server.url}/v1)\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    return 0;
  }
  process.stderr.write(command ? `aiwire: unknown command '${command}'\n\n${HELP}` : HELP);
  return command ? 2 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`aiwire: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
