// OpenAI polling helpers (vectorStores.files / fileBatches, beta.threads.runs, createAndRunPoll,
// files.waitForProcessing) against a scripted loopback server: each retrieve answers the next status
// of a script with an `openai-poll-after-ms` header. Asserted: the requests made (count of polls, the
// order), that the header, or `pollIntervalMs` over it, sets the wait (a test with the 5 s default or
// a 60 s header would time out), abort during a wait, the returned terminal object, bad options.
// The request sequences are compared with openai-node 6.49.0's on the same server.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import SDK from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AiwireError, APIConnectionTimeoutError, APIUserAbortError } from '../src/core/errors.js';
import { OpenAI } from '../src/openai.js';

let server: Server;
let baseURL: string;
/** Requests seen: method, path, and the multipart `purpose` of file uploads. */
let requests: string[] = [];
/** Per retrieve path: the statuses it answers in turn (the last one repeats). */
let scripts: Record<string, string[]> = {};
let served: Record<string, number> = {};
/** The `openai-poll-after-ms` header sent with every answer. */
let pollAfter = '5';
let uploads = 0;

function status(path: string): string {
  const script = scripts[path] ?? ['completed'];
  const i = served[path] ?? 0;
  served[path] = i + 1;
  return script[Math.min(i, script.length - 1)] as string;
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let raw = '';
  for await (const part of req) raw += part;
  const url = new URL(req.url ?? '/', 'http://x');
  const p = url.pathname.replace(/^\/v1/, '');
  requests.push(`${req.method} ${p}`);
  const send = (body: object) => {
    res.writeHead(200, { 'content-type': 'application/json', 'openai-poll-after-ms': pollAfter });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'POST' && p === '/files') {
    const purpose = /name="purpose"\r\n\r\n([^\r]*)/.exec(raw)?.[1];
    requests[requests.length - 1] += ` purpose=${purpose}`;
    return send({ id: `file-up${++uploads}`, object: 'file', bytes: 3, purpose, status: 'uploaded' });
  }
  const fileM = /^\/files\/([^/]+)$/.exec(p);
  if (req.method === 'GET' && fileM) {
    const m = fileM;
    return send({ id: m[1], object: 'file', status: status(p) });
  }
  const vsFileM = /^\/vector_stores\/([^/]+)\/files(?:\/([^/]+))?$/.exec(p);
  if (vsFileM) {
    const m = vsFileM;
    const id = m[2] ?? (JSON.parse(raw) as { file_id: string }).file_id;
    const st = req.method === 'GET' ? status(p) : 'in_progress';
    return send({ id, object: 'vector_store.file', vector_store_id: m[1], status: st, last_error: null });
  }
  const batchM = /^\/vector_stores\/([^/]+)\/file_batches(?:\/([^/]+))?$/.exec(p);
  if (batchM) {
    const m = batchM;
    if (req.method === 'POST') requests[requests.length - 1] += ` ${raw}`;
    const st = req.method === 'GET' ? status(p) : 'in_progress';
    return send({
      id: m[2] ?? 'vsfb_1',
      object: 'vector_store.files_batch',
      vector_store_id: m[1],
      status: st,
    });
  }
  if (req.method === 'POST' && p === '/threads/runs') {
    return send({ id: 'run_2', object: 'thread.run', thread_id: 'thread_2', status: 'queued' });
  }
  const runM = /^\/threads\/([^/]+)\/runs(?:\/([^/]+))?(\/submit_tool_outputs)?$/.exec(p);
  if (runM) {
    const m = runM;
    const st = req.method === 'GET' ? status(p) : m[3] ? 'in_progress' : 'queued';
    return send({ id: m[2] ?? 'run_1', object: 'thread.run', thread_id: m[1], status: st });
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: { message: `no route ${p}`, type: 'invalid_request_error' } }));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch((e) => res.destroy(e));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  requests = [];
  scripts = {};
  served = {};
  pollAfter = '5';
  uploads = 0;
});

const aiwire = () => new OpenAI({ apiKey: 'sk-test', baseURL, maxRetries: 0 });
const sdk = () => new SDK({ apiKey: 'sk-test', baseURL, maxRetries: 0 });

/** Run `call` against both clients from the same script; returns both request logs and results. */
async function both<T>(script: Record<string, string[]>, call: (client: never) => Promise<T>) {
  const run = async (client: unknown) => {
    requests = [];
    served = {};
    scripts = script;
    uploads = 0;
    const result = await call(client as never);
    return { requests, result };
  };
  return { theirs: await run(sdk()), ours: await run(aiwire()) };
}

describe('polling helpers: the requests openai-node makes, waits from openai-poll-after-ms', () => {
  it('vectorStores.files.createAndPoll: create, then retrieve until not in_progress', async () => {
    const { theirs, ours } = await both(
      { '/vector_stores/vs_1/files/file_1': ['in_progress', 'in_progress', 'completed'] },
      (c: OpenAI) => c.vectorStores.files.createAndPoll('vs_1', { file_id: 'file_1' }),
    );
    expect(ours.requests).toEqual(theirs.requests);
    expect(ours.requests).toEqual([
      'POST /vector_stores/vs_1/files',
      'GET /vector_stores/vs_1/files/file_1',
      'GET /vector_stores/vs_1/files/file_1',
      'GET /vector_stores/vs_1/files/file_1',
    ]);
    expect(ours.result).toMatchObject({ id: 'file_1', status: 'completed' });
  });

  it('vectorStores.files.uploadAndPoll: files.create (purpose assistants), attach, poll; failed is returned', async () => {
    const { theirs, ours } = await both(
      { '/vector_stores/vs_1/files/file-up1': ['in_progress', 'failed'] },
      (c: OpenAI) => c.vectorStores.files.uploadAndPoll('vs_1', new File(['abc'], 'a.txt')),
    );
    expect(ours.requests).toEqual(theirs.requests);
    expect(ours.requests).toEqual([
      'POST /files purpose=assistants',
      'POST /vector_stores/vs_1/files',
      'GET /vector_stores/vs_1/files/file-up1',
      'GET /vector_stores/vs_1/files/file-up1',
    ]);
    expect(ours.result).toMatchObject({ id: 'file-up1', status: 'failed' });
  });

  it('vectorStores.fileBatches.createAndPoll and uploadAndPoll (ids: given ones first, then the uploads)', async () => {
    const script = { '/vector_stores/vs_1/file_batches/vsfb_1': ['in_progress', 'completed'] };
    const created = await both(script, (c: OpenAI) =>
      c.vectorStores.fileBatches.createAndPoll('vs_1', { file_ids: ['f1', 'f2'] }),
    );
    expect(created.ours.requests).toEqual(created.theirs.requests);
    expect(created.ours.requests).toHaveLength(3);
    expect(created.ours.result).toMatchObject({ id: 'vsfb_1', status: 'completed' });

    const uploaded = await both(script, (c: OpenAI) =>
      c.vectorStores.fileBatches.uploadAndPoll(
        'vs_1',
        {
          files: [new File(['a'], 'a.txt'), new File(['b'], 'b.txt'), new File(['c'], 'c.txt')],
          fileIds: ['f0'],
        },
        { maxConcurrency: 2 },
      ),
    );
    // Uploads run two at a time, so the mock numbers them in arrival order and both SDKs list the
    // uploaded ids in the order the uploads finished: compare the requests as sets, with the uploaded
    // ids of the batch body sorted.
    const canonical = (r: string[]) =>
      r
        .map((line) => {
          const at = line.indexOf('{');
          if (at < 0) return line;
          const body = JSON.parse(line.slice(at)) as { file_ids: string[] };
          const [given, ...up] = body.file_ids;
          return `${line.slice(0, at)}${JSON.stringify({ ...body, file_ids: [given, ...up.sort()] })}`;
        })
        .sort();
    expect(canonical(uploaded.ours.requests)).toEqual(canonical(uploaded.theirs.requests));
    expect(uploaded.ours.requests.filter((r) => r.startsWith('POST /files'))).toHaveLength(3);
    const batchBody = uploaded.ours.requests.find((r) => r.startsWith('POST /vector_stores')) ?? '';
    const ids = (JSON.parse(batchBody.slice(batchBody.indexOf('{'))) as { file_ids: string[] }).file_ids;
    expect(ids[0]).toBe('f0');
    expect(ids.slice(1).sort()).toEqual(['file-up1', 'file-up2', 'file-up3']);
    expect(uploaded.ours.requests.at(-1)).toBe('GET /vector_stores/vs_1/file_batches/vsfb_1');
  });

  it('beta.threads.runs.createAndPoll stops at requires_action; submitToolOutputsAndPoll polls to completed', async () => {
    const run = await both(
      { '/threads/thread_1/runs/run_1': ['queued', 'in_progress', 'requires_action'] },
      (c: OpenAI) => c.beta.threads.runs.createAndPoll('thread_1', { assistant_id: 'asst_1' }),
    );
    expect(run.ours.requests).toEqual(run.theirs.requests);
    expect(run.ours.requests.filter((r) => r.startsWith('GET'))).toHaveLength(3);
    expect(run.ours.result).toMatchObject({ id: 'run_1', status: 'requires_action' });

    const submitted = await both(
      { '/threads/thread_1/runs/run_1': ['in_progress', 'cancelling', 'completed'] },
      (c: OpenAI) =>
        c.beta.threads.runs.submitToolOutputsAndPoll('run_1', {
          thread_id: 'thread_1',
          tool_outputs: [{ tool_call_id: 'call_1', output: '42' }],
        }),
    );
    expect(submitted.ours.requests).toEqual(submitted.theirs.requests);
    expect(submitted.ours.requests[0]).toBe('POST /threads/thread_1/runs/run_1/submit_tool_outputs');
    expect(submitted.ours.requests.filter((r) => r.startsWith('GET'))).toHaveLength(3);
    expect(submitted.ours.result).toMatchObject({ status: 'completed' });
  });

  it('beta.threads.createAndRunPoll polls the new run of the new thread', async () => {
    const { theirs, ours } = await both(
      { '/threads/thread_2/runs/run_2': ['queued', 'expired'] },
      (c: OpenAI) => c.beta.threads.createAndRunPoll({ assistant_id: 'asst_1' }),
    );
    expect(ours.requests).toEqual(theirs.requests);
    expect(ours.requests).toEqual([
      'POST /threads/runs',
      'GET /threads/thread_2/runs/run_2',
      'GET /threads/thread_2/runs/run_2',
    ]);
    expect(ours.result).toMatchObject({ status: 'expired' });
  });

  it('the openai-poll-after-ms header sets the wait: 4 polls finish well inside one default wait (5 s)', async () => {
    scripts = {
      '/vector_stores/vs_1/file_batches/vsfb_1': ['in_progress', 'in_progress', 'in_progress', 'completed'],
    };
    const started = performance.now();
    const batch = await aiwire().vectorStores.fileBatches.poll('vs_1', 'vsfb_1');
    expect(performance.now() - started).toBeLessThan(4000);
    expect(batch.status).toBe('completed');
    expect(requests).toHaveLength(4);
  });

  it('pollIntervalMs wins over a 60 s openai-poll-after-ms header', async () => {
    pollAfter = '60000';
    scripts = {
      '/vector_stores/vs_1/files/file_1': ['in_progress', 'in_progress', 'in_progress', 'completed'],
    };
    const file = await aiwire().vectorStores.files.poll('vs_1', 'file_1', { pollIntervalMs: 5 });
    expect(file.status).toBe('completed');
    expect(requests).toHaveLength(4);
  });

  it('the signal aborts a wait (one timer, cleared): APIUserAbortError after one poll', async () => {
    pollAfter = '60000';
    scripts = { '/threads/thread_1/runs/run_1': ['in_progress'] };
    const controller = new AbortController();
    const polling = aiwire().beta.threads.runs.poll(
      'run_1',
      { thread_id: 'thread_1' },
      { signal: controller.signal },
    );
    while (requests.length === 0) await new Promise((r) => setTimeout(r, 2));
    controller.abort();
    await expect(polling).rejects.toBeInstanceOf(APIUserAbortError);
    expect(requests).toEqual(['GET /threads/thread_1/runs/run_1']);
  });

  it('bad options: a typed error before any request', async () => {
    const client = aiwire();
    await expect(client.vectorStores.files.poll('vs_1', 'file_1', { pollIntervalMs: -1 })).rejects.toThrow(
      /pollIntervalMs must be a positive number/,
    );
    await expect(client.vectorStores.fileBatches.uploadAndPoll('vs_1', { files: [] })).rejects.toThrow(
      /no `files` to upload.*createAndPoll/,
    );
    await expect(
      client.vectorStores.fileBatches.uploadAndPoll(
        'vs_1',
        { files: [new File(['a'], 'a')] },
        { maxConcurrency: 0 },
      ),
    ).rejects.toBeInstanceOf(AiwireError);
    expect(requests).toEqual([]);
  });
});

describe('files.waitForProcessing', () => {
  it('polls every pollInterval until processed; the same requests as openai-node', async () => {
    const { theirs, ours } = await both(
      { '/files/file-p': ['uploaded', 'uploaded', 'processed'] },
      (c: OpenAI) => c.files.waitForProcessing('file-p', { pollInterval: 5 }),
    );
    expect(ours.requests).toEqual(theirs.requests);
    expect(ours.requests).toEqual(['GET /files/file-p', 'GET /files/file-p', 'GET /files/file-p']);
    expect(ours.result).toMatchObject({ status: 'processed' });
  });

  it('gives up after maxWait with APIConnectionTimeoutError; bad pollInterval is refused', async () => {
    scripts = { '/files/file-p': ['uploaded'] };
    await expect(
      aiwire().files.waitForProcessing('file-p', { pollInterval: 5, maxWait: 30 }),
    ).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    expect(requests.length).toBeGreaterThan(2);
    expect(requests.length).toBeLessThan(40);
    await expect(aiwire().files.waitForProcessing('file-p', { pollInterval: 0 })).rejects.toThrow(
      /pollInterval/,
    );
  });
});
