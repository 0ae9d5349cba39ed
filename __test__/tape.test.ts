// Stream events are parsed in Rust and replayed as a tape (crates/engine/src/json_tape.rs,
// src/core/tape.ts). Users rely on every chunk being exactly what `JSON.parse` of its data gives: the
// same values (-0, big and tiny numbers, escapes, surrogates), the same key order, duplicate keys,
// `__proto__` as an own key. Checked through the real addon over loopback HTTP against JSON.parse of
// the same text, on hand-picked edge cases and on seeded random documents.
import { beforeAll, describe, expect, it } from 'vitest';
import { APIError } from '../src/index.js';
import { client, messages } from './helpers/client.js';
import { loopbackServer } from './helpers/server.js';

/** Deep equality that also checks key order, prototypes and -0 (what `toEqual` does not). */
function same(a: unknown, b: unknown, path = '$'): void {
  if (typeof a === 'number' && typeof b === 'number') {
    if (!Object.is(a, b)) throw new Error(`${path}: ${a} !== ${b}`);
    return;
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    if (a !== b) throw new Error(`${path}: ${JSON.stringify(a)} !== ${JSON.stringify(b)}`);
    return;
  }
  if (Array.isArray(a) !== Array.isArray(b)) throw new Error(`${path}: array vs object`);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) throw new Error(`${path}: prototypes differ`);
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  if (JSON.stringify(ka.map(String)) !== JSON.stringify(kb.map(String))) {
    throw new Error(`${path}: keys ${JSON.stringify(ka.map(String))} vs ${JSON.stringify(kb.map(String))}`);
  }
  for (const k of ka) {
    same(
      (a as Record<string | symbol, unknown>)[k],
      (b as Record<string | symbol, unknown>)[k],
      `${path}.${String(k)}`,
    );
  }
}

/** mulberry32 */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = [
  'id',
  'object',
  'choices',
  'delta',
  'content',
  '__proto__',
  '0',
  '7',
  '',
  'ключ',
  'a"b',
  'x\ny',
  '😀',
  'toString',
  'constructor',
  'a',
];
const STRINGS = [
  '',
  'a',
  ' hello',
  'chatcmpl-1234567890abcdefghijklmnopqrstuvwxyz',
  'é',
  '日本',
  '😀',
  '\u2028',
  '"quoted"',
  'tab\there',
  'nul\u0000byte',
  'x'.repeat(40),
];

/** A random JSON text (written by hand so numbers and duplicate keys appear as a server may send them). */
function randomJSON(r: () => number, depth = 0): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const k = r();
  if (depth < 4 && k < 0.3) {
    const n = Math.floor(r() * 5);
    const keys = Array.from({ length: n }, () => pick(KEYS));
    return `{${keys.map((key) => `${JSON.stringify(key)}:${randomJSON(r, depth + 1)}`).join(',')}}`;
  }
  if (depth < 4 && k < 0.45) {
    const n = Math.floor(r() * 4);
    return `[${Array.from({ length: n }, () => randomJSON(r, depth + 1)).join(', ')}]`;
  }
  if (k < 0.65) return JSON.stringify(pick(STRINGS) + (r() < 0.3 ? String(Math.floor(r() * 1000)) : ''));
  if (k < 0.85) {
    return pick([
      '0',
      '-0',
      '1',
      '-1',
      '4294967295',
      '4294967296',
      '9007199254740993',
      '-9007199254740993',
      '18446744073709551616',
      '1e400',
      '-1e400',
      '5e-324',
      '1e-400',
      '0.1',
      '1.0',
      '1E2',
      '-1.5e-7',
      '1.7976931348623157e308',
      '123456789.123456789',
      String(r() * 1e6),
      String(-r()),
    ]);
  }
  return pick(['true', 'false', 'null']);
}

const EDGE_CASES = [
  '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1763683200,"choices":[{"index":0,"delta":{"content":" hi"},"logprobs":null,"finish_reason":null}]}',
  '{"a":1,"b":2,"a":3}',
  '{"__proto__":{"polluted":true},"x":1}',
  '{"2":"two","1":"one","b":"b","0":"zero","-1":"minus","4294967295":"max","4294967294":"idx"}',
  '{"":"empty key","\\u0000":"nul key","\\ud83d\\ude00":"pair"}',
  '[-0, 0, -0.0, 0e5, -0E-3]',
  '[9007199254740993, -9007199254740993, 18446744073709551615, 18446744073709551616, 1e400, -1e400, 5e-324, 2.2250738585072014e-308, 0.30000000000000004]',
  '"lone \\ud800 surrogate"',
  '{"s":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u2028"}',
  `{"deep":${'['.repeat(200)}${']'.repeat(200)}}`,
  '{}',
  '[]',
  '"just a string"',
  '12.5',
  'null',
  `{"long":"${'y'.repeat(5000)}","short":"same","again":"same"}`,
];

let baseURL: string;
let events: string[] = [];
/** Events per request model, for tests that run several streams at once (default: `events`). */
const eventsByModel = new Map<string, string[]>();

const peer = loopbackServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => {
    body += d.toString();
  });
  req.on('end', () => {
    const model = (JSON.parse(body) as { model: string }).model;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    // Several writes so events land in several batches (and strings are interned across batches).
    const frames = (eventsByModel.get(model) ?? events).map((e) => `data: ${e}\n\n`);
    const step = Math.max(1, Math.ceil(frames.length / 7));
    let i = 0;
    const writeSome = () => {
      res.write(frames.slice(i, i + step).join(''));
      i += step;
      if (i < frames.length) setTimeout(writeSome, 2);
      else res.end('data: [DONE]\n\n');
    };
    writeSome();
  });
});

beforeAll(() => {
  baseURL = peer.baseURL;
});

async function collect(list: string[]): Promise<unknown[]> {
  events = list;
  const stream = await client(baseURL).chat.completions.create({ model: 'm', messages, stream: true });
  const out: unknown[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

describe('stream events decoded in Rust equal JSON.parse', () => {
  it('edge cases: duplicate keys, __proto__, index-like keys, -0, huge and tiny numbers, escapes, surrogates, deep nesting', async () => {
    const got = await collect(EDGE_CASES);
    expect(got).toHaveLength(EDGE_CASES.length);
    EDGE_CASES.forEach((text, i) => {
      same(got[i], JSON.parse(text), `event ${i}`);
    });
    const proto = got[2] as Record<string, unknown>;
    expect(Object.hasOwn(proto, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('3,000 seeded random documents, across batches and shapes', async () => {
    const r = rng(20261125);
    const docs = Array.from({ length: 3000 }, () => {
      // Objects at the top (a chunk is an object), with no `error` key (that one is thrown as APIError).
      const body = randomJSON(r, 1);
      return `{"n":${Math.floor(r() * 100)},"v":${body}}`;
    });
    const got = await collect(docs);
    expect(got).toHaveLength(docs.length);
    docs.forEach((text, i) => {
      same(got[i], JSON.parse(text), `doc ${i}: ${text.slice(0, 80)}`);
    });
  });

  it('interned strings are the same values in later batches, and chunks stay independent objects', async () => {
    const list = Array.from(
      { length: 600 },
      (_, i) => `{"id":"chatcmpl-same","choices":[{"delta":{"content":"w${i % 7}"}}]}`,
    );
    const got = (await collect(list)) as Array<{
      id: string;
      choices: Array<{ delta: { content: string } }>;
    }>;
    expect(got.map((c) => c.choices[0]?.delta.content)).toEqual(list.map((_, i) => `w${i % 7}`));
    expect(new Set(got.map((c) => c.id))).toEqual(new Set(['chatcmpl-same']));
    (got[0] as { id: string }).id = 'changed';
    expect(got[1]?.id).toBe('chatcmpl-same');
  });

  it('two streams read in lockstep decode independently, however their shapes and strings drift', async () => {
    // Events alike enough that each is read against its predecessor, with keys and strings that
    // change, appear and vanish along the way; two streams of different vocabularies interleaved item
    // by item.
    const drift = (tag: string, r: () => number) =>
      Array.from({ length: 500 }, (_, i) => {
        const delta =
          r() < 0.2 ? `{"role":"${tag}","content":""}` : `{"content":"${tag}${Math.floor(r() * 6)}"}`;
        const extra = r() < 0.3 ? `,"usage":{"n":${i},"${tag}":${r() < 0.5 ? 'null' : -i}}` : '';
        const id = r() < 0.1 ? `${tag}-other` : `${tag}-id-0123456789-0123456789`;
        return `{"id":"${id}","choices":[{"index":0,"delta":${delta},"finish_reason":null}]${extra}}`;
      });
    const lists = { a: drift('a', rng(1)), b: drift('ä\\n', rng(2)) };
    eventsByModel.set('lockstep-a', lists.a);
    eventsByModel.set('lockstep-b', lists.b);
    const open = (model: string) =>
      client(baseURL).chat.completions.create({ model, messages, stream: true });
    const [sa, sb] = await Promise.all([open('lockstep-a'), open('lockstep-b')]);
    const ia = sa[Symbol.asyncIterator]();
    const ib = sb[Symbol.asyncIterator]();
    const got: { a: unknown[]; b: unknown[] } = { a: [], b: [] };
    for (;;) {
      const [ra, rb] = [await ia.next(), await ib.next()];
      if (!ra.done) got.a.push(ra.value);
      if (!rb.done) got.b.push(rb.value);
      if (ra.done && rb.done) break;
    }
    for (const k of ['a', 'b'] as const) {
      expect(got[k]).toHaveLength(500);
      lists[k].forEach((text, i) => {
        same(got[k][i], JSON.parse(text), `${k} ${i}`);
      });
    }
  });

  it('an event that is not JSON ends the stream with an APIError after the events before it', async () => {
    const list = ['{"ok":1}', '{"ok":2}', '{"broken": tru', '{"ok":3}'];
    events = list;
    const stream = await client(baseURL).chat.completions.create({ model: 'm', messages, stream: true });
    const seen: unknown[] = [];
    const err = await (async () => {
      for await (const chunk of stream) seen.push(chunk);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([{ ok: 1 }, { ok: 2 }]);
    expect(err).toBeInstanceOf(APIError);
    expect((err as Error).message).toContain('Could not parse stream event as JSON');
    expect((err as Error).message).toContain('{\\"broken\\": tru');
  });
});

describe('without code generation from strings', () => {
  it('node --disallow-code-generation-from-strings decodes the same values', async () => {
    const { execFile } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    events = EDGE_CASES;
    const script = `
      import { OpenAI } from ${JSON.stringify(dist)};
      const c = new OpenAI({ apiKey: 'k', baseURL: ${JSON.stringify(baseURL)}, maxRetries: 0 });
      const out = [];
      for await (const chunk of await c.chat.completions.create({ model: 'm', messages: [], stream: true })) {
        out.push([chunk && typeof chunk === 'object' ? Object.keys(chunk) : null, chunk]);
      }
      let evalWorks = true;
      try { new Function('return 1'); } catch { evalWorks = false; }
      process.stdout.write(JSON.stringify({ evalWorks, out }));
    `;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script],
        { timeout: 20_000 },
        (err, out) => (err ? reject(err) : resolve(out)),
      );
    });
    const { evalWorks, out } = JSON.parse(stdout) as {
      evalWorks: boolean;
      out: Array<[string[] | null, unknown]>;
    };
    expect(evalWorks).toBe(false);
    expect(out).toHaveLength(EDGE_CASES.length);
    out.forEach(([keys, value], i) => {
      const expected = JSON.parse(EDGE_CASES[i] as string) as unknown;
      if (expected && typeof expected === 'object' && !Array.isArray(expected))
        expect(keys).toEqual(Object.keys(expected));
      expect(value).toEqual(JSON.parse(JSON.stringify(expected)));
    });
  });
});
