// Hostile server-sent-event streams through the real addon: huge lines, invalid UTF-8, NUL bytes,
// comment-only streams, bare CRs, an unterminated last event. The exhaustive split-anywhere properties
// of the decoder are Rust proptests (crates/engine/src/sse.rs) and a fuzz loop (crates/engine/tests/sse_fuzz.rs).
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StreamDecoder } from '../src/core/streaming.js';
import { APIResponseDecodeError, type OpenAI } from '../src/index.js';
import type { NativeEvent } from '../src/native/index.js';
import { type FaultServer, startFaultServer } from '../src/testing/index.js';
import { chunk, client, messages } from './helpers/client.js';

interface Ev {
  event: string;
  data: string;
  id: string | null;
}

const rawEvents: StreamDecoder<Ev> = {
  mode: 'event',
  decode: (e: NativeEvent) => ({ event: e.event, data: e.data, id: e.id ?? null }),
};

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => {
  server.reset();
});

/** Every raw event of a stream (event mode: no JSON parsing), and the error its loop threw. */
async function readEvents(c: OpenAI): Promise<{ events: Ev[]; error: unknown }> {
  const events: Ev[] = [];
  try {
    const stream = await c.streamWith({ method: 'post', path: '/events', body: {} }, rawEvents);
    for await (const e of stream) events.push(e);
  } catch (error) {
    return { events, error };
  }
  return { events, error: undefined };
}

/** The contents of an OpenAI chat stream, and the error its loop threw. */
async function readChat(c: OpenAI): Promise<{ contents: string[]; error: unknown }> {
  const contents: string[] = [];
  try {
    const stream = await c.chat.completions.create({ model: 'm', messages, stream: true });
    for await (const part of stream) contents.push(part.choices[0]?.delta?.content ?? '');
  } catch (error) {
    return { contents, error };
  }
  return { contents, error: undefined };
}

/** `body` as a raw SSE response (one write, content-length framing). */
function sseBody(body: Buffer | string): void {
  server.setFallback({ kind: 'raw', body, headers: { 'content-type': 'text/event-stream' } });
}

/**
 * A server that answers every request with `body` as an event stream, written in pieces of 1 to 7 bytes
 * one millisecond apart (so chunk boundaries fall inside UTF-8 sequences and CRLFs), then closes
 * (`connection: close` framing: the end of the body is the end of the connection).
 */
async function trickleServer(body: Buffer): Promise<{ url: string; close: () => void }> {
  const sockets = new Set<Socket>();
  const srv = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.setNoDelay(true);
    socket.once('data', async () => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n');
      for (let at = 0, n = 0; at < body.length; n++) {
        const size = 1 + ((n * 5) % 7);
        socket.write(body.subarray(at, at + size));
        at += size;
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (socket.destroyed) return;
      }
      socket.end();
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(srv.address() as { port: number }).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

/**
 * The reference: the WHATWG algorithm written out plainly. The bytes are decoded by Node's WHATWG
 * `TextDecoder` (UTF-8, replacement mode, one leading BOM stripped): the decoder openai-node uses on
 * the same bytes (its line decoder runs `TextDecoder` over the body), so equal results mean aiwire
 * replaces invalid UTF-8 with U+FFFD exactly as openai-node / the WHATWG Encoding standard do.
 */
function referenceEvents(bytes: Buffer): Ev[] {
  const text = new TextDecoder('utf-8').decode(bytes);
  const lines = text.split(/\r\n|\r|\n/);
  lines.pop(); // the last piece has no line terminator: an incomplete line is discarded at the end
  const events: Ev[] = [];
  let data = '';
  let type = '';
  let lastId: string | null = null;
  for (const line of lines) {
    if (line === '') {
      if (data !== '') {
        events.push({ event: type || 'message', data: data.slice(0, -1), id: lastId });
      }
      data = '';
      type = '';
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data += `${value}\n`;
    else if (field === 'event') type = value;
    else if (field === 'id' && !value.includes('\0')) lastId = value;
  }
  return events;
}

/** Invalid (and valid) UTF-8 in every place a stream can hold it. */
const NASTY: Buffer[] = [
  Buffer.from([0xff]), // never valid
  Buffer.from([0xfe, 0xff]),
  Buffer.from([0xc0, 0xaf]), // overlong '/'
  Buffer.from([0xe0, 0x80, 0xaf]), // overlong, 3 bytes
  Buffer.from([0xed, 0xa0, 0x80]), // UTF-16 surrogate D800
  Buffer.from([0xf4, 0x90, 0x80, 0x80]), // past U+10FFFF
  Buffer.from([0xf0, 0x9f, 0x98]), // truncated 4-byte sequence
  Buffer.from([0xe2, 0x82]), // truncated 3-byte sequence
  Buffer.from([0x80, 0xbf, 0x80]), // lone continuation bytes
  Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), // old 5-byte form
  Buffer.from([0xc2]), // lead byte alone
  Buffer.from('é😀€', 'utf8'), // valid, for contrast
  Buffer.from([0xef, 0xbb, 0xbf]), // a BOM that is not at the start: kept as U+FEFF
];

function nastyStream(): Buffer {
  const parts: Buffer[] = [Buffer.from([0xef, 0xbb, 0xbf])]; // a leading BOM, stripped
  NASTY.forEach((bad, i) => {
    const at = (s: string) => Buffer.from(s, 'latin1');
    // In data (start, middle, end of a line), in the event type, in the id, in a comment.
    parts.push(at('data: '), bad, at(`x${i}`), bad, at('\n'));
    parts.push(at('data:'), bad, at(i % 2 ? '\r\n' : '\r'));
    parts.push(at('event: t'), bad, at('\n'));
    parts.push(at('id: '), bad, at(`${i}\n`));
    parts.push(at(': '), bad, at('\n\n'));
  });
  return Buffer.concat(parts);
}

describe('huge events', () => {
  it('a 10 MB data line is delivered whole (default maxEventBytes)', async () => {
    const content = 'x'.repeat(10 * 1024 * 1024);
    const frame = chunk(content);
    const pieces: string[] = [];
    for (let i = 0; i < frame.length; i += 256 * 1024) pieces.push(frame.slice(i, i + 256 * 1024));
    server.enqueue({ kind: 'sse', events: [...pieces, chunk('after'), 'data: [DONE]\n\n'] });
    const { contents, error } = await readChat(client(server.url));
    expect(error).toBeUndefined();
    expect(contents).toHaveLength(2);
    expect(contents[0]?.length).toBe(content.length);
    expect(contents[0] === content).toBe(true);
    expect(contents[1]).toBe('after');
  });

  it('past maxEventBytes: events before it, then a clear APIResponseDecodeError, without buffering it all', async () => {
    // 10 MB in 64 KiB pieces, 10 ms apart (~1.6 s to send all); the limit is 1 MiB.
    const piece = 'y'.repeat(64 * 1024);
    server.enqueue({
      kind: 'sse',
      events: [chunk('before'), 'data: ', ...Array.from({ length: 160 }, () => piece), '\n\n'],
      chunkDelayMs: 10,
    });
    const c = client(server.url, { maxEventBytes: 1024 * 1024 });
    const closed = server.waitForClose(3_000);
    const started = performance.now();
    const { contents, error } = await readChat(c);
    expect(contents).toEqual(['before']);
    expect(error).toBeInstanceOf(APIResponseDecodeError);
    expect((error as Error).message).toContain('maxEventBytes');
    expect((error as Error).message).toContain(String(1024 * 1024));
    // It failed when the limit was passed (~16 pieces in), not after the whole 10 MB arrived.
    expect(performance.now() - started).toBeLessThan(1_200);
    await closed;
  });

  it('maxEventBytes counts one event: many events each under the limit pass', async () => {
    const events = Array.from({ length: 50 }, (_, i) => chunk(`${i}`.padEnd(2_000, '.')));
    server.enqueue({ kind: 'sse', events: [...events, 'data: [DONE]\n\n'] });
    const { contents, error } = await readChat(client(server.url, { maxEventBytes: 4_096 }));
    expect(error).toBeUndefined();
    expect(contents).toHaveLength(50);
  });
});

describe('bytes and encodings', () => {
  it('invalid UTF-8 becomes U+FFFD exactly as the WHATWG TextDecoder does (one write)', async () => {
    const body = nastyStream();
    sseBody(body);
    const { events, error } = await readEvents(client(server.url));
    expect(error).toBeUndefined();
    const expected = referenceEvents(body);
    expect(expected).toHaveLength(NASTY.length);
    expect(expected.some((e) => e.data.includes('\uFFFD'))).toBe(true);
    expect(events).toEqual(expected);
  });

  it('invalid UTF-8 split across many small TCP writes decodes the same', async () => {
    const body = nastyStream();
    const srv = await trickleServer(body);
    try {
      const { events, error } = await readEvents(client(srv.url));
      expect(error).toBeUndefined();
      expect(events).toEqual(referenceEvents(body));
    } finally {
      srv.close();
    }
  });

  it('a seeded random stream of fields, terminators and bytes matches the reference', async () => {
    let seed = 0x2545f491;
    const rand = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const tokens = [
      'data: ',
      'data:',
      'data',
      'event: ',
      'id: ',
      'retry: 10',
      ': c',
      '\n',
      '\r',
      '\r\n',
      '\n\n',
    ];
    const parts: Buffer[] = [];
    for (let i = 0; i < 4_000; i++) {
      if (rand(3) === 0) parts.push(Buffer.from(tokens[rand(tokens.length)] as string, 'latin1'));
      else parts.push(Buffer.from(Array.from({ length: 1 + rand(4) }, () => rand(256))));
    }
    parts.push(Buffer.from('\n\ndata: end\n\n'));
    const body = Buffer.concat(parts);
    sseBody(body);
    const { events, error } = await readEvents(client(server.url));
    expect(error).toBeUndefined();
    expect(events.at(-1)?.data).toBe('end');
    expect(events.length).toBeGreaterThan(20);
    expect(events).toEqual(referenceEvents(body));
  });

  it('NUL bytes: kept in data and event types, an id containing NUL is ignored', async () => {
    sseBody(Buffer.from('id: ok\ndata: a\0b\0\nevent: t\0\n\nid: x\0y\ndata: \0\n\n', 'latin1'));
    const { events, error } = await readEvents(client(server.url));
    expect(error).toBeUndefined();
    expect(events).toEqual([
      { event: 't\0', data: 'a\0b\0', id: 'ok' },
      { event: 'message', data: '\0', id: 'ok' },
    ]);
  });

  it('escaped NUL in OpenAI JSON chunks reaches the caller', async () => {
    server.enqueue({ kind: 'sse', events: [chunk('a\0b'), 'data: [DONE]\n\n'] });
    const { contents, error } = await readChat(client(server.url));
    expect(error).toBeUndefined();
    expect(contents).toEqual(['a\0b']);
  });
});

describe('odd shapes', () => {
  it('a stream of only comments ends cleanly with no items', async () => {
    server.enqueue({ kind: 'sse', events: Array.from({ length: 2_000 }, (_, i) => `: keep-alive ${i}\n\n`) });
    const { contents, error } = await readChat(client(server.url));
    expect(error).toBeUndefined();
    expect(contents).toEqual([]);
  });

  it('comments keep a slow stream alive under streamIdleTimeout', async () => {
    server.enqueue({
      kind: 'sse',
      events: [...Array.from({ length: 8 }, () => ': ping\n\n'), chunk('late'), 'data: [DONE]\n\n'],
      chunkDelayMs: 60,
    });
    const { contents, error } = await readChat(client(server.url, { streamIdleTimeout: 250 }));
    expect(error).toBeUndefined();
    expect(contents).toEqual(['late']);
  });

  it('1 MB of bare \\r: a million empty lines, nothing dispatched, quickly; the stream goes on', async () => {
    const body = Buffer.concat([
      Buffer.from('data: first\r\r'),
      Buffer.alloc(1024 * 1024, 0x0d),
      Buffer.from('data: second\r\r'),
    ]);
    sseBody(body);
    const started = performance.now();
    const { events, error } = await readEvents(client(server.url));
    expect(error).toBeUndefined();
    expect(events.map((e) => e.data)).toEqual(['first', 'second']);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('the last event without a trailing blank line is discarded at the end (WHATWG), the loop ends cleanly', async () => {
    sseBody('data: one\n\ndata: two\n');
    expect((await readEvents(client(server.url))).events.map((e) => e.data)).toEqual(['one']);
    sseBody('data: one\n\ndata: two');
    const { events, error } = await readEvents(client(server.url));
    expect(error).toBeUndefined();
    expect(events.map((e) => e.data)).toEqual(['one']);
  });

  it('an OpenAI stream cut after a complete event but before [DONE], at a clean end of body, ends without an error', async () => {
    server.enqueue({ kind: 'sse', events: [chunk('a'), `${chunk('b').trimEnd()}\n`] });
    const { contents, error } = await readChat(client(server.url));
    expect(error).toBeUndefined();
    expect(contents).toEqual(['a']);
  });
});
