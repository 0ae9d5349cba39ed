/**
 * Machine-speed probe. This VM's speed drifts by ±25% over minutes (other tenants of the host), which
 * moves every CPU figure with it and is invisible to the background-load sample. The runner times
 * this fixed, single-threaded workload (JSON parse and stringify, object and string churn: what the
 * clients do) before and after each run; a run taken while the machine was slow is re-run.
 */
const TEXT = JSON.stringify(
  Array.from({ length: 400 }, (_, i) => ({
    id: `chatcmpl-${i}`,
    object: 'chat.completion.chunk',
    created: 1763683200 + i,
    choices: [{ index: 0, delta: { content: ` token${i % 50}` }, finish_reason: null }],
  })),
);

/** CPU milliseconds (user + system of this process) for the fixed workload; the best of 3 tries. */
export function calibrate() {
  let best = Infinity;
  for (let attempt = 0; attempt < 3; attempt++) {
    const c0 = process.cpuUsage();
    let sink = 0;
    for (let r = 0; r < 40; r++) {
      const parsed = JSON.parse(TEXT);
      for (const chunk of parsed) sink += chunk.choices[0].delta.content.length;
      sink += JSON.stringify(parsed).length;
    }
    const c = process.cpuUsage(c0);
    if (sink === 0) throw new Error('calibration workload did nothing');
    best = Math.min(best, (c.user + c.system) / 1000);
  }
  return best;
}
