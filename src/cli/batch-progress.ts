/**
 * Progress of `aiwire batch` on stderr: a bar drawn by cli-progress on a terminal (done / failed /
 * rate / ETA / tokens per minute), a plain line every 2 s otherwise (a pipe, a log file, CI), nothing
 * with `--quiet`. The summary printed at the end: {@link formatSummary}.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import type { BatchCost, BatchProgress, BatchSummary } from '../batch/index.js';

/** What the batch command reports progress to. */
export interface ProgressView {
  /** Show a snapshot (called every `intervalMs`). */
  update(p: BatchProgress): void;
  /** Leave the terminal clean for the summary. */
  stop(): void;
  /** How often `update` wants snapshots, ms. */
  readonly intervalMs: number;
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** `1h02m`, `3m05s`, `12s`, or `?` when unknown. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function fields(p: BatchProgress): Record<string, string> {
  return {
    failed: int.format(p.failed),
    rate: int.format(p.ratePerSecond),
    etaText: formatDuration(p.etaMs),
    tpm: int.format(p.tokensPerMinute),
  };
}

/** A cli-progress bar on `stream` (a TTY). */
function barView(stream: NodeJS.WriteStream): ProgressView {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        'batch {bar} {percentage}% | {value}/{total} done | {failed} failed | {rate}/s | ETA {etaText} | {tpm} tokens/min',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    intervalMs: 200,
    update(p) {
      const done = p.skipped + p.succeeded + p.failed;
      const total = p.total ?? done + p.inFlight;
      if (!started) {
        bar.start(total, done, fields(p));
        started = true;
        return;
      }
      if (total !== bar.getTotal()) bar.setTotal(total);
      bar.update(done, fields(p));
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** One plain line per update on `stream` (not a TTY), at most every 2 s. */
function lineView(stream: NodeJS.WriteStream): ProgressView {
  return {
    intervalMs: 2000,
    update(p) {
      const done = p.skipped + p.succeeded + p.failed;
      const of = p.total === null ? '' : `/${int.format(p.total)}`;
      const f = fields(p);
      stream.write(
        `aiwire: batch ${int.format(done)}${of} done, ${f.failed} failed, ${f.rate}/s, ETA ${f.etaText}, ${f.tpm} tokens/min\n`,
      );
    },
    stop() {},
  };
}

/** The view for `stream`: a bar on a TTY, plain lines otherwise, none when `quiet`. */
export function progressView(stream: NodeJS.WriteStream, quiet: boolean): ProgressView | undefined {
  if (quiet) return undefined;
  return stream.isTTY ? barView(stream) : lineView(stream);
}

function ms(v: number | null): string {
  if (v === null) return '-';
  return v < 10 ? `${v.toFixed(2)} ms` : `${int.format(v)} ms`;
}

/** The summary as text (several lines, each ending in a newline). */
export function formatSummary(s: BatchSummary): string {
  const kinds = Object.entries(s.failedByKind)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${int.format(n)}`)
    .join(', ');
  const lines = [
    `batch ${s.interrupted ? 'stopped' : 'done'} via ${s.via} in ${formatDuration(s.wallTimeMs)}: ` +
      `${int.format(s.succeeded)} succeeded, ${int.format(s.failed)} failed${kinds ? ` (${kinds})` : ''}, ` +
      `${int.format(s.skipped)} skipped (already in the output)` +
      (s.retried > 0 ? `, ${int.format(s.retried)} retried` : '') +
      (s.changed > 0 ? `, ${int.format(s.changed)} sent again (input line changed)` : '') +
      (s.unfinished > 0 ? `, ${int.format(s.unfinished)} unfinished` : ''),
    `tokens: ${int.format(s.tokens.input)} input, ${int.format(s.tokens.output)} output, ${int.format(s.tokens.total)} total${s.cost ? '' : ' (no cost: give --prices FILE)'}`,
    ...(s.cost ? [formatCost(s.cost)] : []),
    `latency p50 ${ms(s.latencyMs.p50)}, p99 ${ms(s.latencyMs.p99)}; ${int.format(s.itemsPerSecond)} items/s`,
    `output: ${s.output}`,
  ];
  if (s.retryable > 0) {
    lines.push(
      `${int.format(s.retryable)} failed with a retryable error: run the same command with --retry-failed to send them again`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `cost: $1.2345 (gpt-4o-mini $1.2000 …; Batch API price x0.5; 3 requests unpriced: m1, m2)`. */
export function formatCost(c: BatchCost): string {
  const usd = (v: number) => `$${v.toFixed(4)}`;
  const models = Object.entries(c.byModel)
    .sort((a, b) => b[1].usd - a[1].usd)
    .slice(0, 5)
    .map(([m, v]) => `${m} ${usd(v.usd)}`);
  const notes = [
    ...(models.length ? [models.join(', ')] : []),
    ...(c.priceMultiplier !== 1 ? [`prices x${c.priceMultiplier} (Batch API discount)`] : []),
    ...(c.unpriced.requests > 0
      ? [
          `${int.format(c.unpriced.requests)} requests unpriced: no price for ${c.unpriced.models.join(', ') || 'their model'}`,
        ]
      : []),
  ];
  return `cost: ${usd(c.usd)}${notes.length ? ` (${notes.join('; ')})` : ''}`;
}
