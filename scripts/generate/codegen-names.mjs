// The hand-kept naming table of the Codegen operations generator (scripts/generate/operations.mjs with the
// provider 'codegen').
//
// Codegen publishes no JavaScript SDK: the names are aiwire's, in openai-node's style (resources in
// camelCase plural, `list` / `retrieve` / `create` / `update`, actions as verbs on their collection), as
// issue 22 lists them (`users.me()`, `agentRuns.create({ prompt })`, `agentRuns.retrieve(id)`,
// `agentRuns.resume({ agent_run_id, prompt })`, `agentRuns.ban/unban/removeFromPR`, `agentRuns.logs(id)`,
// `repos.list()`, `integrations.list()`, …). The request and response shapes always come from the spec
// (specs/codegen.openapi.json). Fields as in openai-names.mjs (resource, method, returns, item, note).
//
// Signatures (PROVIDER_CONFIG.codegen): openai-node's (the last path parameter positional, other path ids
// and the query and body fields in one params object), except `org_id`, which the client fills in from its
// `orgId` option (or CODEGEN_ORG_ID) unless the params object gives one (`clientParams`); path ids are
// `number | string` (Codegen's ids are integers).

/** Header parameters of the spec: `authorization` is the client's own (Bearer token), not a method param. */
export const HEADERS = { authorization: null };

/** Methods on a resource with no operation of their own, one line each into lib/. */
export const HELPERS = {
  agentRuns: [
    {
      signature:
        'waitForCompletion(agentRunID: number | string, options?: WaitForCompletionOptions): Promise<AgentRun>',
      call: 'return waitForCompletion(this._client, agentRunID, options);',
      doc: 'Poll the agent run (`GET …/agent/run/{agent_run_id}`, never answered from the cache) every\n`options.pollIntervalMs` (default 5,000 ms) until its status is terminal (`COMPLETE`, `FAILED`, `ERROR`,\n`CANCELLED`, … or `options.terminalStatuses`), and resolve to its last state.\n@throws AgentRunTimeoutError after `options.timeoutMs` (default 600,000 ms; carries the last state),\nAPIUserAbortError when `options.signal` aborts, the typed API errors.',
      imports: ["import { type WaitForCompletionOptions, waitForCompletion } from '../lib/wait.js';"],
    },
  ],
};

/** operationId -> resource path, method name and type names. */
export const OPERATIONS = {
  get_current_user_info_v1_users_me_get: { resource: 'users', method: 'me', returns: 'User' },
  get_users_v1_organizations__org_id__users_get: { resource: 'users', method: 'list', item: 'User' },
  get_user_v1_organizations__org_id__users__user_id__get: {
    resource: 'users',
    method: 'retrieve',
    returns: 'User',
  },
  get_organizations_v1_organizations_get: {
    resource: 'organizations',
    method: 'list',
    item: 'Organization',
  },
  create_agent_run_v1_organizations__org_id__agent_run_post: {
    resource: 'agentRuns',
    method: 'create',
    returns: 'AgentRun',
    // a retried create could start a second (billed) agent run: only 429s (answered before anything is
    // created) are retried, and no idempotency key is sent (the API documents none)
    requestDefaults: "retryOn: 'rate-limit-only', idempotencyKey: ''",
  },
  get_agent_run_v1_organizations__org_id__agent_run__agent_run_id__get: {
    resource: 'agentRuns',
    method: 'retrieve',
    returns: 'AgentRun',
  },
  list_agent_runs_v1_organizations__org_id__agent_runs_get: {
    resource: 'agentRuns',
    method: 'list',
    item: 'AgentRun',
  },
  resume_agent_run_v1_organizations__org_id__agent_run_resume_post: {
    resource: 'agentRuns',
    method: 'resume',
    returns: 'AgentRun',
    requestDefaults: "retryOn: 'rate-limit-only', idempotencyKey: ''",
  },
  ban_all_checks_for_agent_run_v1_organizations__org_id__agent_run_ban_post: {
    resource: 'agentRuns',
    method: 'ban',
  },
  unban_all_checks_for_agent_run_v1_organizations__org_id__agent_run_unban_post: {
    resource: 'agentRuns',
    method: 'unban',
  },
  remove_codegen_from_pr_v1_organizations__org_id__agent_run_remove_from_pr_post: {
    resource: 'agentRuns',
    method: 'removeFromPR',
  },
  get_agent_run_logs_v1_alpha_organizations__org_id__agent_run__agent_run_id__logs_get: {
    resource: 'agentRuns',
    method: 'logs',
    returns: 'AgentRunWithLogs',
    note: 'alpha endpoint (`/v1/alpha/…`); paged by `skip` / `limit` inside the run object (`logs`, `total_logs`)',
  },
  get_repositories_v1_organizations__org_id__repos_get: { resource: 'repos', method: 'list', item: 'Repo' },
  get_check_suite_settings_v1_organizations__org_id__repos_check_suite_settings_get: {
    resource: 'repos.checkSuiteSettings',
    method: 'retrieve',
    returns: 'CheckSuiteSettingsResponse',
  },
  update_check_suite_settings_v1_organizations__org_id__repos_check_suite_settings_put: {
    resource: 'repos.checkSuiteSettings',
    method: 'update',
  },
  edit_pull_request_simple_v1_organizations__org_id__prs__pr_id__patch: {
    resource: 'pullRequests',
    method: 'update',
    returns: 'EditPRResponse',
  },
  edit_pull_request_v1_organizations__org_id__repos__repo_id__prs__pr_id__patch: {
    resource: 'repos.pullRequests',
    method: 'update',
    returns: 'EditPRResponse',
  },
  get_organization_integrations_endpoint_v1_organizations__org_id__integrations_get: {
    resource: 'integrations',
    method: 'list',
    returns: 'OrganizationIntegrations',
    note: 'one object (`integrations` array), not a page',
  },
  generate_setup_commands_v1_organizations__org_id__setup_commands_generate_post: {
    resource: 'setupCommands',
    method: 'generate',
    returns: 'SetupCommandsResponse',
  },
  get_mcp_providers_v1_mcp_providers_get: { resource: 'mcpProviders', method: 'list' },
  get_oauth_token_status_v1_oauth_tokens_status_get: { resource: 'oauth.tokens', method: 'status' },
  revoke_oauth_token_v1_oauth_tokens_revoke_post: { resource: 'oauth.tokens', method: 'revoke' },
  analyze_sandbox_logs_v1_organizations__org_id__sandbox__sandbox_id__analyze_logs_post: {
    resource: 'sandbox',
    method: 'analyzeLogs',
    returns: 'AnalyzeLogsResponse',
  },
  get_cli_rules_v1_organizations__org_id__cli_rules_get: {
    resource: 'cli',
    method: 'rules',
    returns: 'CLIRules',
  },
  generate_slack_connect_token_endpoint_v1_slack_connect_generate_token_post: {
    resource: 'slackConnect',
    method: 'generateToken',
    returns: 'GenerateTokenResponse',
  },
};

/** The resources: path -> [class name, its type names]. */
export const RESOURCES = {
  agentRuns: ['AgentRuns', 'AgentRun AgentRunWithLogs AgentRunLogResponse GithubPullRequestResponse'],
  cli: ['CLI', 'CLIRules'],
  integrations: ['Integrations', 'OrganizationIntegrations IntegrationStatus'],
  mcpProviders: ['MCPProviders', 'OAuthProviderResponse'],
  oauth: ['OAuth', ''],
  'oauth.tokens': ['Tokens', ''],
  organizations: ['Organizations', 'Organization OrganizationSettings'],
  pullRequests: ['PullRequests', 'EditPRResponse'],
  repos: ['Repos', 'Repo'],
  'repos.checkSuiteSettings': ['CheckSuiteSettings', 'CheckSuiteSettingsResponse CheckSuiteSettingsRequest'],
  'repos.pullRequests': ['PullRequests', 'EditPRResponse'],
  sandbox: ['Sandbox', 'AnalyzeLogsResponse'],
  setupCommands: ['SetupCommands', 'SetupCommandsResponse'],
  slackConnect: ['SlackConnect', 'GenerateTokenResponse'],
  users: ['Users', 'User'],
};

/** Named types that come from the spec without an operation of their own. */
export const TYPE_ALIASES = {};
