import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Anthropic } from '../src/anthropic.js';
import { MAX_FAILED_POLLS, pollBatch } from '../src/batch/executors/provider-poll.js';
import { type ProviderBatchEvent, providerBatchExecutor } from '../src/batch/index.js';
import { APIConnectionError, APIError } from '../src/core/errors.js';
import { OpenAI } from '../src/openai.js';
import {
  anthropic,
  chat,
  claudeText,
  embed,
  item,
  message,
  openai,
  readState,
  run,
  stateFile,
  text,
  useBatchMock,
} from './helpers/batch-provider.js';

useBatchMock();

describe('openai-batch', () => {
  it('one batch per endpoint; answers, typed errors for non-2xx answers, invalid_input for what the Batch API cannot run', async () => {
    const state = stateFile();
    const events: ProviderBatchEvent[] = [];
    const executor = providerBatchExecutor({
      provider: 'openai',
      client: openai,
      stateFile: state,
      pollIntervalMs: 5,
      onStatus: (e) => events.push(e),
    });
    expect(executor.name).toBe('openai-batch');
    const lines = await run(executor, [
      chat('c1', 'first question'),
      embed('e1', 'alpha'),
      chat('c2', 'second question'),
      chat('bad', 'x', 'mock-error-400'),
      embed('e2', 'beta'),
      item('claude', '/v1/messages', { model: 'claude-sonnet-4-6' }),
      item('list', '/v1/models', undefined, 'GET'),
      item('get', '/v1/chat/completions', undefined, 'GET'),
    ]);
    expect([...lines.keys()].sort()).toEqual(['bad', 'c1', 'c2', 'claude', 'e1', 'e2', 'get', 'list']);
    expect(text(lines.get('c1'))).toBe('Echo: first question');
    expect(text(lines.get('c2'))).toBe('Echo: second question');
    expect(lines.get('c1')?.error).toBeNull();
    expect(lines.get('c1')?.response?.status_code).toBe(200);
    expect(
      (lines.get('e2')?.response?.body as { data?: { embedding: number[] }[] } | undefined)?.data?.[0]
        ?.embedding,
    ).toHaveLength(4);
    const bad = lines.get('bad');
    expect(bad?.response?.status_code).toBe(400);
    expect(bad?.error).toMatchObject({ type: 'BadRequestError', status: 400, retryable: false });
    expect(bad?.error?.message).toMatch(/^400 Mock error 400/);
    for (const id of ['claude', 'list', 'get']) {
      expect(lines.get(id)?.error).toMatchObject({ code: 'invalid_input', retryable: false });
      expect(lines.get(id)?.response).toBeNull();
    }
    expect(lines.get('claude')?.error?.message).toMatch(/does not run \/v1\/messages/);
    expect(lines.get('list')?.error?.message).toMatch(/does not run \/v1\/models/);
    expect(lines.get('get')?.error?.message).toMatch(/POST requests only, not GET/);

    const recorded = readState(state);
    expect(recorded.provider).toBe('openai');
    expect(recorded.batches.map((b) => [b.group, b.custom_ids, b.collected])).toEqual([
      ['/v1/chat/completions', ['c1', 'c2', 'bad'], true],
      ['/v1/embeddings', ['e1', 'e2'], true],
    ]);
    expect(events.filter((e) => e.type === 'created').map((e) => e.requests)).toEqual([3, 2]);
    expect(events.filter((e) => e.type === 'collected')).toHaveLength(2);
  });

  it('splits at maxRequestsPerBatch and maxBytesPerBatch; an item over the byte limit alone gets invalid_input', async () => {
    const created: number[] = [];
    const onStatus = (e: ProviderBatchEvent) => {
      if (e.type === 'created') created.push(e.requests ?? 0);
    };
    const items = Array.from({ length: 5 }, (_, i) => chat(`r${i}`, `question ${i}`));
    const byCount = await run(
      providerBatchExecutor({
        provider: 'openai',
        client: openai,
        stateFile: stateFile(),
        pollIntervalMs: 5,
        maxRequestsPerBatch: 2,
        onStatus,
      }),
      items,
    );
    expect(created).toEqual([2, 2, 1]);
    for (let i = 0; i < 5; i++) expect(text(byCount.get(`r${i}`))).toBe(`Echo: question ${i}`);

    created.length = 0;
    const lineBytes = Buffer.byteLength(
      JSON.stringify({ custom_id: 'r0', method: 'POST', url: '/v1/chat/completions', body: items[0]?.body }),
    );
    const state = stateFile();
    const bySize = await run(
      providerBatchExecutor({
        provider: 'openai',
        client: openai,
        stateFile: state,
        pollIntervalMs: 5,
        maxBytesPerBatch: lineBytes * 3 + 2, // three lines and their two newlines
        onStatus,
      }),
      [...items, chat('huge', 'word '.repeat(200))],
    );
    expect(created).toEqual([3, 2]);
    expect(bySize.get('huge')?.error).toMatchObject({ code: 'invalid_input', retryable: false });
    expect(bySize.get('huge')?.error?.message).toMatch(/over the batch limit of \d+ bytes/);
    for (let i = 0; i < 5; i++) expect(text(bySize.get(`r${i}`))).toBe(`Echo: question ${i}`);
    expect(readState(state).batches.map((b) => b.custom_ids)).toEqual([
      ['r0', 'r1', 'r2'],
      ['r3', 'r4'],
    ]);
  });

  it('batches spooled to a temporary file (spoolAfterBytes) upload the same input file', async () => {
    const items = Array.from({ length: 7 }, (_, i) => chat(`s${i}`, `spooled ${i}`));
    const created: number[] = [];
    const lines = await run(
      providerBatchExecutor({
        provider: 'openai',
        client: openai,
        stateFile: stateFile(),
        pollIntervalMs: 5,
        maxRequestsPerBatch: 3,
        spoolAfterBytes: 1, // every request goes to the file as soon as it is added
        onStatus: (e) => {
          if (e.type === 'created') created.push(e.requests ?? 0);
        },
      }),
      items,
    );
    expect(created).toEqual([3, 3, 1]);
    expect(lines.size).toBe(7);
    for (let i = 0; i < 7; i++) expect(text(lines.get(`s${i}`))).toBe(`Echo: spooled ${i}`);
  });

  it('a batch the API refuses to create: each of its items gets the typed error of the create', async () => {
    // The mock's Batch API runs chat and embeddings only: a /v1/responses batch is refused with 400.
    const lines = await run(
      providerBatchExecutor({
        provider: 'openai',
        client: openai,
        stateFile: stateFile(),
        pollIntervalMs: 5,
      }),
      [item('r1', '/v1/responses', { model: 'gpt-4o-mini', input: 'hi' }), chat('c1', 'still runs')],
    );
    expect(lines.get('r1')?.error).toMatchObject({ type: 'BadRequestError', status: 400, retryable: false });
    expect(text(lines.get('c1'))).toBe('Echo: still runs');
  });
});

describe('openai-batch: batches that end without results', () => {
  it('a cancelled batch: its requests get retryable missing_result errors', async () => {
    const lines = await run(
      providerBatchExecutor({
        provider: 'openai',
        client: openai,
        stateFile: stateFile(),
        pollIntervalMs: 5,
        onStatus: (e) => {
          if (e.type === 'created' && e.batchId) void openai.batches.cancel(e.batchId);
        },
      }),
      [chat('a', 'one'), chat('b', 'two')],
    );
    for (const id of ['a', 'b']) {
      expect(lines.get(id)?.error).toMatchObject({
        code: 'missing_result',
        type: 'ProviderBatchError',
        retryable: true,
      });
      expect(lines.get(id)?.error?.message).toMatch(/ended cancelled without a result/);
    }
  });

  it('a batch that fails validation: each item gets batch_failed with the reasons', async () => {
    // A loopback server standing in for OpenAI: the upload and create succeed, the batch then fails.
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const body =
          req.url === '/v1/files'
            ? { id: 'file-1', object: 'file', bytes: 1, created_at: 0, filename: 'x', purpose: 'batch' }
            : {
                id: 'batch_f',
                object: 'batch',
                endpoint: '/v1/chat/completions',
                input_file_id: 'file-1',
                completion_window: '24h',
                created_at: 0,
                status: req.method === 'POST' ? 'validating' : 'failed',
                errors: {
                  object: 'list',
                  data: [{ code: 'invalid_model', line: 1, message: 'model nope does not exist' }],
                },
              };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new OpenAI({
      apiKey: 'sk-test',
      baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
      maxRetries: 0,
    });
    try {
      const lines = await run(
        providerBatchExecutor({ provider: 'openai', client, stateFile: stateFile(), pollIntervalMs: 5 }),
        [chat('a', 'one', 'nope'), chat('b', 'two', 'nope')],
      );
      for (const id of ['a', 'b']) {
        expect(lines.get(id)?.error).toMatchObject({ code: 'batch_failed', retryable: false });
        expect(lines.get(id)?.error?.message).toBe(
          'OpenAI batch batch_f failed: line 1: model nope does not exist',
        );
      }
    } finally {
      client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('pollBatch', () => {
  const ended = { id: 'b', status: 'ended', ended: true, requestCounts: undefined, raw: {} };
  const api = (fail: (call: number) => Error | undefined) => {
    let calls = 0;
    return {
      get calls() {
        return calls;
      },
      retrieve: async () => {
        const err = fail(++calls);
        if (err) throw err;
        return ended;
      },
    };
  };
  const signal = new AbortController().signal;

  it('tries a retrieve that failed with a connection error again, up to MAX_FAILED_POLLS in a row', async () => {
    const flaky = api((n) =>
      n < MAX_FAILED_POLLS ? new APIConnectionError({ message: 'reset' }) : undefined,
    );
    await expect(pollBatch(flaky, 'b', signal, 1, () => {})).resolves.toBe(ended);
    expect(flaky.calls).toBe(MAX_FAILED_POLLS);
    const down = api(() => new APIConnectionError({ message: 'reset' }));
    await expect(pollBatch(down, 'b', signal, 1, () => {})).rejects.toThrow('reset');
    expect(down.calls).toBe(MAX_FAILED_POLLS);
  });

  it('gives up at once on an error that will not go away (401)', async () => {
    const denied = api(() => APIError.generate(401, { message: 'bad key' }, undefined, new Headers()));
    await expect(pollBatch(denied, 'b', signal, 1, () => {})).rejects.toMatchObject({ status: 401 });
    expect(denied.calls).toBe(1);
  });
});

describe('anthropic-batch', () => {
  it('succeeded → 200 with the message; errored → the status and typed error of its error type; ids the API refuses are renamed and mapped back', async () => {
    const state = stateFile();
    const executor = providerBatchExecutor({
      provider: 'anthropic',
      client: anthropic,
      stateFile: state,
      pollIntervalMs: 5,
    });
    expect(executor.name).toBe('anthropic-batch');
    const lines = await run(executor, [
      message('m1', 'hello there'),
      message('q:2', 'an id with a colon'),
      message('limited', 'x', 'mock-error-429'),
      message('overloaded', 'x', 'mock-error-529'),
      chat('openai-only', 'x'),
    ]);
    expect(claudeText(lines.get('m1'))).toBe('Echo: hello there');
    expect(lines.get('m1')?.response?.status_code).toBe(200);
    expect(claudeText(lines.get('q:2'))).toBe('Echo: an id with a colon');
    expect(lines.get('limited')?.response?.status_code).toBe(429);
    expect(lines.get('limited')?.error).toMatchObject({
      type: 'RateLimitError',
      code: 'rate_limit_error',
      status: 429,
      retryable: true,
    });
    expect(lines.get('limited')?.response?.body).toEqual({
      error: {
        type: 'error',
        error: { type: 'rate_limit_error', message: "Mock error 429 (asked for by model 'mock-error-429')." },
      },
    });
    expect(lines.get('overloaded')?.error).toMatchObject({
      type: 'InternalServerError',
      code: 'overloaded_error',
      status: 529,
      retryable: true,
    });
    expect(lines.get('openai-only')?.error).toMatchObject({ code: 'invalid_input' });
    const [batch] = readState(state).batches;
    expect(batch?.renamed).toEqual({ aiwire_1: 'q:2' });
    expect(batch?.collected).toBe(true);
  });

  it('a canceled batch: its requests get retryable batch_canceled errors', async () => {
    const lines = await run(
      providerBatchExecutor({
        provider: 'anthropic',
        client: anthropic,
        stateFile: stateFile(),
        pollIntervalMs: 5,
        onStatus: (e) => {
          if (e.type === 'created' && e.batchId) void anthropic.messages.batches.cancel(e.batchId);
        },
      }),
      [message('a', 'one'), message('b', 'two')],
    );
    for (const id of ['a', 'b']) {
      expect(lines.get(id)?.error).toMatchObject({
        code: 'batch_canceled',
        type: 'ProviderBatchError',
        retryable: true,
      });
    }
  });
});

describe('anthropic-batch: results the mock does not make', () => {
  it('expired → retryable batch_expired; an errored type without a listed status → its status (402) and APIError', async () => {
    // A loopback server standing in for Anthropic: the batch ends at once with these results.
    const results = [
      { custom_id: 'late', result: { type: 'expired' } },
      {
        custom_id: 'broke',
        result: {
          type: 'errored',
          error: {
            type: 'error',
            error: { type: 'billing_error', message: 'credit balance too low' },
            request_id: 'req_9',
          },
        },
      },
    ];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url?.endsWith('/results')) {
          res.writeHead(200, { 'content-type': 'application/x-jsonl' });
          res.end(results.map((r) => JSON.stringify(r)).join('\n'));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'msgbatch_x',
            type: 'message_batch',
            processing_status: req.method === 'POST' ? 'in_progress' : 'ended',
            request_counts: { processing: 0, succeeded: 0, errored: 1, canceled: 0, expired: 1 },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new Anthropic({
      apiKey: 'k',
      baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      maxRetries: 0,
    });
    try {
      const lines = await run(
        providerBatchExecutor({ provider: 'anthropic', client, stateFile: stateFile(), pollIntervalMs: 5 }),
        [message('late', 'a'), message('broke', 'b'), message('lost', 'c')],
      );
      expect(lines.get('late')?.error).toMatchObject({
        code: 'batch_expired',
        type: 'ProviderBatchError',
        retryable: true,
      });
      expect(lines.get('broke')?.response).toEqual({
        status_code: 402,
        request_id: 'req_9',
        body: {
          error: { type: 'error', error: { type: 'billing_error', message: 'credit balance too low' } },
        },
      });
      expect(lines.get('broke')?.error).toEqual({
        code: 'billing_error',
        message: '402 credit balance too low',
        type: 'APIError',
        status: 402,
        retryable: false,
      });
      // No result line at all for this one.
      expect(lines.get('lost')?.error).toMatchObject({ code: 'missing_result', retryable: true });
    } finally {
      client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
