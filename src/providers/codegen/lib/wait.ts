/**
 * `agentRuns.waitForCompletion(id, { timeoutMs, pollIntervalMs, signal })`: poll an agent run until its
 * status is terminal. One timer per wait (the pause between polls); each poll is a `GET` with its own
 * signal, so it is never answered from the client's cache or shared with another caller's call.
 */
import { AiwireError, APIUserAbortError } from '../../../core/errors.js';
import type { Codegen } from '../client.js';
import type { AgentRun } from '../resources/agent-runs.js';

/**
 * Agent run statuses that end a wait (compared case-insensitively). Codegen's spec types `status` as a
 * free string; these are the end states its runs report (`COMPLETE`, `FAILED`, `ERROR`, `CANCELLED`, …),
 * with the usual spellings of each.
 */
export const TERMINAL_STATUSES: readonly string[] = Object.freeze([
  'COMPLETE',
  'COMPLETED',
  'FAILED',
  'ERROR',
  'CANCELLED',
  'CANCELED',
  'TIMEOUT',
  'MAX_ITERATIONS_REACHED',
  'OUT_OF_TOKENS',
]);

/** Whether `status` is one of `terminal` (default {@link TERMINAL_STATUSES}), ignoring case. */
export function isTerminalStatus(
  status: string | null | undefined,
  terminal: readonly string[] = TERMINAL_STATUSES,
): boolean {
  if (!status) return false;
  const s = status.toUpperCase();
  return terminal.some((t) => t.toUpperCase() === s);
}

/** Options of `agentRuns.waitForCompletion()`. */
export interface WaitForCompletionOptions {
  /** Give up after this long, ms (from the call). Default 600,000 (10 minutes). */
  timeoutMs?: number | undefined;
  /** Pause between polls, ms. Default 5,000 (Codegen allows 60 reads per 30 s). */
  pollIntervalMs?: number | undefined;
  /** Abort the wait (the poll in flight is cancelled); the wait rejects with `APIUserAbortError`. */
  signal?: AbortSignal | undefined;
  /** Statuses that end the wait, case-insensitive. Default {@link TERMINAL_STATUSES}. */
  terminalStatuses?: readonly string[] | undefined;
  /** The organization; default the client's `orgId` (`CODEGEN_ORG_ID`). */
  org_id?: number | string | undefined;
  /** Called with each state read (the last one included). */
  onPoll?: ((run: AgentRun) => void) | undefined;
}

/** `waitForCompletion` ran out of time; `lastRun` is the last state read (undefined if none came back). */
export class AgentRunTimeoutError extends AiwireError {
  /** The agent run waited for. */
  readonly agentRunId: number | string;
  /** The timeout that expired, ms. */
  readonly timeoutMs: number;
  /** The last state read before the timeout. */
  readonly lastRun: AgentRun | undefined;

  constructor(agentRunId: number | string, timeoutMs: number, lastRun: AgentRun | undefined) {
    super(
      `Agent run ${agentRunId} did not reach a terminal status within ${timeoutMs} ms (last status: ${lastRun?.status ?? 'none read'}); raise timeoutMs or keep polling with agentRuns.retrieve().`,
    );
    this.name = 'AgentRunTimeoutError';
    this.agentRunId = agentRunId;
    this.timeoutMs = timeoutMs;
    this.lastRun = lastRun;
  }
}

function positiveMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new AiwireError(`${name} must be a number of ms > 0, got ${String(value)}`);
  }
  return value;
}

/** Resolves after `ms`, or rejects at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new APIUserAbortError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new APIUserAbortError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Poll agent run `agentRunId` until its status is terminal and resolve to that state.
 * @throws AgentRunTimeoutError after `timeoutMs`; APIUserAbortError when `signal` aborts; AiwireError
 *   for a bad option or a missing org id; the typed API errors of `GET …/agent/run/{id}` (NotFoundError, …).
 */
export async function waitForCompletion(
  client: unknown,
  agentRunId: number | string,
  options: WaitForCompletionOptions = {},
): Promise<AgentRun> {
  const timeoutMs = positiveMs('timeoutMs', options.timeoutMs, 600_000);
  const interval = positiveMs('pollIntervalMs', options.pollIntervalMs, 5_000);
  const terminal = options.terminalStatuses ?? TERMINAL_STATUSES;
  const codegen = client as Codegen;
  const deadline = performance.now() + timeoutMs;
  // one controller for the whole wait: aborted by the caller's signal or by the timeout
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) controller.abort();
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  let last: AgentRun | undefined;
  try {
    for (;;) {
      last = await codegen.agentRuns.retrieve(
        agentRunId,
        { org_id: options.org_id },
        { signal: controller.signal },
      );
      options.onPoll?.(last);
      if (isTerminalStatus(last.status, terminal)) return last;
      await pause(Math.max(0, Math.min(interval, deadline - performance.now())), controller.signal);
    }
  } catch (e) {
    if (timedOut && !options.signal?.aborted) throw new AgentRunTimeoutError(agentRunId, timeoutMs, last);
    throw e;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
