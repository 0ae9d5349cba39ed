/**
 * `aiwire batch IN -o OUT [options]`: a JSONL batch file (OpenAI's batch input shape) through
 * `runBatch()` (aiwire/batch) into a JSONL output, with progress on stderr and the summary on stdout.
 * Ctrl-C stops cleanly (in-flight requests finish, a second Ctrl-C aborts them) and prints the command
 * that resumes.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { BatchSummary, RunBatchOptions } from '../batch/index.js';
import type { RateLimitOptions } from '../core/resilience-options.js';
import {
  CliFailure,
  EXIT_FAILURE,
  EXIT_OK,
  fail,
  helpHint,
  numberOption,
  out,
  parseCommandArgs,
  stringOption,
  UsageError,
} from './common.js';

/** The providers `--provider` takes (the one of urls that do not name one; `/v1/messages` is Anthropic's). */
const BATCH_PROVIDERS = ['openai', 'anthropic', 'replicate', 'codegen', 'aivillage'] as const;

/** Exit code after Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

export const BATCH_HELP = `Usage: aiwire batch IN -o OUT [options]

Send every line of IN (JSONL, OpenAI's batch input shape: {"custom_id", "method", "url", "body"};
"url" /v1/messages goes to Anthropic) and append one line per input line to OUT (OpenAI's batch
output shape: {"id", "custom_id", "response", "error"}, "error" typed with a code and "retryable").
Rerunning with the same OUT resumes: ids already in OUT are skipped.

  -o, --output OUT        the output JSONL file (required); read first to resume
  -c, --concurrency N     requests in flight at once (default 64)
      --via NAME          executor: local (default: this process, at --concurrency);
                          openai-batch / anthropic-batch: the provider's Batch API (half price,
                          results within 24 h; resumable from OUT.<provider>-batch-state.json);
                          queue: enqueue on Redis for 'aiwire worker' processes (any number, any
                          machine) and collect their lines (the workers hold the rate budget)
      --state-file FILE   with --via openai-batch/anthropic-batch: where the batch ids are recorded
      --poll-interval MS  with --via openai-batch/anthropic-batch: time between status checks
                          (default: the server's hint, else 1 s doubling to 60 s)
      --redis URL         with --via queue: redis://host:port shared with the workers
      --queue NAME        with --via queue: the queue's name (default aiwire-batch)
      --redis-down-timeout MS
                          with --via queue: give up after MS without Redis (default 60000);
                          rerun the same command to resume
      --retry-failed      send again the ids whose line in OUT is a retryable failure
                          (429, 408, 409, 5xx, connection errors, timeouts); their old line is replaced
                          (ids whose input line changed since are always sent again)
      --prices FILE       JSON of model -> {"input", "output", "cached_input"?, "cache_write"?} in
                          USD per 1M tokens (standard prices; the batch executors apply the 50%
                          Batch API discount): the summary shows the cost. No built-in prices
      --rpm N             client-side limit: requests per minute
      --tpm N             client-side limit: tokens per minute (estimated from each request)
      --adaptive          pace from the servers' rate-limit headers (x-ratelimit-*, retry-after)
      --max-queue-ms MS   fail an item at once (retryable) when its turn is further away than MS
      --max-retries N     retries per item (default: the client's, 2)
      --timeout MS        per-request timeout
      --provider P        the provider of urls that do not name one: openai (default), anthropic,
                          replicate, codegen or aivillage
      --base-url URL      base URL for every provider (a proxy, or 'aiwire mock')
      --drain-timeout MS  after Ctrl-C, how long in-flight requests may finish (default 30000)
  -q, --quiet             no progress (the summary is still printed)
      --json              print the summary as JSON
  -h, --help              show this help

Progress goes to stderr: a bar on a terminal, a line every 2 s otherwise.
Environment: OPENAI_API_KEY, ANTHROPIC_API_KEY (and OPENAI_BASE_URL, ANTHROPIC_BASE_URL).
Exit codes: 0 every item succeeded, 1 some failed (see OUT) or a runtime error, 2 usage error,
130 stopped by Ctrl-C (run the same command again to resume).
Example: aiwire batch requests.jsonl -o results.jsonl --concurrency 32 --rpm 3000 --adaptive
`;

/** `arg` quoted for a POSIX shell when it needs it. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

function rateLimitOf(values: Record<string, string | boolean | undefined>): RateLimitOptions | undefined {
  const whole = { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true };
  const rl: RateLimitOptions = {};
  const rpm = numberOption('batch', values, 'rpm', whole);
  const tpm = numberOption('batch', values, 'tpm', whole);
  const maxQueueMs = numberOption('batch', values, 'max-queue-ms', { ...whole, min: 0 });
  if (rpm !== undefined) rl.requestsPerMinute = rpm;
  if (tpm !== undefined) rl.tokensPerMinute = tpm;
  if (maxQueueMs !== undefined) rl.maxQueueMs = maxQueueMs;
  if (values.adaptive === true) rl.adaptive = true;
  return Object.keys(rl).length > 0 ? rl : undefined;
}

/** Runs `aiwire batch`; returns the exit code. */
export async function batchCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('batch', argv, {
    output: { type: 'string', short: 'o' },
    concurrency: { type: 'string', short: 'c' },
    via: { type: 'string' },
    redis: { type: 'string' },
    queue: { type: 'string' },
    'redis-down-timeout': { type: 'string' },
    'state-file': { type: 'string' },
    'poll-interval': { type: 'string' },
    'retry-failed': { type: 'boolean' },
    prices: { type: 'string' },
    rpm: { type: 'string' },
    tpm: { type: 'string' },
    adaptive: { type: 'boolean' },
    'max-queue-ms': { type: 'string' },
    'max-retries': { type: 'string' },
    timeout: { type: 'string' },
    provider: { type: 'string' },
    'base-url': { type: 'string' },
    'drain-timeout': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    out(BATCH_HELP);
    return EXIT_OK;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? 'the input file IN is required'
        : `one input file expected, got ${positionals.length}`,
      helpHint('batch'),
    );
  }
  const input = positionals[0] as string;
  const output = stringOption(values, 'output');
  if (!output) throw new UsageError('--output OUT is required (the results file)', helpHint('batch'));
  const folder = dirname(resolve(output));
  if (!existsSync(folder)) {
    throw new UsageError(`the folder of --output does not exist: ${folder}`, helpHint('batch'));
  }
  const provider = stringOption(values, 'provider') ?? 'openai';
  if (!(BATCH_PROVIDERS as readonly string[]).includes(provider)) {
    throw new UsageError(
      `--provider must be one of ${BATCH_PROVIDERS.join(', ')}, got '${provider}'`,
      helpHint('batch'),
    );
  }
  const baseURL = stringOption(values, 'base-url');
  if (baseURL !== undefined && !URL.canParse(baseURL)) {
    throw new UsageError(`--base-url must be a URL, got '${baseURL}'`, helpHint('batch'));
  }
  const via = stringOption(values, 'via') ?? 'local';
  const redis = stringOption(values, 'redis');
  const queue = stringOption(values, 'queue');
  const queueFlag = (['redis', 'queue', 'redis-down-timeout'] as const).find((f) => values[f] !== undefined);
  if (via !== 'queue' && queueFlag !== undefined) {
    throw new UsageError(`--${queueFlag} goes with --via queue`, helpHint('batch'));
  }
  const redisDownTimeoutMs = numberOption('batch', values, 'redis-down-timeout', {
    min: 1,
    max: 2 ** 31 - 1,
    integer: true,
  });
  if (via === 'queue' && (values.rpm !== undefined || values.tpm !== undefined)) {
    throw new UsageError(
      'with --via queue the workers send the requests: give the budget to them (aiwire worker --rpm N --tpm N)',
      helpHint('batch'),
    );
  }
  const stateFile = stringOption(values, 'state-file');
  const providerBatch = via === 'openai-batch' || via === 'anthropic-batch';
  if (!providerBatch && (stateFile !== undefined || values['poll-interval'] !== undefined)) {
    throw new UsageError(
      `--${stateFile !== undefined ? 'state-file' : 'poll-interval'} goes with --via openai-batch or anthropic-batch`,
      helpHint('batch'),
    );
  }
  const whole = { min: 0, max: 2 ** 31 - 1, integer: true };
  const pollIntervalMs = numberOption('batch', values, 'poll-interval', { ...whole, min: 1 });
  const options: RunBatchOptions = {
    input,
    output,
    via,
    ...(via === 'queue' ? { executorOptions: { redis, queue, redisDownTimeoutMs } } : {}),
    ...(providerBatch
      ? {
          executorOptions: {
            ...(stateFile !== undefined ? { stateFile: resolve(stateFile) } : {}),
            ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
          },
        }
      : {}),
    concurrency: numberOption('batch', values, 'concurrency', { min: 1, max: 100_000, integer: true }),
    retryFailed: values['retry-failed'] === true,
    rateLimit: rateLimitOf(values),
    maxRetries: numberOption('batch', values, 'max-retries', { ...whole, max: 100 }),
    timeout: numberOption('batch', values, 'timeout', { ...whole, min: 1 }),
    drainTimeoutMs: numberOption('batch', values, 'drain-timeout', whole),
    provider: provider as (typeof BATCH_PROVIDERS)[number],
    baseURL,
  };

  const {
    runBatch,
    BatchUsageError,
    BatchOutputError,
    BatchLockedError,
    QueueRedisDownError,
    loadPrices,
    redactRedisUrl,
  } = await import('../batch/index.js');
  const pricesFile = stringOption(values, 'prices');
  if (pricesFile !== undefined) {
    try {
      options.prices = await loadPrices(pricesFile);
    } catch (e) {
      throw new UsageError((e as Error).message, helpHint('batch'));
    }
  }
  const { formatSummary, progressView } = await import('./batch-progress.js');
  const view = progressView(process.stderr, values.quiet === true);
  if (view) {
    options.onProgress = (p) => view.update(p);
    options.progressIntervalMs = view.intervalMs;
  }
  const stop = new AbortController();
  const force = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts += 1;
    if (interrupts === 1) {
      view?.stop();
      fail('stopping: no new requests; waiting for the ones in flight (Ctrl-C again to abort them)');
      stop.abort();
    } else {
      fail('aborting the requests in flight');
      force.abort();
    }
  };
  options.signal = stop.signal;
  options.forceSignal = force.signal;
  process.on('SIGINT', onSigint);
  let summary: BatchSummary;
  try {
    summary = await runBatch(options);
  } catch (e) {
    view?.stop();
    const err = e as NodeJS.ErrnoException;
    if (e instanceof BatchUsageError) throw new UsageError(err.message, helpHint('batch'));
    if (e instanceof BatchOutputError || e instanceof BatchLockedError) throw new UsageError(err.message);
    if (err.code === 'ENOENT' && err.path === input) throw new UsageError(`input file not found: ${input}`);
    if (err.name === 'AiwireError' && /API_KEY/.test(err.message)) throw new UsageError(err.message);
    if (e instanceof QueueRedisDownError) {
      const command = ['aiwire', 'batch', ...argv].map(shellQuote).join(' ');
      throw new CliFailure(`${err.message}:\n  ${redactRedisUrl(command)}`);
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
  view?.stop();
  out(values.json === true ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
  if (summary.interrupted) {
    const command = ['aiwire', 'batch', ...argv].map(shellQuote).join(' ');
    fail(`stopped; resume with the same command (ids already in ${output} are skipped):\n  ${command}`);
    return stop.signal.aborted ? EXIT_INTERRUPTED : EXIT_FAILURE;
  }
  return summary.failed > 0 ? EXIT_FAILURE : EXIT_OK;
}
