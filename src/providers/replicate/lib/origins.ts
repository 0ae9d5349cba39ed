/**
 * Which hosts Replicate's helpers may reach besides the client's base URL, and with what.
 *
 * A prediction's `urls.stream` is on another host in production (`stream.replicate.com`), and its
 * output files on a CDN (`replicate.delivery`). The kit refuses absolute URLs on another origin
 * unless a request says `foreignOrigin`; this one sends the client's token only to https hosts under
 * `replicate.com` (the API and stream hosts, which may ask for it). Every other origin, including
 * `replicate.delivery` (signed URLs, no token needed) and any non-Replicate host a webhook or a model
 * output could name, gets the request without the `Authorization` header. replicate-javascript sends
 * no token to stream or file URLs at all; aiwire sends it to Replicate's own API hosts only.
 */
import type { ForeignOrigin } from '../../../core/request.js';

/** True for `https://replicate.com` and `https://<anything>.replicate.com`. */
export function isReplicateHost(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  return url.protocol === 'https:' && (host === 'replicate.com' || host.endsWith('.replicate.com'));
}

/** The `foreignOrigin` of the helpers' stream and file requests (see the module comment). */
export const replicateForeignOrigin: ForeignOrigin = Object.freeze({ sendCredentials: isReplicateHost });
