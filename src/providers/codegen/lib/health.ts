/**
 * `healthCheck()` and `createHealthMonitor()`: is the Codegen API reachable with this client's token?
 * The probe is `GET /v1/users/me` (cheap, authenticated, no organization needed), sent with no retries,
 * its own timeout and its own signal (never answered from the cache).
 */
import { AiwireError, APIError } from '../../../core/errors.js';
import type { Codegen } from '../client.js';

/** The outcome of one health check. */
export interface HealthStatus {
  /** True when the probe answered 2xx. */
  healthy: boolean;
  /** `healthy` or `unhealthy` (the seed's `health['status']`). */
  status: 'healthy' | 'unhealthy';
  /** Time the probe took, ms. */
  latencyMs: number;
  /** When the check ended, ISO 8601. */
  checkedAt: string;
  /** HTTP status of the probe's answer, when there was one. */
  statusCode?: number | undefined;
  /** Why the check failed (the error's message), when it did. */
  error?: string | undefined;
}

/** Options of `healthCheck()`. */
export interface HealthCheckOptions {
  /** Timeout of the probe, ms. Default 10,000. */
  timeoutMs?: number | undefined;
  /** Cancels the probe (the check then reports unhealthy, `error` saying it was aborted). */
  signal?: AbortSignal | undefined;
}

/**
 * Check the API once. Never rejects: a failure (status, connection, timeout) is an unhealthy status.
 * @throws AiwireError only for a bad `timeoutMs` (synchronously, as a rejected promise).
 */
export async function healthCheck(client: unknown, options: HealthCheckOptions = {}): Promise<HealthStatus> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new AiwireError(`timeoutMs must be a number of ms > 0, got ${String(options.timeoutMs)}`);
  }
  const started = performance.now();
  const done = (healthy: boolean, statusCode?: number, error?: string): HealthStatus => ({
    healthy,
    status: healthy ? 'healthy' : 'unhealthy',
    latencyMs: performance.now() - started,
    checkedAt: new Date().toISOString(),
    ...(statusCode !== undefined ? { statusCode } : {}),
    ...(error !== undefined ? { error } : {}),
  });
  try {
    const { response } = await (client as Codegen).users
      .me({ maxRetries: 0, timeout: timeoutMs, signal: options.signal ?? new AbortController().signal })
      .withResponse();
    return done(true, response.status);
  } catch (e) {
    const status = e instanceof APIError ? e.status : undefined;
    return done(false, status, e instanceof Error ? e.message : String(e));
  }
}

/** Options of `createHealthMonitor()`. */
export interface HealthMonitorOptions extends HealthCheckOptions {
  /** Time between the end of one check and the start of the next, ms. Default 30,000. */
  intervalMs?: number | undefined;
  /** Called when the API becomes healthy (the first check counts as a change). */
  onHealthy?: ((status: HealthStatus) => void) | undefined;
  /** Called when the API becomes unhealthy (the first check counts as a change). */
  onUnhealthy?: ((status: HealthStatus) => void) | undefined;
  /** Called after every check. */
  onCheck?: ((status: HealthStatus) => void) | undefined;
  /** Start checking at once. Default true (`start()` starts a stopped monitor). */
  autoStart?: boolean | undefined;
}

type Listener = (status: HealthStatus) => void;

/**
 * Checks the API every `intervalMs` (one check at a time: the next is scheduled when one ends) and calls
 * the `onHealthy` / `onUnhealthy` listeners when the state changes. Its timer does not keep the
 * process alive. A listener that throws is reported with `process.emitWarning` and does not stop the
 * monitor.
 */
export class HealthMonitor {
  readonly #client: unknown;
  readonly #intervalMs: number;
  readonly #timeoutMs: number | undefined;
  readonly #healthy: Listener[] = [];
  readonly #unhealthy: Listener[] = [];
  readonly #check: Listener[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight: AbortController | undefined;
  #running = false;
  #last: HealthStatus | undefined;

  /** @throws AiwireError for an `intervalMs` that is not a number of ms > 0. */
  constructor(client: unknown, options: HealthMonitorOptions = {}) {
    const interval = options.intervalMs ?? 30_000;
    if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0) {
      throw new AiwireError(`intervalMs must be a number of ms > 0, got ${String(options.intervalMs)}`);
    }
    this.#client = client;
    this.#intervalMs = interval;
    this.#timeoutMs = options.timeoutMs;
    if (options.onHealthy) this.#healthy.push(options.onHealthy);
    if (options.onUnhealthy) this.#unhealthy.push(options.onUnhealthy);
    if (options.onCheck) this.#check.push(options.onCheck);
    if (options.autoStart !== false) this.start();
  }

  /** The last check's outcome, undefined before the first one ends. */
  get lastStatus(): HealthStatus | undefined {
    return this.#last;
  }

  /** Whether the monitor is checking (started and not stopped). */
  get running(): boolean {
    return this.#running;
  }

  /** Add a listener for "became healthy". Returns the monitor. */
  onHealthy(fn: Listener): this {
    this.#healthy.push(fn);
    return this;
  }

  /** Add a listener for "became unhealthy". Returns the monitor. */
  onUnhealthy(fn: Listener): this {
    this.#unhealthy.push(fn);
    return this;
  }

  /** Start checking (the first check at once); no-op when running. */
  start(): this {
    if (this.#running) return this;
    this.#running = true;
    void this.#tick();
    return this;
  }

  /** Stop checking: the pending timer is cleared and a check in flight is cancelled (no listener runs for it). */
  stop(): void {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#inFlight?.abort();
    this.#inFlight = undefined;
  }

  async #tick(): Promise<void> {
    const controller = new AbortController();
    this.#inFlight = controller;
    const status = await healthCheck(this.#client, { timeoutMs: this.#timeoutMs, signal: controller.signal });
    if (!this.#running || controller.signal.aborted) return;
    this.#inFlight = undefined;
    const changed = this.#last === undefined || this.#last.healthy !== status.healthy;
    this.#last = status;
    if (changed) this.#emit(status.healthy ? this.#healthy : this.#unhealthy, status);
    this.#emit(this.#check, status);
    if (!this.#running) return;
    this.#timer = setTimeout(() => void this.#tick(), this.#intervalMs);
    this.#timer.unref?.();
  }

  #emit(listeners: Listener[], status: HealthStatus): void {
    for (const fn of [...listeners]) {
      try {
        fn(status);
      } catch (e) {
        process.emitWarning(`aiwire: a Codegen health monitor listener threw: ${String(e)}`, {
          code: 'AIWIRE_HEALTH_LISTENER',
        });
      }
    }
  }
}
