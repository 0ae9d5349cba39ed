/**
 * The `endpoints` client option (failover across several base URLs and keys), checked and turned into
 * the engine's. The choice of endpoint runs in the engine, per attempt
 * (crates/engine/src/transport/failover.rs); here each endpoint gets its credential headers, computed
 * by the provider from the endpoint's `apiKey` (their shape is the provider's: `Authorization: Bearer`,
 * `x-api-key`, `api-key`).
 */
import { AiwireError } from './errors.js';
import { flatten } from './request.js';

/**
 * One endpoint of a client: where calls may go, with which key, and how large a share of them. E.g.
 * two Azure OpenAI resources in two regions, or two keys of one account.
 */
export interface EndpointOptions {
  /**
   * The endpoint's API base URL, as the client's `baseURL` (e.g. `https://api.openai.com/v1`,
   * `https://westeurope.example.openai.azure.com/openai`). A request's path is relative to it.
   * Required; credentials belong in `apiKey`, not in the URL.
   */
  baseURL: string;
  /**
   * Its API key (sent as the provider sends the client's: `Authorization: Bearer` for OpenAI and
   * Replicate, `x-api-key` for Anthropic, `api-key` for Azure). Default: the client's own credential
   * (`apiKey` option or environment); required when the client has none.
   */
  apiKey?: string | undefined;
  /** Its share of the calls, relative to the other endpoints' weights: a whole number >= 1. Default 1. */
  weight?: number | undefined;
  /**
   * Its own budget (e.g. its key's or deployment's quota), kept in the engine as the client's
   * `rateLimit` is (GCRA, burst one second's worth): `requestsPerMinute` (attempts) and
   * `tokensPerMinute` (estimated from each request, corrected from buffered responses' `usage`). A
   * call goes to the endpoint whose budget makes it wait least; the client's `rateLimit` (its total
   * over all endpoints) applies as well. The wait is bounded by `maxQueueMs` (the request's
   * `rateLimit.maxQueueMs`, else the client's): when every endpoint the call may use is further away,
   * it fails at once with `LocalRateLimitError` (`retryAfterMs`: the shortest wait); a request with
   * `rateLimit: false` takes no turn in it. Figures in `stats().endpoints[i].rateLimit`. Default none.
   */
  rateLimit?: { requestsPerMinute?: number | undefined; tokensPerMinute?: number | undefined } | undefined;
}

/**
 * @internal What a provider tells the base client so it can build each endpoint's headers.
 */
export interface EndpointAuth {
  /** Whether the client has a credential of its own (for endpoints given without `apiKey`). */
  hasCredential: boolean;
  /** The client's credential headers for another API key (the same names as the client's own). */
  headersFor(apiKey: string): Record<string, string | null | undefined>;
}

/** What the engine takes for one endpoint. */
export interface EngineEndpoint {
  baseUrl: string;
  headers: string[];
  weight: number;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/**
 * `options` as the client uses them with `endpoints`: `baseURL` the first endpoint's, the circuit
 * breaker on unless given (`circuitBreaker: false` keeps it off); and the engine's endpoints. Without
 * `endpoints`: `options` as they are, and undefined.
 * @throws AiwireError as {@link engineEndpoints}.
 */
export function withEndpoints<
  O extends { endpoints?: EndpointOptions[] | undefined; baseURL: string; circuitBreaker?: unknown },
>(
  options: O,
  clientAuth: Record<string, string | null | undefined>,
  auth: EndpointAuth | undefined,
): [O, EngineEndpoint[] | undefined] {
  if (!options.endpoints) return [options, undefined];
  const { baseURL, endpoints } = engineEndpoints(options.endpoints, clientAuth, auth);
  return [{ ...options, baseURL, circuitBreaker: options.circuitBreaker ?? {} }, endpoints];
}

/** `value` when it is a whole number >= 1 (or undefined). @throws AiwireError naming `name` otherwise. */
function whole(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 0xffff_ffff) {
    throw new AiwireError(`${name} must be a whole number >= 1, got ${String(value)}`);
  }
  return value;
}

/** Most endpoints a client may list (the engine's `MAX_ENDPOINTS`). */
const MAX_ENDPOINTS = 64;

/**
 * The engine's endpoints for `endpoints`, and the client's `baseURL` (the first endpoint's).
 * @param endpoints the option as given.
 * @param clientAuth the client's own credential headers (for endpoints without `apiKey`).
 * @param auth the provider's credentials for a key.
 * @throws AiwireError for an empty or too long list, a `baseURL` that is not an absolute http(s) URL or
 *   holds a user name or password, an `apiKey` that is not a non-empty string, a weight or rate that
 *   is not a whole number >= 1, an endpoint without `apiKey` on a client with no credential, or a provider
 *   without endpoint support.
 */
export function engineEndpoints(
  endpoints: readonly EndpointOptions[],
  clientAuth: Record<string, string | null | undefined>,
  auth: EndpointAuth | undefined,
): { baseURL: string; endpoints: EngineEndpoint[] } {
  if (!auth) throw new AiwireError('This client does not support the endpoints option');
  if (!Array.isArray(endpoints) || endpoints.length === 0 || endpoints.length > MAX_ENDPOINTS) {
    throw new AiwireError(
      `endpoints must be an array of 1 to ${MAX_ENDPOINTS} { baseURL, apiKey?, weight? } objects`,
    );
  }
  const out = endpoints.map((e, i): EngineEndpoint => {
    const where = `endpoints[${i}]`;
    let url: URL | undefined;
    try {
      url = new URL(e?.baseURL);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new AiwireError(
        `${where}.baseURL must be an absolute http(s) URL, got ${JSON.stringify(e?.baseURL)}`,
      );
    }
    if (url.username || url.password) {
      throw new AiwireError(`${where}.baseURL must not hold credentials: give the key as ${where}.apiKey`);
    }
    const weight = whole(`${where}.weight`, e.weight) ?? 1;
    const rpm = whole(`${where}.rateLimit.requestsPerMinute`, e.rateLimit?.requestsPerMinute);
    const tpm = whole(`${where}.rateLimit.tokensPerMinute`, e.rateLimit?.tokensPerMinute);
    let record = clientAuth;
    if (e.apiKey !== undefined) {
      if (typeof e.apiKey !== 'string' || e.apiKey === '') {
        throw new AiwireError(`${where}.apiKey must be a non-empty string`);
      }
      record = auth.headersFor(e.apiKey);
    } else if (!auth.hasCredential) {
      throw new AiwireError(
        `${where} has no apiKey and the client has no key of its own: give ${where}.apiKey (or the client's apiKey)`,
      );
    }
    const headers: string[] = [];
    flatten(record, headers);
    const endpoint: EngineEndpoint = { baseUrl: e.baseURL.replace(/\/+$/, ''), headers, weight };
    if (rpm !== undefined) endpoint.requestsPerMinute = rpm;
    if (tpm !== undefined) endpoint.tokensPerMinute = tpm;
    return endpoint;
  });
  return { baseURL: out[0]?.baseUrl ?? '', endpoints: out };
}
