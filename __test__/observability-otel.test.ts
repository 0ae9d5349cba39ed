// `telemetry: true`: GenAI spans and metrics through @opentelemetry/api, read back with the SDK's
// in-memory span exporter and a pull metric reader, through the real addon against the fault server.
import { metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { type Histogram, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Anthropic } from '../src/anthropic.js';
import { AzureOpenAI } from '../src/index.js';
import { type FaultServer, startFaultServer } from '../src/testing/index.js';
import { chunk, client, completion, messages } from './helpers/client.js';

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

let server: FaultServer;
const spans = new InMemorySpanExporter();
const reader = new PullReader();

beforeAll(async () => {
  server = await startFaultServer();
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
  );
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => {
  server.reset();
  spans.reset();
});

/** Data points of one instrument: `[attributes, histogram]`. */
async function points(name: string) {
  const { resourceMetrics } = await reader.collect();
  const found = resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === name);
  return {
    unit: found?.descriptor.unit,
    points: (found?.dataPoints ?? []).map((p) => [p.attributes, p.value as Histogram] as const),
  };
}

const usage = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 };

describe('telemetry: true', () => {
  it('a chat call: span `chat {model}` with the GenAI attributes; duration and token histograms', async () => {
    server.enqueue({
      kind: 'json',
      body: { ...completion, id: 'chatcmpl-9', model: 'gpt-test-2024', usage },
    });
    const c = client(server.url, { telemetry: true });
    const res = await c.chat.completions.create({ model: 'gpt-test', messages, max_tokens: 50 });
    expect(res.id).toBe('chatcmpl-9');
    const [span] = spans.getFinishedSpans();
    expect(span?.name).toBe('chat gpt-test');
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-test',
      'gen_ai.request.max_tokens': 50,
      'gen_ai.response.id': 'chatcmpl-9',
      'gen_ai.response.model': 'gpt-test-2024',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 7,
      'gen_ai.usage.output_tokens': 3,
      'server.address': '127.0.0.1',
      'http.response.status_code': 200,
    });
    const duration = await points('gen_ai.client.operation.duration');
    expect(duration.unit).toBe('s');
    const chat = duration.points.find(([a]) => a['gen_ai.request.model'] === 'gpt-test');
    expect(chat?.[1].count).toBe(1);
    expect(chat?.[1].sum).toBeGreaterThan(0);
    expect(chat?.[1].sum).toBeLessThan(5);
    const tokens = await points('gen_ai.client.token.usage');
    expect(tokens.unit).toBe('{token}');
    const byType = Object.fromEntries(tokens.points.map(([a, h]) => [a['gen_ai.token.type'], h.sum]));
    expect(byType).toEqual({ input: 7, output: 3 });
  });

  it('a failed call: span status ERROR with error.type; a stream: span ends with the stream, time to first chunk', async () => {
    server.enqueue({ kind: 'json', status: 500, body: { error: { message: 'x' } } });
    const c = client(server.url, { telemetry: true, maxRetries: 0 });
    await expect(c.chat.completions.create({ model: 'bad', messages })).rejects.toThrow();
    const [failed] = spans.getFinishedSpans();
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.attributes['error.type']).toBe('500');
    spans.reset();
    server.enqueue({ kind: 'sse', events: [chunk('a'), chunk('b'), 'data: [DONE]\n\n'] });
    const stream = await c.chat.completions.create({ model: 'streamer', messages, stream: true });
    expect(spans.getFinishedSpans()).toHaveLength(0); // still open while the stream runs
    for await (const _ of stream) {
    }
    const [span] = spans.getFinishedSpans();
    expect(span?.name).toBe('chat streamer');
    expect(span?.status.code).not.toBe(SpanStatusCode.ERROR);
    const ttfc = await points('gen_ai.client.operation.time_to_first_chunk');
    expect(ttfc.unit).toBe('s');
    expect(ttfc.points.find(([a]) => a['gen_ai.request.model'] === 'streamer')?.[1].count).toBe(1);
  });

  it('Anthropic: provider anthropic, finish reasons from stop_reason, usage input/output', async () => {
    server.enqueue({
      kind: 'json',
      body: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-x',
        content: [{ type: 'text', text: 'hi' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 4, output_tokens: 2 },
      },
    });
    const a = new Anthropic({ apiKey: 'k', baseURL: server.url, telemetry: true });
    await a.messages.create({ model: 'claude-x', max_tokens: 10, messages });
    const [span] = spans.getFinishedSpans();
    expect(span?.attributes).toMatchObject({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.operation.name': 'chat',
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': 4,
      'gen_ai.usage.output_tokens': 2,
    });
  });

  it('Azure OpenAI: provider azure.ai.openai; the deployment in the path is not the operation', async () => {
    server.enqueue({ kind: 'json', body: { ...completion, usage } });
    const az = new AzureOpenAI({
      apiKey: 'k',
      endpoint: server.url,
      apiVersion: '2024-10-21',
      telemetry: true,
      metrics: true,
    });
    await az.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const [span] = spans.getFinishedSpans();
    expect(span?.name).toBe('chat gpt-4o-mini');
    expect(span?.attributes['gen_ai.provider.name']).toBe('azure.ai.openai');
    expect(server.requests[0]?.url).toContain('/openai/deployments/gpt-4o-mini/chat/completions');
    expect(Object.keys(az.metrics().operations)).toEqual(['POST /deployments/{id}/chat/completions']);
  });
});
