/**
 * The Codegen client: `new Codegen()` reading the seed's `CODEGEN_*` variables, with the resource tree
 * of every operation of the Codegen API (`agentRuns`, `users`, `organizations`, `repos`, …), plus the
 * seed's helpers: `healthCheck()`, `createHealthMonitor()`, `bulk`, `getStats()` / `resetStats()`.
 */
import { BaseClient, type BaseClientOptions } from '../../core/client.js';
import * as Errors from '../../core/errors.js';
import type { CacheStats } from '../../core/reuse.js';
import { Bulk } from './lib/bulk.js';
import { codegenEnvOptions } from './lib/config.js';
import {
  type HealthCheckOptions,
  HealthMonitor,
  type HealthMonitorOptions,
  type HealthStatus,
  healthCheck,
} from './lib/health.js';
import { type CodegenStats, statsFrom } from './lib/stats.js';
import { AgentRunTimeoutError } from './lib/wait.js';
import { WebhookHandler } from './lib/webhooks.js';
import {
  AgentRuns,
  CLI,
  Integrations,
  MCPProviders,
  OAuth,
  Organizations,
  PullRequests,
  Repos,
  Sandbox,
  SetupCommands,
  SlackConnect,
  Users,
} from './resources/index.js';
import { codegenSpec } from './spec.js';

/** Options of `new Codegen()`; every one optional (environment variables fill the gaps: see lib/config.ts). */
export interface ClientOptions extends BaseClientOptions {
  /** API token; default `process.env.CODEGEN_API_TOKEN`. Sent as `Authorization: Bearer …`, never logged. */
  apiToken?: string | undefined;
  /**
   * The organization of calls under `/v1/organizations/{org_id}/…` (and `org_id` queries), unless a call
   * passes `{ org_id }`; default `process.env.CODEGEN_ORG_ID`. None: such calls throw `AiwireError`.
   */
  orgId?: number | string | undefined;
  /** Alias of `baseURL`. Default `process.env.CODEGEN_BASE_URL`, else `https://api.codegen.com`. */
  baseUrl?: string | undefined;
  /** `User-Agent` header. Default `aiwire-codegen`. */
  userAgent?: string | undefined;
}

/**
 * Codegen API client (https://docs.codegen.com/api-reference; paths include `/v1`), with every aiwire
 * client option (`timeout` ms, `maxRetries`, `rateLimit`, `cache`, `preset`, `logLevel`, …). Metrics
 * are on by default (they feed `getStats()`; `metrics: false` turns them off).
 *
 * @throws AiwireError when no token is given or found in `CODEGEN_API_TOKEN`, or an option or
 *   `CODEGEN_*` variable is invalid.
 */
export class Codegen extends BaseClient {
  /** The API token in use (not enumerable, so logging the client does not print it). */
  declare readonly apiToken: string;
  /** The default organization id (`orgId` option or `CODEGEN_ORG_ID`), if any. */
  readonly orgId: number | string | undefined;
  /** The options this client was built with (for `withOptions`). */
  readonly #options: ClientOptions;
  /** Cache counters at the last `resetStats()`. */
  #cacheBase: CacheStats = { hits: 0, misses: 0, size: 0 };

  #agentRuns?: AgentRuns;
  /** `codegen.agentRuns`: create, retrieve, list, resume, ban, unban, removeFromPR, logs, waitForCompletion. */
  get agentRuns(): AgentRuns {
    this.#agentRuns ??= new AgentRuns(this);
    return this.#agentRuns;
  }
  #cli?: CLI;
  /** `codegen.cli.rules()`. */
  get cli(): CLI {
    this.#cli ??= new CLI(this);
    return this.#cli;
  }
  #integrations?: Integrations;
  /** `codegen.integrations.list()`. */
  get integrations(): Integrations {
    this.#integrations ??= new Integrations(this);
    return this.#integrations;
  }
  #mcpProviders?: MCPProviders;
  /** `codegen.mcpProviders.list()`. */
  get mcpProviders(): MCPProviders {
    this.#mcpProviders ??= new MCPProviders(this);
    return this.#mcpProviders;
  }
  #oauth?: OAuth;
  /** `codegen.oauth.tokens.status()`, `.revoke({ provider })`. */
  get oauth(): OAuth {
    this.#oauth ??= new OAuth(this);
    return this.#oauth;
  }
  #organizations?: Organizations;
  /** `codegen.organizations.list()`. */
  get organizations(): Organizations {
    this.#organizations ??= new Organizations(this);
    return this.#organizations;
  }
  #pullRequests?: PullRequests;
  /** `codegen.pullRequests.update(prID, { state })`. */
  get pullRequests(): PullRequests {
    this.#pullRequests ??= new PullRequests(this);
    return this.#pullRequests;
  }
  #repos?: Repos;
  /** `codegen.repos.list()`, `.checkSuiteSettings.retrieve/update`, `.pullRequests.update`. */
  get repos(): Repos {
    this.#repos ??= new Repos(this);
    return this.#repos;
  }
  #sandbox?: Sandbox;
  /** `codegen.sandbox.analyzeLogs(sandboxID)`. */
  get sandbox(): Sandbox {
    this.#sandbox ??= new Sandbox(this);
    return this.#sandbox;
  }
  #setupCommands?: SetupCommands;
  /** `codegen.setupCommands.generate({ repo_id })`. */
  get setupCommands(): SetupCommands {
    this.#setupCommands ??= new SetupCommands(this);
    return this.#setupCommands;
  }
  #slackConnect?: SlackConnect;
  /** `codegen.slackConnect.generateToken()`. */
  get slackConnect(): SlackConnect {
    this.#slackConnect ??= new SlackConnect(this);
    return this.#slackConnect;
  }
  #users?: Users;
  /** `codegen.users.me()`, `.list()`, `.retrieve(userID)`. */
  get users(): Users {
    this.#users ??= new Users(this);
    return this.#users;
  }
  #bulk?: Bulk;
  /** `codegen.bulk.createAgentRuns(configs, { concurrency, onProgress, signal })`, `.run(items, fn)`. */
  get bulk(): Bulk {
    this.#bulk ??= new Bulk(this);
    return this.#bulk;
  }

  /**
   * @param options client options; the environment fills the gaps (`CODEGEN_API_TOKEN`,
   *   `CODEGEN_ORG_ID`, `CODEGEN_BASE_URL`, `CODEGEN_TIMEOUT`, …: see lib/config.ts).
   */
  constructor(options: ClientOptions = {}) {
    const { baseUrl, userAgent = 'aiwire-codegen', ...given } = options;
    const { apiToken, orgId, baseURL, ...rest } = codegenEnvOptions({
      ...given,
      baseURL: given.baseURL ?? baseUrl,
    });
    if (!apiToken && !rest.endpoints) {
      throw new Errors.AiwireError(
        "The CODEGEN_API_TOKEN environment variable is missing or empty; either provide it, or instantiate the Codegen client with an apiToken option, like new Codegen({ apiToken: 'sk-…', orgId: 323 }).",
      );
    }
    if (orgId !== undefined && !/^\d+$/.test(String(orgId))) {
      throw new Errors.AiwireError(`orgId must be a whole number, got ${JSON.stringify(orgId)}`);
    }
    // With `endpoints`, each endpoint's token goes through headersFor (see core/endpoints.ts).
    const headersFor = (token: string | undefined) => ({
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      'user-agent': userAgent,
    });
    super(
      { ...rest, baseURL: baseURL || 'https://api.codegen.com' },
      codegenSpec,
      headersFor(apiToken || undefined),
      { hasCredential: !!apiToken, headersFor },
    );
    const token = apiToken || rest.endpoints?.[0]?.apiKey || '';
    Object.defineProperty(this, 'apiToken', { value: token, enumerable: false });
    this.orgId = orgId;
    this.#options = options;
  }

  /**
   * Check the API once (`GET /v1/users/me`, no retries, `options.timeoutMs` default 10,000 ms, never
   * from the cache). Never rejects: failures are `{ healthy: false, status: 'unhealthy', error }`.
   */
  healthCheck(options?: HealthCheckOptions): Promise<HealthStatus> {
    return healthCheck(this, options);
  }

  /**
   * Check the API every `options.intervalMs` (default 30,000) and call `onHealthy` / `onUnhealthy` when
   * the state changes (the first check counts); `monitor.stop()` ends it. Started at once unless
   * `autoStart: false`; its timer does not keep the process alive.
   * @throws AiwireError for a bad `intervalMs`.
   */
  createHealthMonitor(options?: HealthMonitorOptions): HealthMonitor {
    return new HealthMonitor(this, options);
  }

  /**
   * Request numbers since the client was built or `resetStats()` ran: total, successes, failures,
   * success and error rates, mean latency (ms), retries, cache hit rate, per operation.
   * @throws AiwireError when the client was built with `metrics: false`.
   */
  getStats(): CodegenStats {
    return statsFrom(this.metrics(), this.cacheStats(), this.#cacheBase);
  }

  /** Start the numbers of `getStats()` again from zero (the cache's entries stay). */
  resetStats(): void {
    this.resetMetrics();
    this.#cacheBase = { ...this.cacheStats() };
  }

  /** A new client with these options over this one's (its own engine). */
  withOptions(options: Partial<ClientOptions>): this {
    const Ctor = this.constructor as new (options: ClientOptions) => this;
    return new Ctor({
      ...this.#options,
      apiToken: this.apiToken,
      orgId: this.orgId,
      baseURL: this.baseURL,
      ...options,
    });
  }

  static Codegen = this;
  static AiwireError = Errors.AiwireError;
  static APIError = Errors.APIError;
  static UnprocessableEntityError = Errors.UnprocessableEntityError;
  static AgentRunTimeoutError = AgentRunTimeoutError;
  static WebhookHandler = WebhookHandler;
}
