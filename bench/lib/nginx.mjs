/**
 * The peer: Debian's nginx serving the fixed bodies on 127.0.0.1, as a child process of the runner
 * (`daemon off`), with its own config, pid, logs and temp paths in a temp dir. Killed by `stop()`.
 *
 * nginx's static module answers 405 to POST; `error_page 405 =200 $uri` turns that into an internal
 * redirect (as GET) to the same file with status 200, after the request body has been read and
 * discarded, so keep-alive connections stay usable. One worker process: the client under test gets
 * the other core.
 *
 * The upload endpoint (`POST /up/v1/files`, 100 MB multipart bodies) must answer only once the whole
 * body is in: with the 405 trick alone nginx discards the body lazily and answers after the first
 * bytes (measured: openai-node and aiwire "uploaded" 100 MB in 3-6 ms, nginx logged ~500-byte
 * requests), so the figure would not measure the upload. There the mirror module's
 * `mirror_request_body on` makes nginx read the whole body first (into one memory buffer,
 * `client_body_buffer_size 128m`: no temp file on disk), then the static answer follows; the
 * subrequest it mirrors to is an internal `return 204`. Every upload is logged (`$request_length`)
 * to `upload.log`, which the runner checks: each upload must have arrived whole.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Path of the nginx binary, or undefined. */
export function findNginx() {
  for (const candidate of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) {
    const r = spawnSync(candidate, ['-v'], { encoding: 'utf8' });
    if (r.status === 0)
      return { bin: candidate, version: (r.stderr || r.stdout).trim().replace(/^nginx version: /, '') };
  }
  const r = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  if (r.status === 0)
    return { bin: 'nginx', version: (r.stderr || r.stdout).trim().replace(/^nginx version: /, '') };
  return undefined;
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function config(dir, root, port) {
  const tmp = (name) => join(dir, name);
  return `worker_processes 1;
daemon off;
master_process on;
pid ${tmp('nginx.pid')};
error_log ${tmp('error.log')} warn;
events {
  worker_connections 8192;
  multi_accept on;
}
http {
  access_log off;
  server_tokens off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_max_body_size 16m;
  client_body_buffer_size 1m;
  client_body_temp_path ${tmp('client_body')};
  proxy_temp_path ${tmp('proxy')};
  fastcgi_temp_path ${tmp('fastcgi')};
  uwsgi_temp_path ${tmp('uwsgi')};
  scgi_temp_path ${tmp('scgi')};
  open_file_cache max=64 inactive=600s;
  open_file_cache_valid 600s;
  etag off;
  types { }
  log_format upload '$request_length $status';
  server {
    listen 127.0.0.1:${port} backlog=4096;
    root ${root};
    error_page 405 =200 $uri;
    location /stream/ {
      default_type text/event-stream;
    }
    location /anthropic/ {
      default_type text/event-stream;
    }
    location /anthropic-json/ {
      default_type application/json;
    }
    location = /up/v1/files {
      client_max_body_size 0;
      client_body_buffer_size 128m;
      mirror /_body_read;
      mirror_request_body on;
      access_log ${tmp('upload.log')} upload;
      default_type application/json;
    }
    location = /_body_read {
      internal;
      client_max_body_size 0;
      return 204;
    }
    location /dl/ {
      default_type application/octet-stream;
    }
    location / {
      default_type application/json;
    }
  }
}
`;
}

async function waitReady(port, child, deadlineMs) {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`);
      await res.arrayBuffer();
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** Worker pids of a master (Linux /proc), so they can be killed if the master must be SIGKILLed. */
function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** SIGTERM (nginx's fast shutdown: the master stops its workers), SIGKILL to master and workers after 3 s. */
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  const workers = childrenOf(child.pid);
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const pid of [...workers, ...childrenOf(child.pid)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    child.kill('SIGKILL');
  }, 3000);
  await exited;
  clearTimeout(timer);
}

/**
 * Start nginx serving `root` from a config written into `dir`.
 * @returns {Promise<{ port: number, url: string, pid: number, uploadLog: string, stop: () => Promise<void> }>}
 */
export async function startNginx({ bin, dir, root }) {
  mkdirSync(dir, { recursive: true });
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, config(dir, root, port));
    const child = spawn(bin, ['-c', conf, '-p', dir, '-e', join(dir, 'error.log')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    if (await waitReady(port, child, 5000)) {
      return {
        port,
        url: `http://127.0.0.1:${port}`,
        pid: child.pid,
        uploadLog: join(dir, 'upload.log'),
        stop: () => stop(child),
      };
    }
    await stop(child);
    let log = '';
    try {
      log = readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      // no log
    }
    const tail = `${stderr}${log}`.trim().split('\n').slice(-3).join('\n');
    lastError = new Error(`nginx did not serve ${root} on port ${port}: ${tail}`);
  }
  throw lastError;
}

/**
 * Load a freshly started peer before the first measured run. Measured here: the first client run
 * against a cold nginx cost aiwire 68.6 us of CPU per request, the next runs 59.6 and 55.6 (a slower
 * peer answers fewer requests per client wake-up), so without this the first client of the suite
 * paid for the peer's warm-up. POSTs every path at concurrency 32 for `ms` milliseconds in all.
 * @param {string} url e.g. `http://127.0.0.1:8080`
 * @param {string[]} paths URL paths without the leading slash
 * @returns {Promise<number>} requests made
 */
export async function warmUp(url, paths, ms = 3000) {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const one = (path) =>
    new Promise((resolve) => {
      const req = request(`${url}/${path}`, { method: 'POST', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
        res.on('error', resolve);
      });
      req.on('error', resolve);
      req.end('{}');
    });
  let made = 0;
  for (const path of paths) {
    const until = Date.now() + ms / paths.length;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (Date.now() < until) {
          await one(path);
          made++;
        }
      }),
    );
  }
  agent.destroy();
  return made;
}
