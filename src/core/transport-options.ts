/**
 * Transport options a client takes (TLS trust, client certificates, proxy), turned into the engine's
 * options, and the one-time warnings for openai-node options aiwire does not take.
 *
 * Clients with the same transport options share one connection pool in the engine (as openai-node's
 * clients share Node's global dispatcher), so building a client per request is cheap.
 */
import { AiwireError } from './errors.js';
import type { LevelLogger } from './logger.js';

/** PEM text: a string, or its bytes (a Buffer is a Uint8Array). */
export type PEM = string | Uint8Array;

/** TLS and proxy options of a client (all optional). */
export interface TransportOptions {
  /**
   * Extra certificate authorities to trust (PEM, one text or several; each may hold several
   * certificates), added to the system roots and to `NODE_EXTRA_CA_CERTS`, as Node's `ca` option of
   * `tls.connect` is not (Node's replaces the roots; aiwire's adds to them). Default none.
   */
  ca?: PEM | PEM[] | undefined;
  /** Client certificate chain (PEM) for mutual TLS; needs `key`. */
  cert?: PEM | undefined;
  /** Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for mutual TLS; needs `cert`. */
  key?: PEM | undefined;
  /**
   * `false` accepts any server certificate: for local testing only (a warning is printed once per
   * process). Default `true`, or `false` when `NODE_TLS_REJECT_UNAUTHORIZED=0`, as in Node.
   */
  rejectUnauthorized?: boolean | undefined;
  /**
   * Proxy for every request: `http://`, `https://`, `socks5://` or `socks5h://` URL, credentials in the
   * URL (`http://user:pass@proxy:3128`; they never appear in errors or logs). `null` or `false`: no
   * proxy, whatever the environment says. Default: `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` (lower
   * case first, as curl). `NO_PROXY` applies either way, read as curl reads it (`*`, names with their
   * subdomains, IP addresses, CIDRs, `host:port`). A proxy that refuses the credentials gives
   * `ProxyAuthenticationError`.
   */
  proxy?: string | null | false | undefined;
}

/** The engine options for `opts` (see `EngineOptions` in src/native/engine.rs). */
export function engineTransportOptions(
  opts: TransportOptions,
  log: LevelLogger,
): {
  ca?: string[];
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
  proxy?: string;
  proxyOff?: boolean;
} {
  const text = (name: string, v: PEM): string => {
    if (typeof v === 'string') return v;
    if (v instanceof Uint8Array) return new TextDecoder().decode(v);
    throw new AiwireError(`${name} must be PEM text (a string or a Buffer), got ${typeof v}`);
  };
  const out: ReturnType<typeof engineTransportOptions> = {};
  if (opts.ca !== undefined) {
    const list = Array.isArray(opts.ca) ? opts.ca : [opts.ca];
    out.ca = list.map((c, i) => text(`ca[${i}]`, c));
  }
  if (opts.cert !== undefined) out.cert = text('cert', opts.cert);
  if (opts.key !== undefined) out.key = text('key', opts.key);
  if ((out.cert === undefined) !== (out.key === undefined)) {
    throw new AiwireError('cert and key must be given together (mutual TLS): pass both, or neither');
  }
  let reject = opts.rejectUnauthorized;
  if (reject === undefined && process.env.NODE_TLS_REJECT_UNAUTHORIZED === '0') reject = false;
  if (reject === false) {
    out.rejectUnauthorized = false;
    warnOnce(
      log,
      'insecure',
      opts.rejectUnauthorized === false
        ? 'rejectUnauthorized: false: TLS certificates are not verified. Use it for local testing only; to trust a private CA pass `ca` or set NODE_EXTRA_CA_CERTS.'
        : 'NODE_TLS_REJECT_UNAUTHORIZED=0: TLS certificates are not verified. Use it for local testing only; to trust a private CA set NODE_EXTRA_CA_CERTS or pass `ca`.',
    );
  }
  if (opts.proxy === null || opts.proxy === false) out.proxyOff = true;
  else if (opts.proxy !== undefined) {
    if (typeof opts.proxy !== 'string' || !/^(https?|socks5h?):\/\//i.test(opts.proxy)) {
      throw new AiwireError(
        'proxy must be a URL starting with http://, https://, socks5:// or socks5h:// (or null for no proxy)',
      );
    }
    out.proxy = opts.proxy;
  }
  return out;
}

/** openai-node / @anthropic-ai/sdk / replicate options aiwire does not take, and what to use instead. */
const NOT_TAKEN: Record<string, string> = {
  fetch:
    "aiwire sends requests with its native engine and never calls a custom fetch. For a proxy use the `proxy` option, for a private CA `ca`, for tests the bundled mock ('aiwire/testing'). To give another SDK aiwire's engine, pass it `fetch` from 'aiwire/fetch'.",
  fetchOptions:
    'aiwire does not use fetch: use `proxy`, `ca` / `cert` / `key`, `rejectUnauthorized`, `timeout` and `defaultHeaders` instead.',
  httpAgent:
    'connections are pooled by the engine (shared by clients with the same settings): use `proxy` instead of a proxy agent, and `ca` / `cert` / `key` / `rejectUnauthorized` for TLS settings.',
  httpsAgent:
    'connections are pooled by the engine (shared by clients with the same settings): use `proxy` instead of a proxy agent, and `ca` / `cert` / `key` / `rejectUnauthorized` for TLS settings.',
  dangerouslyAllowBrowser: 'aiwire runs in Node.js only (a native addon): the option has no effect.',
};

const warned = new Set<string>();

function warnOnce(log: LevelLogger, key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  log.warn(message);
}

/** Warn once per process for each option in `options` that aiwire ignores, naming what to use. */
export function warnUnsupportedOptions(options: object, log: LevelLogger): void {
  for (const name in NOT_TAKEN) {
    if ((options as Record<string, unknown>)[name] !== undefined) {
      warnOnce(log, `option:${name}`, `the \`${name}\` option is ignored: ${NOT_TAKEN[name]}`);
    }
  }
}

/**
 * Warn once per process when `NODE_EXTRA_CA_CERTS` is set but could not be used (`problem`: the
 * engine's reason, e.g. the file could not be read), since its CAs are then not trusted.
 */
export function warnExtraCACerts(problem: string | null | undefined, log: LevelLogger): void {
  if (problem) warnOnce(log, 'extra-ca-certs', `${problem}; its certificates are not trusted`);
}
