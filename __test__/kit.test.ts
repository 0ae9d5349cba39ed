/**
 * The provider kit through the real addon over loopback HTTP: pagination styles, the id-safe path
 * builder, `_request_id`, query encoding, provider error envelopes, `withOptions`, Azure routing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { APIResource, path } from '../src/core/resource.js';
import {
  AiwireError,
  AzureOpenAI,
  BadRequestError,
  ConversationCursorPage,
  CursorPage,
  IdCursorPage,
  NextCursorPage,
  NextURLPage,
  NotFoundError,
  OffsetPage,
  Page,
} from '../src/index.js';
import { client } from './helpers/client.js';
import { loopbackServer } from './helpers/server.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
const seen: Seen[] = [];

const items = Array.from({ length: 7 }, (_, i) => ({ id: `it_${i}`, n: i }));

/** Pages of `items`, three at a time, in the style the path names. */
function page(style: string, url: URL, origin: string): unknown {
  const q = url.searchParams;
  const size = 3;
  const afterIndex = (cursor: string | null) => (cursor ? items.findIndex((x) => x.id === cursor) + 1 : 0);
  switch (style) {
    case 'cursor': {
      const start = afterIndex(q.get('after'));
      const data = items.slice(start, start + size);
      return { object: 'list', data, has_more: start + size < items.length };
    }
    case 'conversation': {
      const start = afterIndex(q.get('after'));
      const data = items.slice(start, start + size);
      return { data, has_more: start + size < items.length, last_id: data.at(-1)?.id ?? null };
    }
    case 'next-cursor': {
      const start = Number(q.get('after') ?? 0);
      const data = items.slice(start, start + size);
      const more = start + size < items.length;
      return { data, has_more: more, next: more ? String(start + size) : null };
    }
    case 'id': {
      if (q.get('before_id')) {
        const end = items.findIndex((x) => x.id === q.get('before_id'));
        const data = items.slice(Math.max(0, end - size), end);
        return { data, has_more: end - size > 0, first_id: data[0]?.id, last_id: data.at(-1)?.id };
      }
      const start = afterIndex(q.get('after_id'));
      const data = items.slice(start, start + size);
      return { data, has_more: start + size < items.length, first_id: data[0]?.id, last_id: data.at(-1)?.id };
    }
    case 'next-url': {
      const start = Number(q.get('cursor') ?? 0);
      const more = start + size < items.length;
      return {
        results: items.slice(start, start + size),
        next: more ? `${origin}/p/next-url?cursor=${start + size}&owner=${q.get('owner')}` : null,
        previous: null,
      };
    }
    case 'offset': {
      const skip = Number(q.get('skip') ?? 0);
      const limit = Number(q.get('limit') ?? 100);
      return { items: items.slice(skip, skip + limit), total: items.length, page: 1, size: limit, pages: 3 };
    }
    default:
      return { object: 'list', data: items };
  }
}

const server = loopbackServer((req: IncomingMessage, res: ServerResponse) => {
  let body = '';
  req.on('data', (c: Buffer) => {
    body += c.toString();
  });
  req.on('end', () => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    const url = new URL(req.url ?? '/', 'http://x');
    const origin = `http://${req.headers.host}`;
    res.setHeader('content-type', 'application/json');
    // A header whose value is the request-id header's name comes first: the id is read by name only.
    res.setHeader('x-echo', 'x-request-id');
    res.setHeader('x-request-id', `req_${seen.length}`);
    if (url.pathname.startsWith('/p/')) {
      res.end(JSON.stringify(page(url.pathname.slice(3), url, origin)));
    } else if (url.pathname === '/responses') {
      res.end(
        JSON.stringify({
          id: 'resp_1',
          object: 'response',
          output: [
            { type: 'reasoning', summary: [] },
            {
              type: 'message',
              content: [
                { type: 'output_text', text: 'Hello, ' },
                { type: 'refusal', refusal: 'x' },
              ],
            },
            { type: 'message', content: [{ type: 'output_text', text: 'world' }] },
          ],
        }),
      );
    } else if (url.pathname === '/files/file_1/content') {
      res.setHeader('content-type', 'application/octet-stream');
      res.end(Buffer.from([0, 1, 2, 255]));
    } else if (url.pathname === '/bad') {
      res.statusCode = 400;
      res.end(
        JSON.stringify({
          error: { message: 'bad thing', type: 'invalid_request_error', param: 'x', code: 'c1' },
        }),
      );
    } else if (url.pathname === '/missing') {
      res.statusCode = 404;
      res.end('plain text not found');
    } else {
      res.end(JSON.stringify({ ok: true, path: url.pathname, query: url.search }));
    }
  });
});

/** A resource written the way generated resources are: one line per method. */
class Things extends APIResource {
  list<P>(style: string, Page: new (...args: never[]) => P, query: object = {}) {
    return this._client.getAPIList(path`/p/${style}`, Page as never, { query }) as unknown as AsyncIterable<{
      id: string;
    }> &
      Promise<P>;
  }
}

async function ids(iterable: AsyncIterable<{ id: string }>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of iterable) out.push(x.id);
  return out;
}

describe('pagination styles', () => {
  const all = items.map((x) => x.id);
  it.each([
    ['cursor', CursorPage],
    ['conversation', ConversationCursorPage],
    ['next-cursor', NextCursorPage],
    ['id', IdCursorPage],
    ['offset', OffsetPage],
  ] as const)(
    '%s: for await on the promise walks every page, keeping the filters',
    async (style, PageStyle) => {
      const Style = PageStyle as unknown as typeof CursorPage;
      const things = new Things(client(server.baseURL));
      seen.length = 0;
      const query = style === 'offset' ? { limit: 3, status: 'done' } : { limit: 3, status: 'done' };
      expect(await ids(things.list(style, Style, query))).toEqual(all);
      expect(seen).toHaveLength(3);
      for (const s of seen) expect(new URL(s.url, 'http://x').searchParams.get('status')).toBe('done');
    },
  );

  it('hasNextPage / getNextPage / iterPages on a cursor page', async () => {
    const things = new Things(client(server.baseURL));
    const first = (await things.list('cursor', CursorPage)) as CursorPage<{ id: string }>;
    expect(first.data.map((x) => x.id)).toEqual(['it_0', 'it_1', 'it_2']);
    expect(first.hasNextPage()).toBe(true);
    const second = await first.getNextPage();
    expect(second).toBeInstanceOf(CursorPage);
    expect(second.data[0]?.id).toBe('it_3');
    const sizes: number[] = [];
    for await (const p of first.iterPages()) sizes.push(p.data.length);
    expect(sizes).toEqual([3, 3, 1]);
    const last = (await second.getNextPage()) as CursorPage<{ id: string }>;
    expect(last.hasNextPage()).toBe(false);
    await expect(last.getNextPage()).rejects.toThrow(/No next page/);
  });

  it('IdCursorPage pages backwards when the first request used before_id', async () => {
    const things = new Things(client(server.baseURL));
    expect(await ids(things.list('id', IdCursorPage, { before_id: 'it_6' }))).toEqual([
      'it_3',
      'it_4',
      'it_5',
      'it_0',
      'it_1',
      'it_2',
    ]);
  });

  it('NextURLPage follows absolute next URLs on the same origin', async () => {
    const things = new Things(client(server.baseURL));
    seen.length = 0;
    expect(await ids(things.list('next-url', NextURLPage, { owner: 'me' }))).toEqual(all);
    expect(seen.map((s) => new URL(s.url, 'http://x').searchParams.get('owner'))).toEqual(['me', 'me', 'me']);
  });

  it('a single Page has no next page; a non-list body is a clear error', async () => {
    const things = new Things(client(server.baseURL));
    const p = (await things.list('single', Page)) as Page<{ id: string }>;
    expect(p.data).toHaveLength(7);
    expect(p.hasNextPage()).toBe(false);
    await expect(things.list('cursor-missing', OffsetPage)).rejects.toThrow(/`items` array/);
  });

  it('an absolute URL on another origin is refused before anything is sent', async () => {
    const c = client(server.baseURL);
    await expect(c.get('http://169.254.169.254/latest')).rejects.toThrow(/must be on the client's origin/);
  });
});

describe('requests', () => {
  it('path`` encodes ids and refuses empty ones', () => {
    expect(path`/files/${'a/b?c'}/content`).toBe('/files/a%2Fb%3Fc/content');
    expect(() => path`/files/${''}`).toThrow(AiwireError);
    expect(() => path`/files/${undefined}`).toThrow(/non-empty id/);
    expect(() => path`/files/${'..'}`).toThrow(AiwireError);
  });

  it('parsed bodies carry a non-enumerable _request_id', async () => {
    const r = await client(server.baseURL).get<{ ok: boolean; _request_id?: string }>('/thing');
    expect(r._request_id).toMatch(/^req_\d+$/);
    expect(Object.keys(r)).not.toContain('_request_id');
    expect(JSON.stringify(r)).not.toContain('_request_id');
  });

  it('query arrays use brackets and objects key[sub], as openai-node', async () => {
    const r = await client(server.baseURL).get<{ query: string }>('/q', {
      query: { include: ['a', 'b'], metadata: { k: 'v' }, skip: undefined },
    });
    expect(decodeURIComponent(r.query)).toBe('?include[]=a&include[]=b&metadata[k]=v');
  });

  it("OpenAI's error envelope becomes the error's fields; a text body its message", async () => {
    const c = client(server.baseURL, { maxRetries: 0 });
    const err = await c.post('/bad', { body: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'x', code: 'c1' });
    expect((err as Error).message).toBe('400 bad thing');
    expect((err as BadRequestError).requestID).toMatch(/^req_/);
    const missing = await c.get('/missing').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as Error).message).toBe('404 plain text not found');
  });

  it('responses.create adds output_text (the text of every output message), as openai-node', async () => {
    const response = await client(server.baseURL).responses.create({ model: 'm', input: 'hi' });
    expect(response.output_text).toBe('Hello, world');
  });

  it('files.content resolves to a Response whose body is the raw bytes', async () => {
    const response = await client(server.baseURL).files.content('file_1');
    expect(response).toBeInstanceOf(Response);
    expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([0, 1, 2, 255]);
  });

  it('an object awaited carries _request_id in its type and value', async () => {
    const model = await client(server.baseURL).models.retrieve('m');
    const id: string | null | undefined = model._request_id;
    expect(id).toMatch(/^req_/);
  });

  it('withOptions builds a client with the options merged over the original', async () => {
    const base = client(server.baseURL, { defaultHeaders: { 'x-a': '1' } });
    const derived = base.withOptions({ timeout: 1234, defaultHeaders: { 'x-b': '2' } });
    expect(derived).toBeInstanceOf(base.constructor);
    expect(derived.timeout).toBe(1234);
    expect(derived.apiKey).toBe(base.apiKey);
    seen.length = 0;
    await derived.get('/h');
    expect(seen[0]?.headers['x-b']).toBe('2');
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${base.apiKey}`);
  });
});

describe('AzureOpenAI', () => {
  it('sends api-key and api-version, and routes deployment operations by model', async () => {
    const azure = new AzureOpenAI({ apiKey: 'azure-key', apiVersion: '2024-10-21', baseURL: server.baseURL });
    seen.length = 0;
    await azure.chat.completions.create({ model: 'my-deploy', messages: [{ role: 'user', content: 'hi' }] });
    await azure.models.retrieve('gpt-x');
    const [chat, models] = seen;
    expect(chat?.url).toBe('/deployments/my-deploy/chat/completions?api-version=2024-10-21');
    expect(chat?.headers['api-key']).toBe('azure-key');
    expect(chat?.headers.authorization).toBeUndefined();
    expect(models?.url).toBe('/models/gpt-x?api-version=2024-10-21');
  });

  it('a fixed deployment goes into the base URL; an Entra ID token is a Bearer header', async () => {
    const azure = new AzureOpenAI({
      azureADToken: 'entra-token',
      apiVersion: 'v1',
      endpoint: server.baseURL,
      deployment: 'dep',
    });
    seen.length = 0;
    await azure.embeddings.create({ model: 'ignored', input: 'x', encoding_format: 'float' });
    expect(seen[0]?.url).toBe('/openai/deployments/dep/embeddings?api-version=v1');
    expect(seen[0]?.headers.authorization).toBe('Bearer entra-token');
    expect(seen[0]?.headers['api-key']).toBeUndefined();
  });

  it('names what is missing', () => {
    expect(() => new AzureOpenAI({ apiKey: 'k', endpoint: 'http://x' })).toThrow(/OPENAI_API_VERSION/);
    expect(() => new AzureOpenAI({ apiVersion: 'v', endpoint: 'http://x', apiKey: '' })).toThrow(
      /Missing credentials/,
    );
    expect(() => new AzureOpenAI({ apiKey: 'k', apiVersion: 'v' })).toThrow(/baseURL.*endpoint/);
  });
});
