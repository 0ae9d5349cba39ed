#!/usr/bin/env node
/**
 * The `aiwire` command (the package's bin, built to `dist/cli.js`):
 *
 *   aiwire run --request-file FILE [--stream] [--json] [--base-url URL]
 *   aiwire chat --model M [--provider openai|anthropic] [options] [PROMPT | -]
 *   aiwire mock [--port N] [--host H] [--latency MS]
 *   aiwire batch IN -o OUT [--concurrency N] [--via NAME] [--retry-failed] [--rpm N] [--tpm N] [--adaptive]
 *   aiwire worker --redis URL [--queue NAME] [--concurrency N] [--rpm N] [--tpm N]
 *   aiwire --help | --version
 *
 * Exit codes: 0 success, 1 API or runtime error, 2 usage error. Arguments are parsed with Node's
 * `util.parseArgs` (no dependency). Only the package's public entry points are imported
 * (`aiwire`, `aiwire/anthropic`, `aiwire/testing`, `aiwire/batch`), and only when a command needs them.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { batchCommand } from './batch.js';
import { chatCommand } from './chat.js';
import { CliFailure, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, fail, out, UsageError } from './common.js';
import { mockCommand } from './mock.js';
import { runCommand } from './run.js';
import { workerCommand } from './worker.js';

const HELP = `Usage: aiwire <command> [options]

Commands:
  run    Send the chat request a JSON file describes (--request-file FILE) and print the reply
  chat   Send one prompt (an argument or stdin) to OpenAI or Anthropic and print the reply
  mock   Serve a deterministic mock of the OpenAI, Anthropic and AIVillage APIs on one port
  batch  Send every line of a JSONL batch file (IN -o OUT), resumable, with progress
  worker Take batch items from a queue on Redis and send them (many workers share one queue)

Run 'aiwire <command> --help' for a command's options.

Options:
  -h, --help     show this help
  -v, --version  print the version

Environment: OPENAI_API_KEY, ANTHROPIC_API_KEY (and OPENAI_BASE_URL, ANTHROPIC_BASE_URL).
Exit codes: 0 success, 1 API or runtime error, 2 usage error.
`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  run: runCommand,
  chat: chatCommand,
  mock: mockCommand,
  batch: batchCommand,
  worker: workerCommand,
};

function version(): string {
  for (const rel of ['../package.json', '../../package.json', '../../../package.json']) {
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

/** Runs the CLI with `argv` (without node and script). Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
      const topic = first === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined;
      if (topic) return await topic(['--help']);
      out(HELP);
      return EXIT_OK;
    }
    if (first === '-v' || first === '--version') {
      out(`${version()}\n`);
      return EXIT_OK;
    }
    const command = COMMANDS[first];
    if (!command) {
      throw new UsageError(
        first.startsWith('-')
          ? `unknown option '${first}' (expected a command first)`
          : `unknown command '${first}'`,
        `Commands: ${Object.keys(COMMANDS).join(', ')}. Run 'aiwire --help' for usage.`,
      );
    }
    return await command(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      fail(e.hint ? `${e.message}\n${e.hint}` : e.message);
      return EXIT_USAGE;
    }
    if (e instanceof CliFailure) {
      fail(e.message);
      return EXIT_FAILURE;
    }
    const err = e as Error;
    const debug = /^(debug|info)$/.test(process.env.AIWIRE_LOG ?? '');
    fail(
      debug
        ? (err.stack ?? String(e))
        : `${err?.name ?? 'Error'}: ${err?.message ?? String(e)} (set AIWIRE_LOG=debug for the stack)`,
    );
    return EXIT_FAILURE;
  }
}

// `aiwire … | head` closes stdout early: stop quietly instead of throwing EPIPE.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
