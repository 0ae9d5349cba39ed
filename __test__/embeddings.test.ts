// embeddings.create: the engine decodes the vectors (float JSON or base64) into one Float64Array and
// JS hands back number[] per item. Users rely on: the same numbers JSON.parse / Float32Array give,
// every other field kept, openai-node's default (ask for base64, return numbers), explicit base64 left
// as strings, and bodies the engine cannot decode still parsed as before.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNative, sendRequest } from '../src/native/index.js';
import { client } from './helpers/client.js';
import { loopbackServer } from './helpers/server.js';

/** Float32 values (as the API's vectors are), deterministic. */
function vector(seed: number, dims: number): number[] {
  const v = new Float32Array(dims);
  for (let i = 0; i < dims; i++) v[i] = Math.sin(seed * 1000 + i) * (i % 7 === 0 ? 1e-6 : 0.05);
  return Array.from(v);
}
const base64 = (v: number[]) => Buffer.from(new Float32Array(v).buffer).toString('base64');

let baseURL: string;
let lastRequest: Record<string, unknown> = {};
let nextBody: string | undefined;

const peer = loopbackServer((req, res) => {
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (d) => {
    raw += d;
  });
  req.on('end', () => {
    lastRequest = JSON.parse(raw) as Record<string, unknown>;
    const inputs = lastRequest.input as string[];
    const asBase64 = lastRequest.encoding_format === 'base64';
    const body =
      nextBody ??
      // Unknown fields at both levels and `embedding` not last: all must survive.
      `{"object":"list","data":[${inputs
        .map(
          (_, i) =>
            `{"object":"embedding","index":${i},"embedding":${asBase64 ? JSON.stringify(base64(vector(i, 256))) : JSON.stringify(vector(i, 256))},"extra":{"i":${i}}}`,
        )
        .join(
          ',',
        )}],"model":"text-embedding-3-small","usage":{"prompt_tokens":5,"total_tokens":5},"service_note":"x"}`;
    nextBody = undefined;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
});

beforeAll(() => {
  baseURL = peer.baseURL;
});

const input = ['alpha', 'beta', 'gamma'];

describe('embeddings.create', () => {
  it("encoding_format 'float': numbers equal JSON.parse, other fields and key order kept", async () => {
    const res = await client(baseURL).embeddings.create({
      model: 'text-embedding-3-small',
      input,
      encoding_format: 'float',
    });
    expect(lastRequest.encoding_format).toBe('float');
    expect(res.data).toHaveLength(3);
    res.data.forEach((item, i) => {
      expect(Array.isArray(item.embedding)).toBe(true);
      expect(item.embedding).toEqual(JSON.parse(JSON.stringify(vector(i, 256))));
      expect(Object.keys(item)).toEqual(['object', 'index', 'embedding', 'extra']);
      expect((item as unknown as { extra: unknown }).extra).toEqual({ i });
    });
    expect(Object.keys(res)).toEqual(['object', 'data', 'model', 'usage', 'service_note']);
    expect(res.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 });
  });

  it('the engine decodes the vectors (one Float64Array), and the raw response keeps the original body', async () => {
    const native = loadNative();
    const engine = new native.NativeEngine({ maxRetries: 0 });
    const body = JSON.stringify({ model: 'm', input, encoding_format: 'float' });
    const res = await sendRequest(
      native,
      engine,
      { method: 'POST', url: `${baseURL}/embeddings`, body, textBody: true, decode: 'float-vectors' },
      undefined,
    );
    expect(res.ok).toBe(true);
    expect(res.vectors).toBeInstanceOf(Float64Array);
    expect(Array.from(res.vectorOffsets ?? [])).toEqual([0, 256, 512, 768]);
    expect(Array.from(res.vectors?.subarray(256, 512) ?? [])).toEqual(vector(1, 256));
    expect(JSON.parse(res.decodedBody ?? '').data[2]).toEqual({
      object: 'embedding',
      index: 2,
      embedding: 0,
      extra: { i: 2 },
    });

    const { data, response } = await client(baseURL)
      .embeddings.create({ model: 'text-embedding-3-small', input, encoding_format: 'float' })
      .withResponse();
    const original = (await response.json()) as { data: Array<{ embedding: number[] }> };
    expect(original.data[1]?.embedding).toEqual(vector(1, 256));
    expect(data.data[1]?.embedding).toEqual(original.data[1]?.embedding);
  });

  it('no encoding_format: asks for base64 (as openai-node) and returns the float32 values as numbers', async () => {
    const res = await client(baseURL).embeddings.create({ model: 'text-embedding-3-small', input });
    expect(lastRequest.encoding_format).toBe('base64');
    res.data.forEach((item, i) => {
      expect(Array.isArray(item.embedding)).toBe(true);
      expect(item.embedding).toEqual(vector(i, 256));
    });
  });

  it("encoding_format 'base64': the strings come back as sent", async () => {
    const res = await client(baseURL).embeddings.create({
      model: 'text-embedding-3-small',
      input,
      encoding_format: 'base64',
    });
    res.data.forEach((item, i) => {
      expect(item.embedding).toBe(base64(vector(i, 256)) as unknown as number[]);
    });
  });

  it("bodies above 64 KiB are decoded on the engine's decode threads: 12 at once, float and base64, same numbers", async () => {
    // 60 x 256 floats: ~300 KB as float JSON, ~80 KB as base64; both above the inline limit.
    const many = Array.from({ length: 60 }, (_, i) => `text ${i}`);
    const formats = ['float', 'base64', undefined] as const;
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, k) => {
        const encoding_format = formats[k % 3];
        return client(baseURL).embeddings.create({
          model: 'text-embedding-3-small',
          input: many,
          ...(encoding_format ? { encoding_format } : {}),
        });
      }),
    );
    results.forEach((res, k) => {
      expect(res.data).toHaveLength(60);
      res.data.forEach((item, i) => {
        if (formats[k % 3] === 'base64')
          expect(item.embedding).toBe(base64(vector(i, 256)) as unknown as number[]);
        else expect(item.embedding).toEqual(vector(i, 256));
      });
    });
  });

  it('a body the engine cannot decode is still parsed as JSON (and base64 decoded in JS)', async () => {
    // `embedding` padded oddly for the engine's strict base64 (no padding): JS's decoder accepts it.
    const unpadded = base64(vector(0, 3)).replace(/=+$/, '');
    nextBody = `{"object":"list","data":[{"object":"embedding","index":0,"embedding":"${unpadded}"}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}}`;
    const res = await client(baseURL).embeddings.create({ model: 'm', input: ['x'] });
    expect(res.data[0]?.embedding).toEqual(vector(0, 3));
    nextBody = '{"object":"list","data":[{"object":"embedding","index":0,"embedding":{"not":"a vector"}}]}';
    const odd = await client(baseURL).embeddings.create({
      model: 'm',
      input: ['x'],
      encoding_format: 'float',
    });
    expect(odd.data[0]?.embedding).toEqual({ not: 'a vector' });
  });
});
