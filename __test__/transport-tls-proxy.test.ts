// TLS and proxy options: what users behind a private CA, a corporate proxy or a mutual-TLS gateway rely
// on, checked through the real engine over loopback HTTPS/HTTP servers and a forward proxy of our own:
// - a private CA is trusted through `ca` (string, Buffer, array) or NODE_EXTRA_CA_CERTS, and not
//   otherwise; a failure carries Node's TLS code (`err.code` and `err.cause.code`);
// - `rejectUnauthorized: false` / NODE_TLS_REJECT_UNAUTHORIZED=0 skip verification with one warning;
// - `cert` + `key` present a client certificate (mutual TLS);
// - `proxy` and HTTP_PROXY / HTTPS_PROXY / ALL_PROXY route requests (CONNECT for https), NO_PROXY is
//   read as curl reads it, `proxy: null` ignores the environment, refused credentials give
//   ProxyAuthenticationError (`ERR_PROXY_AUTH`) and the password never shows in errors or logs;
// - clients built with the same options share one connection pool, others get their own.
// The certificates are in fixtures/tls (see its README). Environment-driven cases run in child
// processes (the engine reads those variables once per process / per transport) whose environment is
// built from scratch: this machine sets NODE_EXTRA_CA_CERTS, SSL_CERT_FILE and SSL_CERT_DIR globally.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AiwireError,
  APIConnectionError,
  type ClientOptions,
  OpenAI,
  ProxyAuthenticationError,
} from '../src/index.js';
import { completion, messages } from './helpers/client.js';
import { type ProxyServer, startProxyServer, startSocks5Server } from './helpers/proxy-server.js';

const run = promisify(execFile);
const tlsPath = (name: string) => fileURLToPath(new URL(`./fixtures/tls/${name}`, import.meta.url));
const pem = (name: string) => readFileSync(tlsPath(name), 'utf8');
const CA = pem('ca.pem');
const CLIENT_CA = pem('client-ca.pem');
const CLIENT_CERT = pem('client-cert.pem');
const CLIENT_KEY = pem('client-key.pem');
const SERVER_KEY = pem('server-key.pem');

// In-process cases must not pick up a proxy or an insecure setting from the environment.
for (const name of ['http_proxy', 'https_proxy', 'all_proxy', 'no_proxy', 'NODE_TLS_REJECT_UNAUTHORIZED']) {
  delete process.env[name];
  delete process.env[name.toUpperCase()];
}

/** A loopback server: what it was asked (paths), the client certificate CNs it saw, sockets accepted. */
interface Target {
  url: string;
  port: number;
  hits: string[];
  peers: string[];
  accepted: number;
  server: Server;
}

const targets: Target[] = [];

async function startTarget(make: (h: RequestListener) => Server, scheme: 'http' | 'https'): Promise<Target> {
  const t = { url: '', port: 0, hits: [], peers: [], accepted: 0 } as unknown as Target;
  t.server = make((req, res) => {
    t.hits.push(req.url ?? '');
    const cn = (req.socket as TLSSocket).getPeerCertificate?.()?.subject?.CN;
    if (cn) t.peers.push(String(cn));
    const body =
      req.method === 'POST'
        ? completion
        : { object: 'list', data: [{ id: 'm', object: 'model', created: 0, owned_by: 't' }] };
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
  });
  t.server.on(scheme === 'https' ? 'secureConnection' : 'connection', () => {
    t.accepted++;
  });
  await new Promise<void>((r) => t.server.listen(0, '127.0.0.1', r));
  t.port = (t.server.address() as AddressInfo).port;
  t.url = `${scheme}://127.0.0.1:${t.port}`;
  targets.push(t);
  return t;
}

const https = (cert: string, extra: object = {}) =>
  startTarget((h) => createHttpsServer({ key: SERVER_KEY, cert: pem(cert), ...extra }, h), 'https');

let plain: Target; // http
let plain2: Target; // http, another port
let trusted: Target; // https, certificate for 127.0.0.1 / localhost from the private CA
let wrongHost: Target; // https, certificate for wrong.example
let expired: Target; // https, certificate expired in 2001
let mtls: Target; // https, asks for a client certificate from the client CA
let proxy: ProxyServer;
let authProxy: ProxyServer; // user / pa55-secret

beforeAll(async () => {
  plain = await startTarget(createHttpServer, 'http');
  plain2 = await startTarget(createHttpServer, 'http');
  trusted = await https('server-cert.pem');
  wrongHost = await https('wrong-host-cert.pem');
  expired = await https('expired-cert.pem');
  mtls = await https('server-cert.pem', { ca: CLIENT_CA, requestCert: true, rejectUnauthorized: true });
  proxy = await startProxyServer();
  authProxy = await startProxyServer({ auth: { user: 'user', pass: 'pa55-secret' } });
});

afterAll(async () => {
  for (const t of targets) {
    t.server.closeAllConnections?.();
    await new Promise((r) => t.server.close(r));
  }
  await proxy?.close();
  await authProxy?.close();
});

function reset(): void {
  for (const t of targets) {
    t.hits.length = 0;
    t.peers.length = 0;
  }
  proxy.reset();
  authProxy.reset();
}

/** Log lines (message and details) sent to a client's `logger`, all levels. */
function capture(): { lines: string[]; warnings: string[]; logger: ClientOptions['logger'] } {
  const lines: string[] = [];
  const warnings: string[] = [];
  const sink =
    (warn: boolean) =>
    (m: string, ...rest: unknown[]) => {
      const line = [m, ...rest.map((r) => JSON.stringify(r))].join(' ');
      lines.push(line);
      if (warn) warnings.push(line);
    };
  return {
    lines,
    warnings,
    logger: { error: sink(false), warn: sink(true), info: sink(false), debug: sink(false) },
  };
}

const openai = (baseURL: string, options: Partial<ClientOptions> = {}) =>
  new OpenAI({ apiKey: 'k', baseURL: `${baseURL}/v1`, maxRetries: 0, timeout: 10_000, ...options });

type CodedError = APIConnectionError & { code?: string | null; cause?: unknown };

/** The error `p` rejects with (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<CodedError> {
  try {
    await p;
  } catch (e) {
    return e as CodedError;
  }
  throw new Error('expected the request to fail');
}

async function modelId(client: OpenAI): Promise<string | undefined> {
  return (await client.models.list()).data[0]?.id;
}

// ---- child processes -------------------------------------------------------------------------------

/** One request of a child: `models.list()` against `baseURL` (+ `/v1`), with `ca` read from a file. */
interface Job {
  baseURL: string;
  ca?: string;
  proxy?: string | null;
}
interface ChildResult {
  results: { ok: boolean; id?: string; name?: string; code?: string; message?: string }[];
  warnings: string[];
}

const CHILD = `
import { readFileSync } from 'node:fs';
const { OpenAI } = await import(process.env.T_DIST);
const warnings = [];
const logger = { warn: (m) => warnings.push(String(m)), error() {}, info() {}, debug() {} };
const results = [];
for (const j of JSON.parse(process.env.T_JOBS)) {
  const o = { apiKey: 'k', baseURL: j.baseURL + '/v1', maxRetries: 0, timeout: 10000, logger };
  if (j.ca) o.ca = readFileSync(j.ca);
  if ('proxy' in j) o.proxy = j.proxy;
  try {
    const page = await new OpenAI(o).models.list();
    results.push({ ok: true, id: page.data[0]?.id });
  } catch (e) {
    results.push({ ok: false, name: e?.constructor?.name, code: e?.code, message: String(e?.message) });
  }
}
process.stdout.write(JSON.stringify({ results, warnings }));
`;

/** Run `jobs` in a fresh node process whose environment is PATH, HOME and `env` only. */
async function child(env: Record<string, string>, jobs: Job[]): Promise<ChildResult> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      T_DIST: pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href,
      T_JOBS: JSON.stringify(jobs),
      ...env,
    },
    timeout: 20_000,
  });
  return JSON.parse(stdout) as ChildResult;
}

// ---- 1. TLS ----------------------------------------------------------------------------------------

describe('TLS trust', () => {
  it('a server from an untrusted private CA fails with UNABLE_TO_GET_ISSUER_CERT_LOCALLY', async () => {
    const err = await failure(openai(trusted.url).models.list());
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err.code).toBe('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    expect(err.cause).toBeInstanceOf(Error);
    expect((err.cause as { code?: string }).code).toBe('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    expect(err.message).toMatch(/^Connection error: .*(certificate|issuer)/i);
    expect(err.message).not.toMatch(/\[object|undefined|null/);
  });

  it('`ca` as a string, a Buffer or in an array makes the private CA trusted', async () => {
    expect(await modelId(openai(trusted.url, { ca: CA }))).toBe('m');
    expect(await modelId(openai(trusted.url, { ca: Buffer.from(CA) }))).toBe('m');
    expect(await modelId(openai(trusted.url, { ca: [CLIENT_CA, Buffer.from(CA)] }))).toBe('m');
    // The certificate's DNS name too, not only its IP address.
    expect(await modelId(openai(`https://localhost:${trusted.port}`, { ca: CA }))).toBe('m');
    // Another CA alone does not make it trusted.
    const err = await failure(openai(trusted.url, { ca: CLIENT_CA }).models.list());
    expect(err.code).toBe('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
  });

  it('a `ca` holding no certificate is refused when the client is built, naming the entry', () => {
    for (const ca of ['not a certificate', Buffer.from('junk'), ['junk', CA]]) {
      expect(() => openai(trusted.url, { ca })).toThrow(AiwireError);
      expect(() => openai(trusted.url, { ca })).toThrow(/ca\[0\]/);
    }
    expect(() => openai(trusted.url, { ca: [CA, 'junk'] })).toThrow(/ca\[1\]/);
  });

  it('NODE_EXTRA_CA_CERTS makes the private CA trusted; SSL_CERT_FILE replaces the roots', async () => {
    const job = { baseURL: trusted.url };
    const viaExtra = await child({ NODE_EXTRA_CA_CERTS: tlsPath('ca.pem') }, [job]);
    expect(viaExtra.results).toEqual([{ ok: true, id: 'm' }]);
    expect(viaExtra.warnings).toEqual([]);
    const viaCertFile = await child({ SSL_CERT_FILE: tlsPath('ca.pem') }, [job]);
    expect(viaCertFile.results).toEqual([{ ok: true, id: 'm' }]);
    const none = await child({}, [job]);
    expect(none.results[0]).toMatchObject({ ok: false, code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });
  });

  it('NODE_EXTRA_CA_CERTS naming a missing file: one warning, requests fail with the TLS code', async () => {
    const missing = '/nonexistent/aiwire-extra-ca.pem';
    const out = await child({ NODE_EXTRA_CA_CERTS: missing }, [
      { baseURL: trusted.url },
      { baseURL: trusted.url },
    ]);
    for (const r of out.results) {
      expect(r).toMatchObject({
        ok: false,
        name: 'APIConnectionError',
        code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      });
    }
    const about = out.warnings.filter((w) => w.includes('NODE_EXTRA_CA_CERTS'));
    expect(about).toHaveLength(1);
    expect(about[0]).toContain(missing);
  });

  it('a certificate for another host name fails with ERR_TLS_CERT_ALTNAME_INVALID', async () => {
    const err = await failure(openai(wrongHost.url, { ca: CA }).models.list());
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect((err.cause as { code?: string }).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('an expired certificate fails with CERT_HAS_EXPIRED', async () => {
    const err = await failure(openai(expired.url, { ca: CA }).models.list());
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err.code).toBe('CERT_HAS_EXPIRED');
    expect((err.cause as { code?: string }).code).toBe('CERT_HAS_EXPIRED');
  });

  it('rejectUnauthorized: false accepts any certificate, with one warning per process', async () => {
    const log = capture();
    expect(await modelId(openai(trusted.url, { rejectUnauthorized: false, logger: log.logger }))).toBe('m');
    expect(await modelId(openai(wrongHost.url, { rejectUnauthorized: false, logger: log.logger }))).toBe('m');
    expect(await modelId(openai(expired.url, { rejectUnauthorized: false, logger: log.logger }))).toBe('m');
    const about = log.warnings.filter((w) => w.includes('rejectUnauthorized'));
    expect(about).toHaveLength(1);
    expect(about[0]).toMatch(/not verified/);
    // The default stays strict in the same process.
    expect((await failure(openai(trusted.url).models.list())).code).toBe('UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
  });

  it('NODE_TLS_REJECT_UNAUTHORIZED=0 accepts any certificate, with one warning', async () => {
    const out = await child({ NODE_TLS_REJECT_UNAUTHORIZED: '0' }, [
      { baseURL: trusted.url },
      { baseURL: wrongHost.url },
    ]);
    expect(out.results).toEqual([
      { ok: true, id: 'm' },
      { ok: true, id: 'm' },
    ]);
    expect(out.warnings.filter((w) => w.includes('NODE_TLS_REJECT_UNAUTHORIZED=0'))).toHaveLength(1);
  });
});

describe('mutual TLS', () => {
  it('cert + key present the client certificate (the server sees its CN)', async () => {
    reset();
    const client = openai(mtls.url, { ca: CA, cert: CLIENT_CERT, key: Buffer.from(CLIENT_KEY) });
    expect(await modelId(client)).toBe('m');
    expect(mtls.peers).toEqual(['aiwire-test-client']);
  });

  it('without a client certificate the server refuses the connection', async () => {
    reset();
    const err = await failure(openai(mtls.url, { ca: CA }).models.list());
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err.message).toMatch(/^Connection error: .*certificate/i);
    expect(mtls.hits).toEqual([]);
  });

  it('cert without key (or key without cert) is refused when the client is built', () => {
    expect(() => openai(mtls.url, { ca: CA, cert: CLIENT_CERT })).toThrow(AiwireError);
    expect(() => openai(mtls.url, { ca: CA, cert: CLIENT_CERT })).toThrow(/cert and key/);
    expect(() => openai(mtls.url, { ca: CA, key: CLIENT_KEY })).toThrow(/cert and key/);
  });
});

// ---- 2. Proxies ------------------------------------------------------------------------------------

describe('proxy option', () => {
  it('an http target goes through the proxy as an absolute-URI request', async () => {
    reset();
    const client = openai(plain.url, { proxy: proxy.url });
    const res = await client.chat.completions.create({ model: 'm', messages });
    expect(res.choices[0]?.message.content).toBe('ok');
    expect(proxy.requests).toEqual([`${plain.url}/v1/chat/completions`]);
    expect(plain.hits).toEqual(['/v1/chat/completions']);
  });

  it('an https target goes through a CONNECT tunnel', async () => {
    reset();
    expect(await modelId(openai(trusted.url, { ca: CA, proxy: proxy.url }))).toBe('m');
    expect(proxy.connects).toEqual([`127.0.0.1:${trusted.port}`]);
    expect(proxy.requests).toEqual([]);
    expect(trusted.hits).toEqual(['/v1/models']);
  });

  it('a socks5:// proxy carries http and https targets', async () => {
    reset();
    const socks = await startSocks5Server();
    try {
      const res = await openai(plain.url, { proxy: socks.url }).chat.completions.create({
        model: 'm',
        messages,
      });
      expect(res.choices[0]?.message.content).toBe('ok');
      expect(await modelId(openai(trusted.url, { ca: CA, proxy: socks.url }))).toBe('m');
      expect(socks.connects).toEqual([`127.0.0.1:${plain.port}`, `127.0.0.1:${trusted.port}`]);
      expect(plain.hits).toEqual(['/v1/chat/completions']);
      expect(trusted.hits).toEqual(['/v1/models']);
    } finally {
      await socks.close();
    }
  });
});

describe('proxy from the environment', () => {
  const ca = tlsPath('ca.pem');
  // Each job has its own path, so the proxy's record tells which ones it carried.
  const jobs = () => [{ baseURL: `${plain.url}/a` }, { baseURL: `${trusted.url}/b`, ca }];

  it('HTTP_PROXY carries http targets only', async () => {
    reset();
    const out = await child({ HTTP_PROXY: proxy.url }, jobs());
    expect(out.results.map((r) => r.ok)).toEqual([true, true]);
    expect(proxy.requests).toEqual([`${plain.url}/a/v1/models`]);
    expect(proxy.connects).toEqual([]);
  });

  it('HTTPS_PROXY carries https targets only (CONNECT)', async () => {
    reset();
    const out = await child({ HTTPS_PROXY: proxy.url }, jobs());
    expect(out.results.map((r) => r.ok)).toEqual([true, true]);
    expect(proxy.requests).toEqual([]);
    expect(proxy.connects).toEqual([`127.0.0.1:${trusted.port}`]);
  });

  it('ALL_PROXY carries both', async () => {
    reset();
    const out = await child({ ALL_PROXY: proxy.url }, jobs());
    expect(out.results.map((r) => r.ok)).toEqual([true, true]);
    expect(proxy.requests).toEqual([`${plain.url}/a/v1/models`]);
    expect(proxy.connects).toEqual([`127.0.0.1:${trusted.port}`]);
  });

  it('proxy: null ignores the environment', async () => {
    reset();
    const env = { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url };
    const out = await child(env, [
      { baseURL: `${plain.url}/a`, proxy: null },
      { baseURL: `${trusted.url}/b`, ca, proxy: null },
    ]);
    expect(out.results.map((r) => r.ok)).toEqual([true, true]);
    expect(proxy.requests).toEqual([]);
    expect(proxy.connects).toEqual([]);
    expect(plain.hits).toEqual(['/a/v1/models']);
    expect(trusted.hits).toEqual(['/b/v1/models']);
  });
});

describe('NO_PROXY', () => {
  const env = (noProxy: string) => ({ HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: noProxy });

  it('`*` bypasses the proxy for every host, IP addresses included, and for the `proxy` option', async () => {
    reset();
    const out = await child(env('*'), [
      { baseURL: `${plain.url}/a` },
      { baseURL: `${trusted.url}/b`, ca: tlsPath('ca.pem') },
      { baseURL: `${plain.url}/c`, proxy: proxy.url },
    ]);
    expect(out.results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(proxy.requests).toEqual([]);
    expect(proxy.connects).toEqual([]);
    expect(plain.hits).toEqual(['/a/v1/models', '/c/v1/models']);
  });

  for (const entry of ['127.0.0.1', '127.0.0.0/8']) {
    it(`\`${entry}\` bypasses the proxy for 127.0.0.1, not for localhost`, async () => {
      reset();
      const out = await child(env(`example.com, ${entry}`), [
        { baseURL: `${plain.url}/a` },
        { baseURL: `http://localhost:${plain.port}/b` },
      ]);
      expect(out.results.map((r) => r.ok)).toEqual([true, true]);
      expect(proxy.requests).toEqual([`http://localhost:${plain.port}/b/v1/models`]);
    });
  }

  it('`localhost:<port>` bypasses that port only', async () => {
    reset();
    const out = await child(env(`localhost:${plain.port}`), [
      { baseURL: `http://localhost:${plain.port}/a` },
      { baseURL: `http://localhost:${plain2.port}/b` },
      { baseURL: `${plain.url}/c` },
    ]);
    expect(out.results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(proxy.requests).toEqual([
      `http://localhost:${plain2.port}/b/v1/models`,
      `${plain.url}/c/v1/models`,
    ]);
    expect(plain.hits).toEqual(['/a/v1/models', '/c/v1/models']);
  });
});

describe('proxy credentials', () => {
  const withPass = (pass: string) => `http://user:${pass}@127.0.0.1:${authProxy.port}`;

  it('user:pass in the proxy URL is sent for http requests and CONNECT', async () => {
    reset();
    const log = capture();
    const opts = { proxy: withPass('pa55-secret'), logLevel: 'debug' as const, logger: log.logger };
    expect(await modelId(openai(plain.url, opts))).toBe('m');
    expect(await modelId(openai(trusted.url, { ...opts, ca: CA }))).toBe('m');
    expect(authProxy.requests).toEqual([`${plain.url}/v1/models`]);
    expect(authProxy.connects).toEqual([`127.0.0.1:${trusted.port}`]);
    expect(authProxy.refused).toBe(0);
    expect(log.lines.length).toBeGreaterThan(0);
    expect(log.lines.join('\n')).not.toContain('pa55-secret');
  });

  for (const [label, target] of [
    ['http target (407 answer)', () => plain],
    ['https target (407 to CONNECT)', () => trusted],
  ] as const) {
    it(`wrong credentials give ProxyAuthenticationError ERR_PROXY_AUTH without the password: ${label}`, async () => {
      reset();
      const secret = 'wr0ng-s3cret';
      const log = capture();
      const client = openai(target().url, {
        ca: CA,
        proxy: withPass(secret),
        logLevel: 'debug',
        logger: log.logger,
      });
      const err = await failure(client.models.list());
      expect(err).toBeInstanceOf(ProxyAuthenticationError);
      expect(err).toBeInstanceOf(APIConnectionError);
      expect(err.code).toBe('ERR_PROXY_AUTH');
      expect(err.message).toMatch(/proxy refused the credentials/);
      expect(authProxy.refused).toBe(1);
      expect(target().hits).toEqual([]);
      const b64 = Buffer.from(`user:${secret}`).toString('base64');
      for (const text of [
        err.message,
        String(err),
        String(err.cause),
        err.stack ?? '',
        log.lines.join('\n'),
      ]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(b64);
      }
    });
  }

  it('no credentials at all: ProxyAuthenticationError too', async () => {
    reset();
    const err = await failure(openai(trusted.url, { ca: CA, proxy: authProxy.url }).models.list());
    expect(err).toBeInstanceOf(ProxyAuthenticationError);
    expect(err.code).toBe('ERR_PROXY_AUTH');
  });
});

describe('invalid proxy URLs', () => {
  it('are refused when the client is built, without echoing credentials', () => {
    for (const url of ['ftp://x', 'not a url', 'ftp://user:s3cr3t@x', 'http://user:s3cr3t@127.0.0.1:99999']) {
      let thrown: unknown;
      try {
        openai(plain.url, { proxy: url });
      } catch (e) {
        thrown = e;
      }
      expect(thrown, url).toBeInstanceOf(AiwireError);
      expect((thrown as Error).message, url).toMatch(/proxy/i);
      expect((thrown as Error).message, url).not.toContain('s3cr3t');
    }
  });
});

// ---- 3. Shared pools -------------------------------------------------------------------------------

describe('connection pools', () => {
  it('100 clients with the same options use one connection; another `ca` or `proxy` another pool', async () => {
    reset();
    // A connectTimeout no other test uses: a pool of its own, with no connection open yet.
    const same = { connectTimeout: 4321 };
    const before = plain.accepted;
    const clients: OpenAI[] = []; // held, as the pool lives while some client holds it
    for (let i = 0; i < 100; i++) {
      const c = openai(plain.url, same);
      clients.push(c);
      expect(await modelId(c)).toBe('m');
    }
    expect(plain.hits).toHaveLength(100);
    // One shared pool: one connection, reused (a second one may open when a request is sent before the
    // previous response's connection is back in the pool, on a loaded machine); one per client was 100.
    const shared = plain.accepted - before;
    expect(shared).toBeGreaterThanOrEqual(1);
    expect(shared).toBeLessThanOrEqual(3);

    clients.push(openai(plain.url, { ...same, ca: CA }));
    expect(await modelId(clients[100] as OpenAI)).toBe('m');
    expect(plain.accepted - before).toBe(shared + 1); // another pool: a new connection

    for (let i = 0; i < 20; i++) {
      const c = openai(plain.url, { ...same, proxy: proxy.url });
      clients.push(c);
      expect(await modelId(c)).toBe('m');
    }
    expect(proxy.requests).toHaveLength(20);
    expect(proxy.accepted).toBeGreaterThanOrEqual(1);
    expect(proxy.accepted).toBeLessThanOrEqual(3); // one pool for the 20 proxied clients
  });
});
