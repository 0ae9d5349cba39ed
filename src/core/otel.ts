/**
 * OpenTelemetry with the GenAI semantic conventions (`telemetry: true`), through `@opentelemetry/api`
 * (an optional peer dependency, required only when a client turns this on). Whatever SDK the
 * application registered receives the spans and metrics; with none registered the API's no-ops cost
 * little.
 *
 * - a CLIENT span per call, named `{gen_ai.operation.name} {gen_ai.request.model}` (or the operation
 *   name alone when the body has no model), with `gen_ai.provider.name`, `gen_ai.request.model`,
 *   `gen_ai.request.max_tokens`, `gen_ai.response.id`, `gen_ai.response.model`,
 *   `gen_ai.response.finish_reasons`, `gen_ai.usage.input_tokens` / `output_tokens`, `server.address`,
 *   `server.port`, `http.response.status_code`, `error.type` on failure;
 * - histograms `gen_ai.client.operation.duration` (s), `gen_ai.client.token.usage` ({token}, with
 *   `gen_ai.token.type` `input` / `output`), `gen_ai.client.operation.time_to_first_chunk` (s, streams).
 */
import { createRequire } from 'node:module';
import { AiwireError } from './errors.js';

type Attributes = Record<string, string | number | string[] | undefined>;

// The parts of `@opentelemetry/api` used here, written structurally: the package is an optional peer,
// so aiwire's declaration files must compile without it (a consumer with `skipLibCheck: false`).
/** A histogram instrument. */
interface OtelHistogram {
  record(value: number, attributes?: Attributes): void;
}
/** A span. */
interface OtelSpan {
  setAttribute(key: string, value: string | number | string[]): unknown;
  setStatus(status: { code: number }): unknown;
  end(): void;
}
/** A tracer. */
interface OtelTracer {
  startSpan(name: string, options?: { kind?: number; attributes?: Attributes }): OtelSpan;
}
/** The API module. */
interface Api {
  trace: { getTracer(name: string): OtelTracer };
  metrics: {
    getMeter(name: string): {
      createHistogram(
        name: string,
        options?: { description?: string; unit?: string; advice?: unknown },
      ): OtelHistogram;
    };
  };
  SpanKind: { CLIENT: number };
  SpanStatusCode: { ERROR: number };
}

let api: Api | undefined;

/** `@opentelemetry/api`, loaded on first use. */
function loadApi(): Api {
  if (api) return api;
  try {
    api = createRequire(import.meta.url)('@opentelemetry/api') as Api;
  } catch (e) {
    const err = new AiwireError(
      'telemetry: true needs the optional peer dependency @opentelemetry/api (npm install @opentelemetry/api)',
    );
    err.cause = e;
    throw err;
  }
  return api;
}

/** The GenAI operation name of an operation (`POST /chat/completions` → `chat`), else the operation itself. */
export function genAIOperation(operation: string): string {
  const path = operation.slice(operation.indexOf(' ') + 1);
  if (/\/chat\/completions$|\/messages$|\/responses$/.test(path)) return 'chat';
  if (/\/embeddings$/.test(path)) return 'embeddings';
  if (/\/completions$/.test(path)) return 'text_completion';
  return operation;
}

/** The instruments of one client (a tracer and three histograms, from the global providers). */
export class OTelInstruments {
  readonly provider: string;
  readonly api: Api;
  readonly tracer: OtelTracer;
  readonly duration: OtelHistogram;
  readonly tokens: OtelHistogram;
  readonly ttfc: OtelHistogram;

  /**
   * @param provider `gen_ai.provider.name` (`openai`, `anthropic`, `replicate`).
   * @throws AiwireError when `@opentelemetry/api` is not installed.
   */
  constructor(provider: string) {
    this.provider = provider;
    this.api = loadApi();
    this.tracer = this.api.trace.getTracer('aiwire');
    const meter = this.api.metrics.getMeter('aiwire');
    this.duration = meter.createHistogram('gen_ai.client.operation.duration', {
      description: 'GenAI operation duration',
      unit: 's',
      advice: {
        explicitBucketBoundaries: [
          0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
        ],
      },
    });
    this.tokens = meter.createHistogram('gen_ai.client.token.usage', {
      description: 'Measures number of input and output tokens used',
      unit: '{token}',
      advice: {
        explicitBucketBoundaries: [
          1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
        ],
      },
    });
    this.ttfc = meter.createHistogram('gen_ai.client.operation.time_to_first_chunk', {
      description: 'Time to receive the first chunk of a streamed response',
      unit: 's',
    });
  }

  /** Start a call's span. `body` is the request body as given (its `model`, `max_tokens`). */
  start(operation: string, url: string, body: Record<string, unknown> | undefined): OTelCall {
    return new OTelCall(this, operation, url, body);
  }
}

/** One call's span and the attributes its metrics share. */
export class OTelCall {
  readonly #i: OTelInstruments;
  readonly #span: OtelSpan;
  readonly #attrs: Attributes;
  #ended = false;

  constructor(i: OTelInstruments, operation: string, url: string, body: Record<string, unknown> | undefined) {
    this.#i = i;
    const op = genAIOperation(operation);
    const model = typeof body?.model === 'string' ? body.model : undefined;
    const maxTokens = body?.max_tokens ?? body?.max_completion_tokens ?? body?.max_output_tokens;
    let host: string | undefined;
    let port: number | undefined;
    try {
      const u = new URL(url);
      host = u.hostname;
      port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    } catch {
      // an unparsable URL has failed elsewhere already
    }
    this.#attrs = {
      'gen_ai.operation.name': op,
      'gen_ai.provider.name': i.provider,
      ...(model !== undefined ? { 'gen_ai.request.model': model } : {}),
      ...(host !== undefined ? { 'server.address': host, 'server.port': port } : {}),
    };
    const attributes: Attributes = { ...this.#attrs };
    if (typeof maxTokens === 'number') attributes['gen_ai.request.max_tokens'] = maxTokens;
    this.#span = i.tracer.startSpan(model ? `${op} ${model}` : op, {
      kind: i.api.SpanKind.CLIENT,
      attributes: attributes as Attributes,
    });
  }

  /** The outcome: status, duration (ms), and the failure kind when it failed. */
  settled(status: number, ms: number, failure: string | undefined): void {
    if (status) this.#span.setAttribute('http.response.status_code', status);
    if (failure !== undefined) {
      const type = status ? String(status) : failure;
      this.#attrs['error.type'] = type;
      this.#span.setAttribute('error.type', type);
      this.#span.setStatus({ code: this.#i.api.SpanStatusCode.ERROR });
    }
    this.#i.duration.record(ms / 1000, this.#metricAttrs());
  }

  #metricAttrs(): Attributes {
    return this.#attrs as Attributes;
  }

  /** A parsed 2xx body: response id, model, finish reasons and usage. */
  response(data: unknown, usage: { input: number; output: number } | undefined): void {
    const d = data as Record<string, unknown> | null | undefined;
    if (!d || typeof d !== 'object') return;
    if (typeof d.id === 'string') this.#span.setAttribute('gen_ai.response.id', d.id);
    if (typeof d.model === 'string') {
      this.#span.setAttribute('gen_ai.response.model', d.model);
      this.#attrs['gen_ai.response.model'] = d.model;
    }
    const reasons: string[] = [];
    if (Array.isArray(d.choices)) {
      for (const c of d.choices) {
        const r = (c as { finish_reason?: unknown })?.finish_reason;
        if (typeof r === 'string') reasons.push(r);
      }
    } else if (typeof d.stop_reason === 'string') reasons.push(d.stop_reason);
    else if (typeof d.status === 'string' && d.object === 'response') reasons.push(d.status);
    if (reasons.length) this.#span.setAttribute('gen_ai.response.finish_reasons', reasons);
    if (usage) {
      this.#span.setAttribute('gen_ai.usage.input_tokens', usage.input);
      this.#span.setAttribute('gen_ai.usage.output_tokens', usage.output);
      this.#i.tokens.record(usage.input, { ...this.#metricAttrs(), 'gen_ai.token.type': 'input' });
      this.#i.tokens.record(usage.output, { ...this.#metricAttrs(), 'gen_ai.token.type': 'output' });
    }
  }

  /** A stream's first batch of events, `ms` after sending. */
  firstChunk(ms: number): void {
    this.#i.ttfc.record(ms / 1000, this.#metricAttrs());
  }

  /** End the span once; `errorType` marks a stream that failed after its head. */
  end(errorType?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    if (errorType) {
      this.#span.setAttribute('error.type', errorType);
      this.#span.setStatus({ code: this.#i.api.SpanStatusCode.ERROR });
    }
    this.#span.end();
  }
}
