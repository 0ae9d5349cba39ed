/**
 * `aiwire worker --redis URL [options]`: take the items of `aiwire batch --via queue` from a BullMQ
 * queue on Redis and send them, until SIGINT/SIGTERM (which finish the items in flight first; a second
 * signal exits at once, and the items in flight go back to the queue through BullMQ's stalled-job check).
 *
 * @module
 */
import {
  CliFailure,
  fail,
  helpHint,
  numberOption,
  out,
  parseCommandArgs,
  stringOption,
  UsageError,
} from './common.js';

export const WORKER_HELP = `Usage: aiwire worker --redis URL [options]

Take the items that 'aiwire batch IN -o OUT --via queue --redis URL' enqueues and send them; run as
many workers as you like, on any machines, against the same Redis. Their output lines go back to the
batch through Redis. Ctrl-C (SIGINT) or SIGTERM finishes the items in flight, then exits.

      --redis URL              redis://[user:password@]host:port[/db] shared with the batch (required)
      --queue NAME             queue name (default aiwire-batch; the batch's --queue)
      --concurrency N          items sent at once by this worker (default 16)
      --rpm N                  requests per minute shared by every worker on this Redis
      --tpm N                  tokens per minute shared by every worker on this Redis
      --limit-key KEY          Redis key of the shared budget (default: one per API origin)
      --provider P             provider of items whose url names none (default openai)
      --lock-duration MS       a killed worker's items go back to the queue after about this (default 30000)
      --stalled-interval MS    how often to look for such items (default 30000)
      --max-stalled N          times an item may go back to the queue so; once more, its line is the
                               error worker_lost (default 3)
  -h, --help                   show this help

The clients read their keys and base URLs from the environment (OPENAI_API_KEY, OPENAI_BASE_URL,
ANTHROPIC_API_KEY, ...). Needs the packages bullmq and ioredis (npm install bullmq ioredis).
`;

const PROVIDERS = ['openai', 'anthropic', 'replicate', 'codegen', 'aivillage'] as const;

/** Runs `aiwire worker`; resolves with the exit code once a signal has stopped the worker. */
export async function workerCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('worker', argv, {
    redis: { type: 'string' },
    queue: { type: 'string' },
    concurrency: { type: 'string' },
    rpm: { type: 'string' },
    tpm: { type: 'string' },
    'limit-key': { type: 'string' },
    provider: { type: 'string' },
    'lock-duration': { type: 'string' },
    'stalled-interval': { type: 'string' },
    'max-stalled': { type: 'string' },
  });
  if (values.help) {
    out(WORKER_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument '${positionals[0]}'`, helpHint('worker'));
  }
  const redis = stringOption(values, 'redis');
  if (!redis) throw new UsageError('--redis URL is required (redis://host:port)', helpHint('worker'));
  if (!/^redis:\/\/[^/]/.test(redis)) {
    throw new UsageError(`--redis must be a redis://host:port URL, got '${redis}'`, helpHint('worker'));
  }
  const whole = { min: 1, max: 0xffff_ffff, integer: true };
  const concurrency = numberOption('worker', values, 'concurrency', { ...whole, max: 100_000 }) ?? 16;
  const rpm = numberOption('worker', values, 'rpm', whole);
  const tpm = numberOption('worker', values, 'tpm', whole);
  const lockDurationMs = numberOption('worker', values, 'lock-duration', { ...whole, max: 86_400_000 });
  const stalledIntervalMs = numberOption('worker', values, 'stalled-interval', { ...whole, max: 86_400_000 });
  const maxStalledCount = numberOption('worker', values, 'max-stalled', { ...whole, max: 1000 });
  const limitKey = stringOption(values, 'limit-key');
  const provider = stringOption(values, 'provider') ?? 'openai';
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    throw new UsageError(
      `--provider must be one of ${PROVIDERS.join(', ')}, got '${provider}'`,
      helpHint('worker'),
    );
  }
  if (limitKey !== undefined && rpm === undefined && tpm === undefined) {
    throw new UsageError('--limit-key needs --rpm or --tpm (the budget it names)', helpHint('worker'));
  }
  const rateLimit =
    rpm !== undefined || tpm !== undefined
      ? {
          ...(rpm !== undefined ? { requestsPerMinute: rpm } : {}),
          ...(tpm !== undefined ? { tokensPerMinute: tpm } : {}),
          redis: { url: redis, ...(limitKey !== undefined ? { key: limitKey } : {}) },
        }
      : undefined;
  const clientOptions = rateLimit ? Object.fromEntries(PROVIDERS.map((p) => [p, { rateLimit }])) : undefined;

  const { runWorker, redactRedisUrl } = await import('../batch/index.js');
  const stop = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals += 1;
    if (signals === 1) {
      fail('stopping: finishing the items in flight (signal again to exit now)');
      stop.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let lastError = '';
  try {
    const summary = await runWorker({
      redis,
      queue: stringOption(values, 'queue'),
      concurrency,
      lockDurationMs,
      stalledIntervalMs,
      maxStalledCount,
      provider: provider as (typeof PROVIDERS)[number],
      clientOptions,
      signal: stop.signal,
      onReady: () =>
        fail(
          `worker taking items from queue '${stringOption(values, 'queue') ?? 'aiwire-batch'}' on ${redactRedisUrl(redis)} (concurrency ${concurrency})`,
        ),
      onError: (e) => {
        if (e.name === 'QueueJobError') return fail(`skipped a job: ${e.message}`);
        // ioredis retries on its own: say so once per distinct error, not once per attempt.
        if (e.message !== lastError) fail(`redis: ${e.message} (retrying)`);
        lastError = e.message;
      },
    });
    out(`${JSON.stringify(summary)}\n`);
    return 0;
  } catch (e) {
    throw new CliFailure((e as Error).message);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
