/**
 * bench/run.mjs's text about runs: a run's one-line summary, and the report's notes on the machine's
 * speed (calibration, re-runs) and on the other load seen before the runs.
 */

/** One line for the log: a run's figures, or why it failed or was skipped. */
export function summary(scenario, raw) {
  if (!raw.ok)
    return raw.unsupported || raw.skipped
      ? raw.error
      : `${raw.timedOut ? 'TIMEOUT' : 'FAILED'}: ${raw.error}`;
  const f = raw.figures ?? {};
  const n = (v, d = 0) => (v === undefined ? '?' : v.toLocaleString('en-US', { maximumFractionDigits: d }));
  const s = {
    chat: () =>
      `${n(f.reqPerSec)} req/s, ${n(f.cpuUsPerReq, 1)} µs CPU/req, p99 ${n(f.p99Ms, 2)} ms, ${n(f.rssMB)} MB`,
    stream: () => `${n(f.chunksPerSec)} chunks/s, ${n(f.cpuUsPerChunk, 2)} µs CPU/chunk, ${n(f.rssMB)} MB`,
    embed: () => `${n(f.mbPerSec, 1)} MB/s, ${n(f.cpuMsPerReq, 2)} ms CPU/req, ${n(f.rssMB)} MB`,
    transfer: () =>
      `${n(f.mbPerSec, 1)} MB/s, ${n(f.cpuMsPerReq, 1)} ms CPU/100 MB, RSS +${n(f.rssGrowthMB)} MB (peak ${n(f.rssMB)} MB)`,
    cold: () => `${n(f.coldMs)} ± ${n(f.coldSdMs)} ms`,
  }[scenario.kind]();
  return raw.note ? `${s} (${raw.note})` : s;
}

/** A run is re-run when the calibration workload took this much longer than on the fastest sample. */
export const SLOW_MACHINE = 1.15;
export const MAX_RERUNS = 2;

/** Lines on the machine's speed: re-runs, and runs still taken on a slow machine. */
export function calibrationNote(results, minMs) {
  const runs = [];
  for (const [sid, byClient] of Object.entries(results)) {
    for (const [client, raw] of Object.entries(byClient)) {
      if (raw.calibrationMs !== undefined) runs.push({ run: `${sid}/${client}`, raw });
    }
  }
  if (runs.length === 0) return '';
  const x = (raw) => raw.calibrationMs / minMs;
  const rerun = runs.filter((r) => r.raw.attempts > 1).map((r) => `${r.run} (${r.raw.attempts} runs)`);
  const slow = runs.filter((r) => x(r.raw) > SLOW_MACHINE).map((r) => `${r.run} ${x(r.raw).toFixed(2)}×`);
  const worst = Math.max(...runs.map((r) => x(r.raw)));
  let line =
    `Machine speed: a fixed JS workload (bench/lib/calibrate.mjs) took ${minMs.toFixed(1)} ms of CPU at best; ` +
    `around the kept runs at most ${worst.toFixed(2)}× that.`;
  if (rerun.length) line += ` Re-run because the machine was > ${SLOW_MACHINE}× slower: ${rerun.join(', ')}.`;
  if (slow.length) line += ` **Still slow after re-runs (figures inflated): ${slow.join(', ')}.**`;
  return line;
}

/** A line on the other load seen before the runs; a warning when it was high enough to skew figures. */
export function backgroundNote(results) {
  const seen = [];
  for (const [sid, byClient] of Object.entries(results)) {
    for (const [client, raw] of Object.entries(byClient)) {
      if (raw.background !== undefined) seen.push({ run: `${sid}/${client}`, load: raw.background });
    }
  }
  if (seen.length === 0) return '';
  const pct = (x) => `${Math.round(x * 100)}%`;
  const max = Math.max(...seen.map((s) => s.load));
  const busy = seen.filter((s) => s.load > 0.15);
  const line = `Other processes' CPU, sampled for 0.25 s before each run: max ${pct(max)} of the machine.`;
  if (busy.length === 0) return line;
  const list = busy.map((s) => `${s.run} ${pct(s.load)}`).join(', ');
  return `${line} **Warning: the machine was busy before ${busy.length} run(s) (${list}); their figures are unreliable.**`;
}
