/**
 * A small forward proxy for tests (loopback only): absolute-URI HTTP requests are forwarded to their
 * target, `CONNECT host:port` opens a TCP tunnel. Targets other than 127.0.0.1 / localhost are refused
 * (403). With `auth`, requests without the right `Proxy-Authorization: Basic …` get 407. It records the
 * target of every request and tunnel, and counts the TCP connections it accepted.
 */
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';

export interface ProxyServer {
  /** `http://127.0.0.1:<port>` (no credentials). */
  readonly url: string;
  readonly port: number;
  /** Absolute URIs of the HTTP requests forwarded (in order). */
  readonly requests: string[];
  /** `host:port` of the CONNECT tunnels opened (in order). */
  readonly connects: string[];
  /** How many requests or CONNECTs were answered 407. */
  refused: number;
  /** TCP connections accepted from clients. */
  accepted: number;
  /** Forget what was recorded. */
  reset(): void;
  close(): Promise<void>;
}

const LOCAL = new Set(['127.0.0.1', 'localhost']);

export async function startProxyServer(
  opts: { auth?: { user: string; pass: string } } = {},
): Promise<ProxyServer> {
  const expected = opts.auth
    ? `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.pass}`).toString('base64')}`
    : undefined;
  const sockets = new Set<Socket>();
  const authorized = (req: IncomingMessage) =>
    expected === undefined || req.headers['proxy-authorization'] === expected;

  const server = createServer((req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute URI expected');
      return;
    }
    if (!authorized(req)) {
      state.refused++;
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"', 'content-length': '0' }).end();
      return;
    }
    if (target.protocol !== 'http:' || !LOCAL.has(target.hostname)) {
      res.writeHead(403).end('loopback http targets only');
      return;
    }
    state.requests.push(target.href);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: target.pathname + target.search,
        headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });

  server.on('connection', (s: Socket) => {
    state.accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    client.on('error', () => {});
    if (!authorized(req)) {
      state.refused++;
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    const [host = '', port = ''] = (req.url ?? '').split(/:(?=\d+$)/);
    if (!LOCAL.has(host)) {
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    state.connects.push(`${host}:${port}`);
    const up = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    up.on('error', () => client.destroy());
  });

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const state: ProxyServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: [],
    connects: [],
    refused: 0,
    accepted: 0,
    reset() {
      state.requests.length = 0;
      state.connects.length = 0;
      state.refused = 0;
      state.accepted = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  return state;
}
