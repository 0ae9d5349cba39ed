/**
 * A scriptable Replicate API mock on loopback (127.0.0.1) for tests: two HTTP servers, the API
 * (`url`, `http://127.0.0.1:<port>/v1`) and a second origin standing for `stream.replicate.com` /
 * `replicate.delivery` (`streamOrigin`, another port, so requests there are cross-origin).
 *
 * Routes (API origin, under `/v1`):
 * - `POST /predictions` (`version` in the body), `POST /models/{owner}/{name}/predictions`,
 *   `POST /deployments/{owner}/{name}/predictions`: create a prediction playing the scenario of its
 *   model (`scenario(ref, …)`; `ref` is `owner/name` or the version id), else one that succeeds at
 *   once with `{ echo: input }`. The create answers the scenario's first step (`201`); with
 *   `Prefer: wait` / `wait=N` its last step at once (`honourWait`, default true).
 * - `GET /predictions/{id}`: the next step (the last one repeats).
 * - `POST /predictions/{id}/cancel`: status `canceled` (recorded in `canceled`).
 * - `GET /predictions`: the predictions, two per page, `next` an absolute URL (`?cursor=N`).
 * - `POST /files`: a multipart `content` (+ `metadata`) upload → `201` file object (`urls.get`).
 *   `GET /files/{id}`: the object; `GET /files/{id}/download`: its bytes.
 * - `GET /webhooks/default/secret`: `{ key: webhookSecret }`.
 * - anything else: `404` problem+json.
 * Either origin: `GET /v1/streams/{id}`: the scenario's `events` as server-sent events, each after its
 * `delayMs`; `GET /delivery/{name}`: a file added with `addFile`.
 *
 * `enqueue(match, …replies)` answers the next matching requests with canned replies first (e.g. two
 * `429`s with `Retry-After: 1`). Every request is recorded (method, path, headers, body, time, origin).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One state of a scripted prediction. */
export interface PredictionStep {
  status: 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled' | 'aborted';
  output?: unknown;
  /** The whole log text at this step. */
  logs?: string;
  error?: string | null;
}

/** One server-sent event of a scripted stream. */
export interface ScriptedEvent {
  event: string;
  data: string;
  id?: string;
  /** Wait this long before sending it (ms). */
  delayMs?: number;
}

/** How the predictions of one model behave. */
export interface ReplicateScenario {
  /** The create answers the first, each later `GET` the next (the last repeats). */
  steps: PredictionStep[];
  /** `Prefer: wait` answers the last step at once. Default true. */
  honourWait?: boolean;
  /** The stream's events (`GET urls.stream`). Default: the last step's output, then `done`. */
  events?: ScriptedEvent[];
  /** Give `urls.stream` (on `streamOrigin`). Default true. */
  stream?: boolean;
  /** Answer the create request after this long (ms); the prediction exists from the start. */
  createDelayMs?: number;
}

/** A canned reply for `enqueue`. */
export interface MockReply {
  status: number;
  headers?: Record<string, string>;
  /** JSON body (strings are sent as is). Default a problem+json body for >= 400. */
  body?: unknown;
}

/** One recorded request. */
export interface RecordedRequest {
  origin: 'api' | 'stream';
  method: string;
  /** Path and query, e.g. `/v1/predictions`. */
  path: string;
  headers: IncomingMessage['headers'];
  /** The body as UTF-8 text (multipart bodies too). */
  body: string;
  /** Byte length of the body. */
  size: number;
  /** `performance.now()` when the request head arrived. */
  at: number;
  /** The status answered. */
  status?: number;
}

/** A file received by `POST /files`. */
export interface UploadedFile {
  id: string;
  name: string;
  contentType: string;
  size: number;
  metadata: unknown;
  bytes: Buffer;
}

/** A prediction the mock holds. */
export interface MockPrediction {
  id: string;
  ref: string;
  body: Record<string, unknown>;
  /** The step shown last. */
  step: number;
  /** The `Prefer` header of its create request, if any. */
  prefer?: string | undefined;
  canceled: boolean;
  /** Times `GET /predictions/{id}` was asked. */
  polls: number;
}

/** A running mock. */
export interface ReplicateMock {
  /** The API base URL: `http://127.0.0.1:<port>/v1`. */
  readonly url: string;
  /** The API origin: `http://127.0.0.1:<port>`. */
  readonly apiOrigin: string;
  /** The second origin (streams, delivery): `http://127.0.0.1:<other port>`. */
  readonly streamOrigin: string;
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Predictions by id. */
  readonly predictions: Map<string, MockPrediction>;
  /** Files uploaded with `POST /files`. */
  readonly uploads: UploadedFile[];
  /** The secret `GET /webhooks/default/secret` returns (`whsec_<base64>`). */
  readonly webhookSecret: string;
  /** Script the predictions of `ref` (`owner/name` or a version id). */
  scenario(ref: string, scenario: ReplicateScenario): void;
  /** Answer the next requests matching `match` (method, exact path or RegExp on path) with `replies`. */
  enqueue(match: { method?: string; path?: string | RegExp }, ...replies: MockReply[]): void;
  /** Serve `bytes` at `/delivery/<name>` on both origins; returns its URL on `origin` (default stream). */
  addFile(name: string, bytes: Buffer | string, contentType?: string, origin?: 'api' | 'stream'): string;
  /** Requests whose path starts with `prefix` (and method, if given). */
  find(prefix: string, method?: string): RecordedRequest[];
  /** Forget requests, predictions, uploads, queued replies and scenarios. */
  reset(): void;
  close(): Promise<void>;
}

function problem(status: number, detail: string) {
  return { type: 'about:blank', title: detail, detail, status };
}

/** Start the mock on two ephemeral loopback ports. */
export async function startReplicateMock(): Promise<ReplicateMock> {
  const requests: RecordedRequest[] = [];
  const predictions = new Map<string, MockPrediction>();
  const uploads: UploadedFile[] = [];
  const scenarios = new Map<string, ReplicateScenario>();
  const queued: { match: { method?: string; path?: string | RegExp }; reply: MockReply }[] = [];
  const delivery = new Map<string, { bytes: Buffer; type: string }>();
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  let counter = 0;
  let apiOrigin = '';
  let streamOrigin = '';

  const scenarioOf = (p: MockPrediction): ReplicateScenario =>
    scenarios.get(p.ref) ?? {
      steps: [{ status: 'succeeded', output: { echo: p.body.input ?? null } }],
    };

  const view = (p: MockPrediction) => {
    const s = scenarioOf(p);
    const step = s.steps[Math.min(p.step, s.steps.length - 1)] as PredictionStep;
    const status = p.canceled ? 'canceled' : step.status;
    const urls: Record<string, string> = {
      get: `${apiOrigin}/v1/predictions/${p.id}`,
      cancel: `${apiOrigin}/v1/predictions/${p.id}/cancel`,
      web: `https://replicate.com/p/${p.id}`,
    };
    if (s.stream !== false) urls.stream = `${streamOrigin}/v1/streams/${p.id}`;
    return {
      id: p.id,
      model: p.ref.includes('/') ? p.ref : 'owner/model',
      version: typeof p.body.version === 'string' ? p.body.version : 'hidden',
      input: p.body.input ?? {},
      logs: step.logs ?? '',
      output: status === 'succeeded' || step.output !== undefined ? (step.output ?? null) : null,
      data_removed: false,
      error: step.error ?? null,
      status,
      created_at: new Date(0).toISOString(),
      urls,
    };
  };

  const send = (res: ServerResponse, rec: RecordedRequest, status: number, body: unknown, headers = {}) => {
    rec.status = status;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const type = status >= 400 ? 'application/problem+json' : 'application/json';
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const handleStream = async (res: ServerResponse, rec: RecordedRequest, id: string) => {
    const p = predictions.get(id);
    if (!p) return send(res, rec, 404, problem(404, 'Prediction not found'));
    const s = scenarioOf(p);
    const last = s.steps[s.steps.length - 1] as PredictionStep;
    const events = s.events ?? [
      { event: 'output', data: typeof last.output === 'string' ? last.output : JSON.stringify(last.output) },
      { event: 'done', data: '{}' },
    ];
    rec.status = 200;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    for (const e of events) {
      if (e.delayMs) await new Promise((r) => setTimeout(r, e.delayMs));
      if (closed) return;
      let frame = `event: ${e.event}\n`;
      if (e.id !== undefined) frame += `id: ${e.id}\n`;
      for (const line of e.data.split('\n')) frame += `data: ${line}\n`;
      res.write(`${frame}\n`);
    }
    res.end();
  };

  const handle = async (origin: 'api' | 'stream', req: IncomingMessage, res: ServerResponse) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const rec: RecordedRequest = {
      origin,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: req.headers,
      body: raw.toString('utf8'),
      size: raw.length,
      at,
    };
    requests.push(rec);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = rec.method;

    const q = queued.findIndex(
      ({ match }) =>
        (!match.method || match.method.toUpperCase() === method) &&
        (!match.path || (typeof match.path === 'string' ? match.path === path : match.path.test(path))),
    );
    if (q >= 0) {
      const { reply } = queued.splice(q, 1)[0] as { reply: MockReply };
      const body = reply.body ?? (reply.status >= 400 ? problem(reply.status, `mock ${reply.status}`) : {});
      return send(res, rec, reply.status, body, reply.headers);
    }

    let m: RegExpExecArray | null = null;
    m = method === 'GET' ? /^\/v1\/streams\/([^/]+)$/.exec(path) : null;
    if (m) return handleStream(res, rec, m[1] as string);
    m = method === 'GET' ? /^\/delivery\/(.+)$/.exec(path) : null;
    if (m) {
      const f = delivery.get(decodeURIComponent(m[1] as string));
      if (!f) return send(res, rec, 404, problem(404, 'File not found'));
      rec.status = 200;
      res.writeHead(200, { 'content-type': f.type, 'content-length': f.bytes.length });
      return res.end(f.bytes);
    }
    if (origin !== 'api') return send(res, rec, 404, problem(404, 'Not found'));

    const json = (): Record<string, unknown> => {
      try {
        return JSON.parse(rec.body) as Record<string, unknown>;
      } catch {
        return {};
      }
    };
    const create = async (ref: string) => {
      const body = json();
      const id = `p${++counter}${randomBytes(4).toString('hex')}`;
      const prefer = typeof req.headers.prefer === 'string' ? req.headers.prefer : undefined;
      const p: MockPrediction = { id, ref, body, step: 0, prefer, canceled: false, polls: 0 };
      const s = scenarioOf(p);
      if (prefer && /^wait(=\d+)?$/.test(prefer) && s.honourWait !== false) p.step = s.steps.length - 1;
      predictions.set(id, p);
      if (s.createDelayMs) await new Promise((r) => setTimeout(r, s.createDelayMs));
      return send(res, rec, 201, view(p));
    };
    if (method === 'POST' && path === '/v1/predictions') {
      const version = json().version;
      if (typeof version !== 'string') return send(res, rec, 422, problem(422, 'version is required'));
      return create(version);
    }
    m = method === 'POST' ? /^\/v1\/(?:models|deployments)\/([^/]+)\/([^/]+)\/predictions$/.exec(path) : null;
    if (m) {
      return create(`${decodeURIComponent(m[1] as string)}/${decodeURIComponent(m[2] as string)}`);
    }
    m = method === 'GET' ? /^\/v1\/predictions\/([^/]+)$/.exec(path) : null;
    if (m) {
      const p = predictions.get(m[1] as string);
      if (!p) return send(res, rec, 404, problem(404, 'Prediction not found'));
      p.polls++;
      if (!p.canceled) p.step = Math.min(p.step + 1, scenarioOf(p).steps.length - 1);
      return send(res, rec, 200, view(p));
    }
    m = method === 'POST' ? /^\/v1\/predictions\/([^/]+)\/cancel$/.exec(path) : null;
    if (m) {
      const p = predictions.get(m[1] as string);
      if (!p) return send(res, rec, 404, problem(404, 'Prediction not found'));
      p.canceled = true;
      return send(res, rec, 200, view(p));
    }
    if (method === 'GET' && path === '/v1/predictions') {
      const all = [...predictions.values()];
      const cursor = Number(url.searchParams.get('cursor') ?? 0);
      const next = cursor + 2 < all.length ? `${apiOrigin}/v1/predictions?cursor=${cursor + 2}` : null;
      return send(res, rec, 200, { results: all.slice(cursor, cursor + 2).map(view), next, previous: null });
    }
    if (method === 'POST' && path === '/v1/files') {
      let form: FormData;
      try {
        form = await new Request('http://mock/', {
          method: 'POST',
          headers: { 'content-type': req.headers['content-type'] ?? '' },
          body: raw,
        }).formData();
      } catch {
        return send(res, rec, 400, problem(400, 'Expected a multipart/form-data body'));
      }
      const content = form.get('content');
      if (!(content instanceof Blob)) return send(res, rec, 422, problem(422, 'content is required'));
      const meta = form.get('metadata');
      const metaText = typeof meta === 'string' ? meta : meta instanceof Blob ? await meta.text() : '{}';
      const id = `f${++counter}`;
      const file: UploadedFile = {
        id,
        name: content instanceof File ? content.name : 'blob',
        contentType: content.type || 'application/octet-stream',
        size: content.size,
        metadata: JSON.parse(metaText || '{}'),
        bytes: Buffer.from(await content.arrayBuffer()),
      };
      uploads.push(file);
      return send(res, rec, 201, fileView(file));
    }
    m = method === 'GET' ? /^\/v1\/files\/([^/]+)(\/download)?$/.exec(path) : null;
    if (m) {
      const f = uploads.find((u) => u.id === m?.[1]);
      if (!f) return send(res, rec, 404, problem(404, 'File not found'));
      if (!m[2]) return send(res, rec, 200, fileView(f));
      rec.status = 200;
      res.writeHead(200, { 'content-type': f.contentType, 'content-length': f.size });
      return res.end(f.bytes);
    }
    if (method === 'GET' && path === '/v1/webhooks/default/secret')
      return send(res, rec, 200, { key: webhookSecret });
    return send(res, rec, 404, problem(404, `No route for ${method} ${path}`));
  };

  const fileView = (f: UploadedFile) => ({
    id: f.id,
    name: f.name,
    content_type: f.contentType,
    size: f.size,
    checksums: {},
    metadata: f.metadata,
    created_at: new Date(0).toISOString(),
    expires_at: new Date(86_400_000).toISOString(),
    urls: { get: `${apiOrigin}/v1/files/${f.id}` },
  });

  const listen = async (origin: 'api' | 'stream'): Promise<Server> => {
    const server = createServer((req, res) => {
      handle(origin, req, res).catch((e) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify(problem(500, String((e as Error)?.message ?? e))));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  };
  const api = await listen('api');
  const streams = await listen('stream');
  apiOrigin = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  streamOrigin = `http://127.0.0.1:${(streams.address() as AddressInfo).port}`;

  return {
    url: `${apiOrigin}/v1`,
    apiOrigin,
    streamOrigin,
    requests,
    predictions,
    uploads,
    webhookSecret,
    scenario(ref, scenario) {
      scenarios.set(ref, scenario);
    },
    enqueue(match, ...replies) {
      for (const reply of replies) queued.push({ match, reply });
    },
    addFile(name, bytes, contentType = 'application/octet-stream', origin = 'stream') {
      delivery.set(name, { bytes: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes), type: contentType });
      return `${origin === 'api' ? apiOrigin : streamOrigin}/delivery/${encodeURIComponent(name)}`;
    },
    find(prefix, method) {
      return requests.filter((r) => r.path.startsWith(prefix) && (!method || r.method === method));
    },
    reset() {
      requests.length = 0;
      predictions.clear();
      uploads.length = 0;
      queued.length = 0;
      scenarios.clear();
      delivery.clear();
    },
    async close() {
      for (const s of [api, streams]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}
