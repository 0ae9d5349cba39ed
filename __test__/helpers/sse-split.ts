// Serving recorded SSE bodies the hard way for the differential stream tests: in 7-byte pieces, plus
// one cut right after the first byte of a multi-byte UTF-8 character, one event-loop turn apart, so
// every decoder sees events and characters split across network reads.
import type { ServerResponse } from 'node:http';

/**
 * Write `body` to `res` in pieces (see above). With `end: false` the last piece is written and flushed
 * but the response is left open (the caller then cuts the connection). Stops if `res` is destroyed.
 */
export async function writeSplit(res: ServerResponse, body: Buffer, end = true): Promise<void> {
  const cuts = new Set<number>();
  for (let at = 7; at < body.length; at += 7) cuts.add(at);
  const multi = body.findIndex((b) => b >= 0xc0);
  if (multi >= 0) cuts.add(multi + 1);
  let from = 0;
  for (const at of [...cuts].sort((a, b) => a - b)) {
    if (res.destroyed) return;
    res.write(body.subarray(from, at));
    from = at;
    await new Promise((r) => setImmediate(r));
  }
  if (end) res.end(body.subarray(from));
  else await new Promise((r) => res.write(body.subarray(from), r));
}
