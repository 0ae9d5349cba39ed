// A real redis-server for tests (Debian package `redis-server`; `.ci/run` installs it): started on a
// free loopback port with no persistence, killed by the test.
import { type ChildProcess, spawn } from 'node:child_process';
import { type AddressInfo, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fixtures = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** A running redis-server. */
export interface TestRedis {
  /** `redis://127.0.0.1:<port>` (`rediss://` with TLS) */
  url: string;
  proc: ChildProcess;
  /** SIGKILL it and wait for its exit. */
  kill(): Promise<void>;
}

/**
 * Start `redis-server` on a free port; resolves once it accepts connections (within 5 s). With `tls`,
 * it listens for TLS only (`rediss://`; Debian's redis-server is built with TLS), with the server
 * certificate of the private test CA in `fixtures/tls`.
 */
export async function startRedis(tls = false): Promise<TestRedis> {
  const port = await freePort();
  const fixture = (name: string) => join(fixtures, name);
  const listen = tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', fixture('server-cert.pem')]
    : ['--port', String(port)];
  if (tls) {
    listen.push('--tls-key-file', fixture('server-key.pem'), '--tls-ca-cert-file', fixture('ca.pem'));
    listen.push('--tls-auth-clients', 'no');
  }
  const proc = spawn('redis-server', [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const deadline = Date.now() + 5000;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1', () => {
        c.destroy();
        r(true);
      });
      c.once('error', () => r(false));
    });
    if (ok) break;
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error('redis-server did not listen within 5 s (is it installed?)');
    }
    await sleep(20);
  }
  return {
    url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    proc,
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}
