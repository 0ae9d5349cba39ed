/**
 * A strict reader of the Prometheus text exposition format (0.0.4) for the metrics tests: every line
 * is a `# HELP`, a `# TYPE` or a sample of a declared family (`name{label="value",…} number`);
 * histograms' buckets are cumulative and end with `le="+Inf"` equal to `_count`.
 *
 * @returns samples keyed `name{labels sorted by name}`.
 * @throws Error naming the first line that does not follow the format.
 */
export function parsePrometheus(text: string): Map<string, number> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+]+|\+Inf|-Inf|NaN)$/;
  const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)/;
  const lines = text.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    const fail = (why: string) => new Error(`line ${i + 1} (${JSON.stringify(line)}): ${why}`);
    if (line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      if (types.has(type[1] as string)) throw fail('family declared twice');
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith('#')) throw fail('unknown comment');
    const m = sample.exec(line);
    if (!m) throw fail('not a sample');
    const name = m[1] as string;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(family)) throw fail('sample of an undeclared family');
    const pairs: [string, string][] = [];
    let rest = m[2] ?? '';
    while (rest) {
      const l = label.exec(rest);
      if (!l) throw fail('bad label');
      pairs.push([l[1] as string, l[2] as string]);
      rest = rest.slice(l[0].length);
    }
    pairs.sort(([a], [b]) => (a < b ? -1 : 1));
    const key = `${name}{${pairs.map(([k, v]) => `${k}="${v}"`).join(',')}}`;
    if (samples.has(key)) throw fail('duplicate sample');
    samples.set(key, Number(m[3]));
  }
  // Histograms: cumulative buckets per series, +Inf equal to _count.
  const series = new Map<string, number[]>();
  for (const [key, value] of samples) {
    const b = /^(.+)_bucket\{(.*)\}$/.exec(key);
    if (!b) continue;
    const id = `${b[1]}{${(b[2] as string).replace(/(^|,)le="[^"]*"/, '')}}`;
    const list = series.get(id) ?? [];
    list.push(value);
    series.set(id, list);
    if (key.includes('le="+Inf"')) {
      const count = samples.get(
        key
          .replace('_bucket{', '_count{')
          .replace(/le="\+Inf",?/, '')
          .replace(/,}$/, '}'),
      );
      if (count !== value) throw new Error(`${key}: +Inf bucket ${value} is not _count ${count}`);
    }
  }
  for (const [id, values] of series) {
    for (let i = 1; i < values.length; i++) {
      if ((values[i] as number) < (values[i - 1] as number)) throw new Error(`${id}: buckets not cumulative`);
    }
  }
  return samples;
}
