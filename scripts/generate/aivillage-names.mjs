// The hand-kept naming table of the AIVillage operations generator (scripts/generate/operations.mjs with
// the provider 'aivillage').
//
// AIVillage has no JavaScript SDK: the names are the ones of the aiwire issue (`client.chat()`,
// `client.agents.assignTask()`, `client.digitalTwin.profile.update()`), in openai-node's style, with the
// seed's Rust SDK (`chat_api::chat`, `rag_api::process_query`, `agents_api::assign_agent_task`, …) read for
// which call is which. The request and response shapes always come from the spec
// (specs/aivillage.openapi.yaml). Fields as in openai-names.mjs (resource, method, returns, params, note).
// `resource: ''` puts the method on the client itself (`client.health()`): the generator writes those into
// the resource class of RESOURCES[''] (resources/top-level.ts), and the client class calls it.
// Signatures are openai-node's: the last path parameter positional (`assignTask(agentID, body)`), the
// query parameters or the body fields in one params object, then RequestOptions.

/**
 * Header parameters of the spec -> the params property that sets them; `null`: the client sets the header
 * itself. `Idempotency-Key` is the engine's: a fresh key per POST, reused by that call's retries
 * (`RequestOptions.idempotencyKey` gives one's own).
 */
export const HEADERS = {
  'Idempotency-Key': null,
};

/** operationId -> the aiwire resource path and method name, and type names. */
export const OPERATIONS = {
  getHealth: {
    resource: '',
    method: 'health',
    returns: 'HealthResponse',
    note: 'no authentication needed (`security: []`); the key is sent anyway',
  },
  chat: { resource: '', method: 'chat', returns: 'ChatResponse', params: 'ChatParams' },
  processQuery: {
    resource: '',
    method: 'query',
    returns: 'QueryResponse',
    params: 'QueryParams',
    note: 'the seed: `rag_api::process_query`',
  },
  listAgents: {
    resource: 'agents',
    method: 'list',
    returns: 'ListAgentsResponse',
    params: 'AgentListParams',
  },
  assignAgentTask: {
    resource: 'agents',
    method: 'assignTask',
    returns: 'AgentTaskResponse',
    params: 'AgentTaskParams',
  },
  getP2PStatus: { resource: 'p2p', method: 'status', returns: 'P2PStatusResponse' },
  listPeers: {
    resource: 'p2p',
    method: 'peers',
    returns: 'ListPeersResponse',
    params: 'PeerListParams',
  },
  getDigitalTwinProfile: {
    resource: 'digitalTwin.profile',
    method: 'retrieve',
    returns: 'DigitalTwinProfile',
  },
  updateDigitalTwinData: {
    resource: 'digitalTwin.profile',
    method: 'update',
    returns: 'DigitalTwinUpdateResponse',
    params: 'ProfileUpdateParams',
  },
};

/** Resources: path -> [class name, its type names]. `''`: the client's own methods. */
export const RESOURCES = {
  '': ['TopLevel', 'HealthResponse ChatResponse ChatParams QueryResponse QueryParams'],
  agents: ['Agents', 'Agent ListAgentsResponse AgentListParams AgentTaskResponse AgentTaskParams'],
  p2p: ['P2P', 'P2PStatusResponse ListPeersResponse PeerListParams Peer'],
  digitalTwin: ['DigitalTwin', ''],
  'digitalTwin.profile': ['Profile', 'DigitalTwinProfile DigitalTwinUpdateResponse ProfileUpdateParams'],
};

/** Named types that come from the spec without an operation of their own (none beyond RESOURCES). */
export const TYPE_ALIASES = {};
