/**
 * Figures from raw results, the markdown table (every figure with its ratio to openai-node from the
 * same run) and the targets of the issue, checked.
 */

const ANTHROPIC_SCENARIOS = new Set(['stream-anthropic', 'anthropic-c64']);

/** Official-SDK column: openai-node, except for the Anthropic rows (@anthropic-ai/sdk). */
export function sdkOf(scenarioId) {
  return ANTHROPIC_SCENARIOS.has(scenarioId) ? 'anthropic' : 'openai';
}

/** Derived figures of one raw result (`undefined` where the figure doesn't apply). */
export function figures(scenario, raw, bodyBytes) {
  if (!raw?.ok) return undefined;
  if (scenario.kind === 'cold') return { coldMs: raw.meanMs, coldSdMs: raw.sdMs };
  if (raw.tool === 'wrk') {
    return {
      reqPerSec: raw.reqPerSec,
      cpuUsPerReq: raw.cpuUs / raw.requests,
      p50Ms: raw.p50Ms,
      p99Ms: raw.p99Ms,
    };
  }
  const secs = raw.wallMs / 1000;
  const cpuUs = raw.cpuUserUs + raw.cpuSystemUs;
  const rssMB = raw.maxRssKB / 1024;
  if (scenario.kind === 'chat') {
    return {
      reqPerSec: raw.requests / secs,
      cpuUsPerReq: cpuUs / raw.requests,
      p50Ms: raw.p50Ms,
      p99Ms: raw.p99Ms,
      rssMB,
    };
  }
  if (scenario.kind === 'stream') {
    return { chunksPerSec: raw.items / secs, cpuUsPerChunk: cpuUs / raw.items, rssMB };
  }
  if (scenario.kind === 'embed') {
    return {
      mbPerSec: (raw.requests * bodyBytes) / 1e6 / secs,
      cpuMsPerReq: cpuUs / 1000 / raw.requests,
      rssMB,
    };
  }
  if (scenario.kind === 'transfer') {
    // bodyBytes: the file's size (10^8 bytes), the payload of one upload or download
    return {
      mbPerSec: (raw.requests * bodyBytes) / 1e6 / secs,
      cpuMsPerReq: cpuUs / 1000 / raw.requests,
      rssGrowthMB: Math.max(0, raw.maxRssKB - raw.rssBeforeKB) / 1024,
      rssMB,
    };
  }
  return undefined;
}

const int = (v) => Math.round(v).toLocaleString('en-US');
const dec = (digits) => (v) =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const auto = (v) => (v >= 100 ? int(v) : v >= 10 ? dec(1)(v) : dec(2)(v));

/** Table rows: scenario, figure key, label, direction, formatter. */
export const ROWS = [
  ['chat-c64', 'reqPerSec', 'non-streaming req/s, C=64 ↑', int],
  ['chat-c64', 'cpuUsPerReq', 'CPU µs per request, C=64 ↓', auto],
  ['chat-c64', 'p50Ms', 'p50 latency ms, C=64 ↓', dec(2)],
  ['chat-c64', 'p99Ms', 'p99 latency ms, C=64 ↓', dec(2)],
  ['chat-c64', 'rssMB', 'peak RSS MB, C=64 ↓', int],
  ['fetch-openai-c64', 'reqPerSec', 'openai-node req/s, C=64 (aiwire/fetch column: its fetch option) ↑', int],
  ['fetch-openai-c64', 'cpuUsPerReq', 'openai-node CPU µs per request, C=64 ↓', auto],
  ['fetch-openai-c64', 'p50Ms', 'openai-node p50 latency ms, C=64 ↓', dec(2)],
  ['fetch-openai-c64', 'p99Ms', 'openai-node p99 latency ms, C=64 ↓', dec(2)],
  ['fetch-openai-c64', 'rssMB', 'openai-node peak RSS MB, C=64 ↓', int],
  ['client-per-request', 'reqPerSec', 'a client per request (new client + 1 call) req/s, C=100 ↑', int],
  ['client-per-request', 'cpuUsPerReq', 'CPU µs per client + request, C=100 ↓', auto],
  ['client-per-request', 'rssMB', 'peak RSS MB, a client per request ↓', int],
  ['observed-c64', 'reqPerSec', 'aiwire req/s, C=64 (metrics + hooks column: on) ↑', int],
  ['observed-c64', 'cpuUsPerReq', 'aiwire CPU µs per request, C=64 (metrics + hooks column: on) ↓', auto],
  ['observed-c64', 'p99Ms', 'aiwire p99 latency ms, C=64 (metrics + hooks column: on) ↓', dec(2)],
  ['chat-c256', 'reqPerSec', 'non-streaming req/s, C=256 ↑', int],
  ['chat-c256', 'cpuUsPerReq', 'CPU µs per request, C=256 ↓', auto],
  ['chat-c256', 'p50Ms', 'p50 latency ms, C=256 ↓', dec(2)],
  ['chat-c256', 'p99Ms', 'p99 latency ms, C=256 ↓', dec(2)],
  ['chat-c256', 'rssMB', 'peak RSS MB, C=256 ↓', int],
  ['stream-openai', 'chunksPerSec', 'OpenAI stream chunks/s, C=32 ↑', int],
  ['stream-openai', 'cpuUsPerChunk', 'CPU µs per chunk ↓', dec(2)],
  ['stream-openai', 'rssMB', 'peak RSS MB, OpenAI stream ↓', int],
  ['stream-helper', 'chunksPerSec', 'chat.completions.stream() helper chunks/s, C=32 ↑', int],
  ['stream-helper', 'cpuUsPerChunk', 'CPU µs per chunk, stream() helper ↓', dec(2)],
  ['stream-helper', 'rssMB', 'peak RSS MB, stream() helper ↓', int],
  ['stream-anthropic', 'chunksPerSec', 'Anthropic stream events/s, C=32 † ↑', int],
  ['stream-anthropic', 'cpuUsPerChunk', 'CPU µs per event † ↓', dec(2)],
  ['stream-anthropic', 'rssMB', 'peak RSS MB, Anthropic stream † ↓', int],
  ['anthropic-c64', 'reqPerSec', 'Anthropic non-streaming req/s, C=64 † ↑', int],
  ['anthropic-c64', 'cpuUsPerReq', 'CPU µs per Anthropic request, C=64 † ↓', auto],
  ['anthropic-c64', 'p50Ms', 'p50 latency ms, Anthropic C=64 † ↓', dec(2)],
  ['anthropic-c64', 'p99Ms', 'p99 latency ms, Anthropic C=64 † ↓', dec(2)],
  ['anthropic-c64', 'rssMB', 'peak RSS MB, Anthropic C=64 † ↓', int],
  ['embed-float', 'mbPerSec', 'embeddings MB/s, float JSON, C=8 ↑', auto],
  ['embed-float', 'cpuMsPerReq', 'CPU ms per embeddings request, float ↓', dec(2)],
  ['embed-float', 'rssMB', 'peak RSS MB, embeddings float ↓', int],
  ['embed-base64', 'mbPerSec', 'embeddings MB/s, base64, C=8 ↑', auto],
  ['embed-base64', 'cpuMsPerReq', 'CPU ms per embeddings request, base64 ↓', dec(2)],
  ['embed-base64', 'rssMB', 'peak RSS MB, embeddings base64 ↓', int],
  ['upload-100mb', 'mbPerSec', 'upload MB/s, 100 MB file (multipart, from disk) ↑', auto],
  ['upload-100mb', 'cpuMsPerReq', 'CPU ms per 100 MB upload ↓', auto],
  ['upload-100mb', 'rssGrowthMB', 'peak RSS growth MB, upload ↓', int],
  ['download', 'mbPerSec', 'download MB/s, 100 MB body (response.body to the end) ↑', auto],
  ['download', 'cpuMsPerReq', 'CPU ms per 100 MB download ↓', auto],
  ['download', 'rssGrowthMB', 'peak RSS growth MB, download ↓', int],
  ['cold', 'coldMs', 'cold start ms (import + client + 1 request) ↓', int],
];

export const COLUMNS = [
  ['aiwire', 'aiwire'],
  ['sdk', 'openai-node'],
  ['undici', 'undici (+eventsource-parser)'],
  ['fetch', 'fetch (+eventsource-parser)'],
  ['wrk', 'wrk'],
  ['openai-aiwire-fetch', 'openai-node + aiwire/fetch'],
  ['aiwire-observed', 'aiwire + metrics + hooks'],
];

export function ratio(a, b) {
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !(b > 0)) return undefined;
  return a / b;
}

export function fmtRatio(r) {
  if (r === undefined) return '–';
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

function clientKey(col, scenarioId) {
  return col === 'sdk' ? sdkOf(scenarioId) : col;
}

/** The text of one cell; notes collects footnotes for failures. */
function cell(results, scenario, client, key, fmt, notes) {
  const raw = results[scenario.id]?.[client];
  if (!raw) return '–';
  if (!raw.ok) {
    if (raw.unsupported) return raw.error;
    let idx = notes.findIndex((n) => n.raw === raw);
    if (idx < 0) idx = notes.push({ raw, text: `${scenario.id} / ${client}: ${raw.error}` }) - 1;
    const what = raw.timedOut ? 'timeout' : raw.skipped ? 'skipped' : 'failed';
    return `${what} [${idx + 1}]`;
  }
  const v = raw.figures?.[key];
  if (v === undefined) return '–';
  let text = fmt(v);
  if (key === 'coldMs' && raw.figures.coldSdMs !== undefined) text += ` ± ${int(raw.figures.coldSdMs)}`;
  if (raw.truncated) text += ' *';
  return text;
}

/** The markdown table of all figures. */
export function markdownTable(scenarios, results) {
  const byId = Object.fromEntries(scenarios.map((s) => [s.id, s]));
  const notes = [];
  const head = ['figure', ...COLUMNS.map((c) => c[1]), 'aiwire / openai-node'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const [sid, key, label, fmt] of ROWS) {
    const scenario = byId[sid];
    if (!scenario || !results[sid]) continue;
    const sdk = sdkOf(sid);
    const base = results[sid][sdk]?.figures?.[key];
    const cells = COLUMNS.map(([col]) => {
      const client = clientKey(col, sid);
      const text = cell(results, scenario, client, key, fmt, notes);
      const v = results[sid][client]?.figures?.[key];
      const r = col === 'sdk' ? undefined : ratio(v, base);
      return r === undefined ? text : `${text} (${fmtRatio(r)})`;
    });
    const aw = results[sid].aiwire?.figures?.[key];
    lines.push(`| ${label} | ${cells.join(' | ')} | ${fmtRatio(ratio(aw, base))} |`);
  }
  return { table: lines.join('\n'), notes: notes.map((n, i) => `[${i + 1}] ${n.text}`) };
}

/** The issue's targets, checked against this run. */
export function targets(results) {
  const f = (sid, client, key) => results[sid]?.[client]?.figures?.[key];
  const verdict = (ok) =>
    ok === undefined ? 'not measured' : ok === 'reported' ? 'reported (no target)' : ok ? 'met' : 'NOT met';
  const rows = [];
  const add = (figure, issueSdk, sdkNow, target, aiwireNow, ok) =>
    rows.push({ figure, issueSdk, sdkNow, target, aiwireNow, ok, verdict: verdict(ok) });

  {
    const a = f('chat-c64', 'aiwire', 'reqPerSec');
    const o = f('chat-c64', 'openai', 'reqPerSec');
    const u = f('chat-c64', 'undici', 'reqPerSec');
    const ro = ratio(a, o);
    const ru = ratio(a, u);
    add(
      'non-streaming req/s, C=64',
      '~1,900',
      o === undefined ? '–' : int(o),
      '≥ 10× openai-node, and ≥ 1.2× raw undici',
      a === undefined ? '–' : `${int(a)} (${fmtRatio(ro)} openai, ${fmtRatio(ru)} undici)`,
      ro === undefined || ru === undefined ? undefined : ro >= 10 && ru >= 1.2,
    );
  }
  {
    const a = f('chat-c64', 'aiwire', 'cpuUsPerReq');
    const o = f('chat-c64', 'openai', 'cpuUsPerReq');
    add(
      'CPU µs per non-streaming request (C=64)',
      '~630',
      o === undefined ? '–' : auto(o),
      '≤ 60',
      a === undefined ? '–' : auto(a),
      a === undefined ? undefined : a <= 60,
    );
  }
  {
    const a = f('stream-openai', 'aiwire', 'chunksPerSec');
    const o = f('stream-openai', 'openai', 'chunksPerSec');
    const u = f('stream-openai', 'undici', 'chunksPerSec');
    const ro = ratio(a, o);
    const ru = ratio(a, u);
    add(
      'streaming chunks/s, C=32',
      '~52,000-68,000',
      o === undefined ? '–' : int(o),
      '≥ 15× openai-node, and ≥ 2× undici + eventsource-parser',
      a === undefined ? '–' : `${int(a)} (${fmtRatio(ro)} openai, ${fmtRatio(ru)} undici)`,
      ro === undefined || ru === undefined ? undefined : ro >= 15 && ru >= 2,
    );
  }
  {
    const a = f('stream-openai', 'aiwire', 'cpuUsPerChunk');
    const o = f('stream-openai', 'openai', 'cpuUsPerChunk');
    add(
      'CPU µs per chunk',
      '~20',
      o === undefined ? '–' : dec(2)(o),
      '≤ 1.5',
      a === undefined ? '–' : dec(2)(a),
      a === undefined ? undefined : a <= 1.5,
    );
  }
  {
    const a = f('stream-anthropic', 'aiwire', 'chunksPerSec');
    const s = f('stream-anthropic', 'anthropic', 'chunksPerSec');
    const r = ratio(a, s);
    add(
      'Anthropic stream events/s, C=32 †',
      '–',
      s === undefined ? '–' : int(s),
      '≥ 3× @anthropic-ai/sdk',
      a === undefined ? '–' : `${int(a)} (${fmtRatio(r)})`,
      r === undefined ? undefined : r >= 3,
    );
  }
  {
    const a = f('stream-anthropic', 'aiwire', 'cpuUsPerChunk');
    const s = f('stream-anthropic', 'anthropic', 'cpuUsPerChunk');
    const r = ratio(a, s);
    add(
      'CPU µs per Anthropic stream event †',
      '–',
      s === undefined ? '–' : dec(2)(s),
      '≤ 1/3 of @anthropic-ai/sdk',
      a === undefined ? '–' : `${dec(2)(a)} (${fmtRatio(r)})`,
      r === undefined ? undefined : r <= 1 / 3,
    );
  }
  {
    const a = f('anthropic-c64', 'aiwire', 'reqPerSec');
    const s = f('anthropic-c64', 'anthropic', 'reqPerSec');
    const r = ratio(a, s);
    add(
      'Anthropic non-streaming req/s, C=64 †',
      '–',
      s === undefined ? '–' : int(s),
      'ratio reported',
      a === undefined ? '–' : `${int(a)} (${fmtRatio(r)})`,
      r === undefined ? undefined : 'reported',
    );
  }
  {
    const a = f('anthropic-c64', 'aiwire', 'cpuUsPerReq');
    const s = f('anthropic-c64', 'anthropic', 'cpuUsPerReq');
    const r = ratio(a, s);
    add(
      'CPU µs per Anthropic non-streaming request (C=64) †',
      '–',
      s === undefined ? '–' : auto(s),
      'ratio reported',
      a === undefined ? '–' : `${auto(a)} (${fmtRatio(r)})`,
      r === undefined ? undefined : 'reported',
    );
  }
  {
    const a = f('embed-float', 'aiwire', 'mbPerSec');
    const o = f('embed-float', 'openai', 'mbPerSec');
    const ro = ratio(a, o);
    add(
      'embeddings MB/s (float JSON), C=8',
      '~127',
      o === undefined ? '–' : auto(o),
      '≥ 3× openai-node',
      a === undefined ? '–' : `${auto(a)} (${fmtRatio(ro)})`,
      ro === undefined ? undefined : ro >= 3,
    );
  }
  {
    const a = f('chat-c256', 'aiwire', 'rssMB');
    const o = f('chat-c256', 'openai', 'rssMB');
    add(
      'peak RSS at C=256 (MB)',
      '~220',
      o === undefined ? '–' : int(o),
      '≤ 130',
      a === undefined ? '–' : int(a),
      a === undefined ? undefined : a <= 130,
    );
  }
  {
    const a = f('cold', 'aiwire', 'coldMs');
    const o = f('cold', 'openai', 'coldMs');
    add(
      'cold start (ms)',
      '~260',
      o === undefined ? '–' : int(o),
      '≤ 200',
      a === undefined ? '–' : int(a),
      a === undefined ? undefined : a <= 200,
    );
  }
  const head =
    '| figure | official SDK (issue, 2026-11-21) | official SDK (this run) | target for aiwire | aiwire (this run) | verdict |';
  const lines = [head, '|---|---:|---:|---|---:|---|'];
  for (const r of rows) {
    lines.push(`| ${r.figure} | ${r.issueSdk} | ${r.sdkNow} | ${r.target} | ${r.aiwireNow} | ${r.verdict} |`);
  }
  return { rows, table: lines.join('\n') };
}
