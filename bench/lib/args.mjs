/** bench/run.mjs's command line: `parseArgs(argv)` → the run's options (exits on --help or a bad argument). */
import { CLIENTS, SCENARIOS } from './scenarios.mjs';

/**
 * Options of a run: quick, only (scenario id prefixes), clients, timeoutSec (per run, default 90),
 * budgetSec (suite, default 85 quick / 470 full), waitIdleSec (default 0). Prints usage and exits 0 on
 * `--help`; prints the problem and exits 2 on an unknown argument, client or scenario.
 */
export function parseArgs(argv) {
  const opts = {
    quick: false,
    only: undefined,
    clients: undefined,
    timeoutSec: 90,
    budgetSec: undefined,
    waitIdleSec: 0,
  };
  for (const arg of argv) {
    if (arg === '--quick') opts.quick = true;
    else if (arg.startsWith('--only=')) opts.only = arg.slice(7).split(',').filter(Boolean);
    else if (arg.startsWith('--clients=')) opts.clients = arg.slice(10).split(',').filter(Boolean);
    else if (arg.startsWith('--timeout=')) opts.timeoutSec = Number(arg.slice(10));
    else if (arg.startsWith('--budget=')) opts.budgetSec = Number(arg.slice(9));
    else if (arg.startsWith('--wait-idle=')) opts.waitIdleSec = Number(arg.slice(12)) || 0;
    else if (arg === '-h' || arg === '--help') {
      console.log(
        'usage: node bench/run.mjs [--quick] [--only=<scenario prefix>,...] [--clients=<client>,...] [--timeout=<s>] [--budget=<s>] [--wait-idle=<s>]\n' +
          `scenarios: ${SCENARIOS.map((s) => s.id).join(', ')}\nclients: ${CLIENTS.join(', ')}`,
      );
      process.exit(0);
    } else {
      console.error(`unknown argument: ${arg} (try --help)`);
      process.exit(2);
    }
  }
  if (opts.clients) {
    const unknown = opts.clients.filter((c) => !CLIENTS.includes(c));
    if (unknown.length) {
      console.error(`unknown client(s): ${unknown.join(', ')}; known: ${CLIENTS.join(', ')}`);
      process.exit(2);
    }
    // the official-SDK column: asking for openai brings @anthropic-ai/sdk into the Anthropic row
    if (opts.clients.includes('openai') && !opts.clients.includes('anthropic'))
      opts.clients.push('anthropic');
  }
  if (opts.only) {
    const unknown = opts.only.filter((p) => !SCENARIOS.some((s) => s.id.startsWith(p)));
    if (unknown.length) {
      console.error(
        `no scenario matches: ${unknown.join(', ')}; scenarios: ${SCENARIOS.map((s) => s.id).join(', ')}`,
      );
      process.exit(2);
    }
  }
  if (!(opts.timeoutSec > 0)) opts.timeoutSec = 90;
  if (!(opts.budgetSec > 0)) opts.budgetSec = opts.quick ? 85 : 470;
  return opts;
}
