/**
 * Test helper of __test__/helpers/operations.ts (re-exported there): loopback servers that record the
 * last request they saw: Prism behind a recording proxy (`recordingProxy`), and a test file's own
 * server answering every request with a settable reply (`ownServer`). Both bind 127.0.0.1, port 0.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as a recording server saw it. */
export interface Seen {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A loopback server that records the last request it saw. */
export interface Recording {
  url: string;
  /** The last request seen (undefined after `clear()`). */
  last(): Seen | undefined;
  clear(): void;
  close(): Promise<void>;
}

/** The answer of an own server: status, content type, body. */
export interface OwnReply {
  status: number;
  type: string;
  body: string | Buffer;
}

/** An own server: answers every request with `reply`. */
export interface OwnServer extends Recording {
  reply: OwnReply;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function readBody(req: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function recording(
  base: string,
  respond: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void,
): Promise<Recording> {
  let last: Seen | undefined;
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    last = { method: req.method ?? '', url: new URL(req.url ?? '/', base), headers: req.headers, body };
    respond(req, res, body);
  });
  return listen(server).then((url) => ({
    url,
    last: () => last,
    clear: () => {
      last = undefined;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  }));
}

/**
 * A proxy in front of `target` (Prism) that records the last request; `route` maps the request path to the
 * one sent on.
 */
export function recordingProxy(
  target: string,
  route: (url: string) => string = (u) => u,
): Promise<Recording> {
  const t = new URL(target);
  return recording(target, (req, res, body) => {
    const up = httpRequest(
      {
        host: t.hostname,
        port: t.port,
        method: req.method,
        path: route(req.url ?? '/'),
        headers: req.headers,
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', (e) => res.writeHead(502).end(String(e)));
    up.end(body);
  });
}

/** A server that records the last request and answers with its `reply` (JSON `{}` at first). */
export async function ownServer(): Promise<OwnServer> {
  const own: { reply: OwnReply } = { reply: { status: 200, type: 'application/json', body: '{}' } };
  const rec = await recording('http://own', (_req, res) => {
    res.writeHead(own.reply.status, { 'content-type': own.reply.type }).end(own.reply.body);
  });
  return Object.assign(own, rec);
}
