/**
 * Test helpers shipped as `aiwire/testing`: a deterministic mock server of the
 * OpenAI, Anthropic and AIVillage (under `/aivillage`) APIs on one port ({@link startMockServer})
 * and a scriptable fault server ({@link startFaultServer}) for transport tests. Both use only Node's
 * built-in modules and listen on loopback by default.
 *
 * @module
 */

export type {
  ConnectionStats,
  FaultServer,
  FaultServerOptions,
  FaultStep,
  RecordedRequest,
} from './fault-server.js';
export { startFaultServer } from './fault-server.js';
export type { AIVillageMockLog, AIVillageMockRequest } from './mock-aivillage.js';
export type { MockServer, MockServerOptions } from './mock-server.js';
export { startMockServer } from './mock-server.js';
