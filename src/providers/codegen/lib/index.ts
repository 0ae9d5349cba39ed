/** The Codegen provider's hand-written helpers (lib/), re-exported for the entry point. */
export { Bulk, type BulkOptions, type BulkProgress, type BulkResult, runBulk } from './bulk.js';
export { CODEGEN_PRESETS, type CodegenPresetExtras, codegenEnvOptions } from './config.js';
export {
  type HealthCheckOptions,
  HealthMonitor,
  type HealthMonitorOptions,
  type HealthStatus,
  healthCheck,
} from './health.js';
export { orgId } from './org.js';
export { type CodegenStats, statsFrom } from './stats.js';
export {
  AgentRunTimeoutError,
  isTerminalStatus,
  TERMINAL_STATUSES,
  type WaitForCompletionOptions,
  waitForCompletion,
} from './wait.js';
export {
  type AgentRunEventData,
  type CodegenWebhookEvent,
  type CodegenWebhookEventMap,
  type EventOf,
  type WebhookHandleResult,
  WebhookHandler,
  type WebhookHandlerOptions,
  type WebhookListener,
} from './webhooks.js';
