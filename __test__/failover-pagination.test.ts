// Pagination over `endpoints` through the real addon with two loopback servers: a `next` page URL
// absolute on a non-first endpoint's origin (Replicate's `NextURLPage`) is followed on that endpoint
// with its own key, not refused as foreign; a `next` URL on any other origin still is.
import { describe, expect, it, vi } from 'vitest';
import { AiwireError } from '../src/index.js';
import { Replicate } from '../src/replicate.js';
import type { FaultServer } from '../src/testing/index.js';
import { useFaultServers } from './helpers/faults.js';

const start = useFaultServers(false);

/** A Replicate collections page of `slugs`, its `next` URL `next`. */
function page(slugs: string[], next: string | null) {
  return {
    kind: 'json' as const,
    body: {
      results: slugs.map((slug) => ({ name: slug, slug, description: '' })),
      next,
      previous: null,
    },
  };
}

const seen = (s: FaultServer) => s.requests.map((r) => [r.url, r.headers.authorization]);

describe('pagination over endpoints', () => {
  it('a next URL on a non-first endpoint’s origin is followed there with its key', async () => {
    const [a, b] = await start(2);
    if (!a || !b) throw new Error('servers');
    vi.stubEnv('REPLICATE_API_TOKEN', '');
    const client = new Replicate({
      endpoints: [
        { baseURL: `${a.url}/v1`, apiKey: 'key-a' },
        { baseURL: `${b.url}/v1`, apiKey: 'key-b' },
      ],
    });
    // First listing: served by `a` (round-robin starts there), its pages on `a`.
    a.enqueue(page(['a1'], `${a.url}/v1/collections?cursor=a2`));
    a.enqueue(page(['a2'], null));
    const first: string[] = [];
    for await (const c of client.collections.list()) first.push(c.slug);
    // Second listing: served by `b`, whose `next` URLs are absolute on `b`'s origin.
    b.enqueue(page(['b1'], `${b.url}/v1/collections?cursor=b2`));
    b.enqueue(page(['b2'], `${b.url}/v1/collections?cursor=b3`));
    b.enqueue(page(['b3'], null));
    const second: string[] = [];
    for await (const c of client.collections.list()) second.push(c.slug);
    expect(first).toEqual(['a1', 'a2']);
    expect(second).toEqual(['b1', 'b2', 'b3']);
    expect(seen(a)).toEqual([
      ['/v1/collections', 'Bearer key-a'],
      ['/v1/collections?cursor=a2', 'Bearer key-a'],
    ]);
    expect(seen(b)).toEqual([
      ['/v1/collections', 'Bearer key-b'],
      ['/v1/collections?cursor=b2', 'Bearer key-b'],
      ['/v1/collections?cursor=b3', 'Bearer key-b'],
    ]);
    // Every page of `b`'s listing counted on `b`.
    expect(client.stats().endpoints.map((e) => e.served)).toEqual([2, 3]);
    client.close();
  });

  it('a next URL on an origin that is none of the endpoints is still refused', async () => {
    const [a, b, other] = await start(3);
    if (!a || !b || !other) throw new Error('servers');
    const client = new Replicate({
      endpoints: [
        { baseURL: `${a.url}/v1`, apiKey: 'key-a' },
        { baseURL: `${b.url}/v1`, apiKey: 'key-b' },
      ],
    });
    a.enqueue(page(['a1'], `${other.url}/v1/collections?cursor=x`));
    const slugs: string[] = [];
    const err = await (async () => {
      for await (const c of client.collections.list()) slugs.push(c.slug);
    })().then(
      () => new Error('expected a failure'),
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(AiwireError);
    expect(err.message).toContain(`Refusing to send a request to ${other.url}`);
    expect(slugs).toEqual(['a1']);
    expect(other.requests).toHaveLength(0);
    client.close();
  });
});
