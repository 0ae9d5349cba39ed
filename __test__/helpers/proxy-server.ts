/**
 * A small forward proxy for tests (loopback only): absolute-URI HTTP requests are forwarded to their
 * target, `CONNECT host:port` opens a TCP tunnel. Targets other than 127.0.0.1 / localhost are refused
 * (403). With `auth`, requests without the right `Proxy-Authorization: Basic …` get 407. It records the
 * target of every request and tunnel, and counts the TCP connections it accepted.
 */
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect, createServer as createNetServer, type Socket } from 'node:net';

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

/** A running SOCKS5 proxy (no authentication, CONNECT only) and the targets it connected to. */
export interface Socks5Server {
  /** `socks5://127.0.0.1:<port>`. */
  readonly url: string;
  /** `host:port` of each CONNECT, in order (`host` as the client sent it: an address or a name). */
  readonly connects: string[];
  close(): Promise<void>;
}

/**
 * A minimal SOCKS5 proxy (RFC 1928: method 0 "no authentication", command CONNECT, IPv4 and domain
 * targets) on 127.0.0.1 that only connects to 127.0.0.1 or localhost.
 */
export async function startSocks5Server(): Promise<Socks5Server> {
  const sockets = new Set<Socket>();
  const connects: string[] = [];
  const server = createNetServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    let buf = Buffer.alloc(0);
    let stage: 'greeting' | 'request' | 'piped' = 'greeting';
    const onData = (data: Buffer) => {
      buf = Buffer.concat([buf, data]);
      if (stage === 'greeting') {
        if (buf.length < 2 || buf.length < 2 + (buf[1] as number)) return;
        buf = buf.subarray(2 + (buf[1] as number));
        client.write(Buffer.from([5, 0]));
        stage = 'request';
      }
      if (stage !== 'request' || buf.length < 5) return;
      const atyp = buf[3];
      let host: string;
      let at: number;
      if (atyp === 1) {
        if (buf.length < 10) return;
        host = `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`;
        at = 8;
      } else if (atyp === 3) {
        const n = buf[4] as number;
        if (buf.length < 5 + n + 2) return;
        host = buf.subarray(5, 5 + n).toString();
        at = 5 + n;
      } else {
        client.end(Buffer.from([5, 8, 0, 1, 0, 0, 0, 0, 0, 0]));
        return;
      }
      const port = buf.readUInt16BE(at);
      const rest = buf.subarray(at + 2);
      stage = 'piped';
      client.off('data', onData);
      connects.push(`${host}:${port}`);
      if (host !== '127.0.0.1' && host !== 'localhost') {
        client.end(Buffer.from([5, 2, 0, 1, 0, 0, 0, 0, 0, 0]));
        return;
      }
      const up = connect(port, '127.0.0.1', () => {
        client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
        if (rest.length) up.write(rest);
        up.pipe(client);
        client.pipe(up);
      });
      sockets.add(up);
      up.on('close', () => sockets.delete(up));
      up.on('error', () => client.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `socks5://127.0.0.1:${port}`,
    connects,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
