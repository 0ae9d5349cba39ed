import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

/**
 * A loopback HTTP server (127.0.0.1, free port) for one test file: listening from `beforeAll`,
 * closed with its connections in `afterAll`. Read `baseURL` inside tests or later hooks.
 */
export function loopbackServer(handler: RequestListener): { readonly baseURL: string } {
  const state = { baseURL: '' };
  let server: Server | undefined;
  beforeAll(async () => {
    const s = createServer(handler);
    server = s;
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    state.baseURL = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    const s = server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  });
  return state;
}
