/**
 * The Codegen part of the bundled mock server, mounted under `/codegen` (base URL
 * `http://HOST:PORT/codegen`, then the API's `/v1/...` paths), so it never collides with the OpenAI
 * routes. Deterministic and in memory, one state per server:
 *
 * - `POST /v1/organizations/{org}/agent/run`: a run (`status: 'ACTIVE'`, `source_type: 'API'`) that
 *   advances one step per `GET …/agent/run/{id}`: after `metadata.mock_steps` polls (default 2; 0 ends
 *   on the first poll) it is `COMPLETE` (`result: "Done: <prompt>"`), or `FAILED` when the prompt
 *   contains `mock-fail`. A prompt containing `mock-error-<status>` (400-599) is refused with that
 *   status and Codegen's body (`{ message, status_code }`). `metadata.mock_user_id` sets the run's user
 *   (for the `user_id` filter). A missing or empty `prompt` gets FastAPI's
 *   422 `{ detail: [{ loc, msg, type }] }`. `metadata.webhook_url`: when the run ends, a Standard
 *   Webhooks delivery (`agent_run.completed` / `agent_run.failed`, signed with `webhookSecret`) is POSTed
 *   there.
 * - `GET …/agent/runs` (`skip`, `limit` ≤ 100, filters `user_id`, `source_type`; newest first),
 *   `POST …/agent/run/resume` (back to ACTIVE), `ban` / `unban` / `remove-from-pr`, `GET /v1/alpha/…/logs`.
 * - `GET /v1/users/me`, `…/users` (paged), `…/users/{id}`, `/v1/organizations` (paged), `…/repos`
 *   (paged), `…/integrations`.
 * - Control (not Codegen's): `POST /codegen/_mock/outage` `{ "status": 503 }` makes every Codegen route
 *   answer that status until `{ "status": null }`.
 *
 * Every route needs `Authorization: Bearer <any token>` (else 403 as Codegen's body). Ids are integers;
 * the organization `323` exists (any other org id answers 403, as Codegen does for a foreign org).
 *
 * @module
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { ApiError, type JsonObject, send } from './mock-common.js';

/** The mock's organization id. */
export const MOCK_CODEGEN_ORG_ID = 323;
/** The secret the mock signs webhook deliveries with (Standard Webhooks, `whsec_<base64>`). */
export const MOCK_CODEGEN_WEBHOOK_SECRET = `whsec_${Buffer.from('aiwire-mock-codegen-secret').toString('base64')}`;

interface Run {
  id: number;
  organization_id: number;
  status: string;
  created_at: string;
  web_url: string;
  result: string | null;
  summary: string | null;
  source_type: string;
  github_pull_requests: unknown[];
  metadata: JsonObject | null;
  // mock state
  prompt: string;
  user_id: number;
  polls: number;
  steps: number;
}

const USERS = [1, 2, 3].map((id) => ({
  id,
  email: `user${id}@example.com`,
  github_user_id: String(1000 + id),
  github_username: `mock-user-${id}`,
  avatar_url: null,
  full_name: `Mock User ${id}`,
  role: id === 1 ? 'ADMIN' : 'MEMBER',
  is_admin: id === 1,
}));
const ORGS = [
  {
    id: MOCK_CODEGEN_ORG_ID,
    name: 'Mock Org',
    settings: { enable_pr_creation: true, enable_rules_detection: true },
  },
];
const REPOS = [1, 2, 3].map((id) => ({
  id,
  name: `repo-${id}`,
  full_name: `mock-org/repo-${id}`,
  description: null,
  github_id: String(5000 + id),
  organization_id: MOCK_CODEGEN_ORG_ID,
  visibility: 'private',
  archived: false,
  setup_status: 'COMPLETE',
  language: 'TypeScript',
}));

/** A refusal with Codegen's (FastAPI's) body. */
class CodegenError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`codegen mock ${status}`);
  }
}
const fail = (status: number, message: string) => new CodegenError(status, { message, status_code: status });
const invalid = (loc: (string | number)[], msg: string, type = 'missing') =>
  new CodegenError(422, { detail: [{ loc, msg, type }] });

/** What the Codegen mock needs of one request. */
export interface CodegenRequest {
  method: string;
  /** The path after `/codegen`, e.g. `/v1/users/me`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  json: () => JsonObject;
}

/** `skip` / `limit` of a query (FastAPI's bounds), or a 422. */
function paging(query: URLSearchParams): { skip: number; limit: number } {
  const skip = Number(query.get('skip') ?? 0);
  const limit = Number(query.get('limit') ?? 100);
  if (!Number.isInteger(skip) || skip < 0)
    throw invalid(['query', 'skip'], 'Input should be >= 0', 'greater_than_equal');
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw invalid(['query', 'limit'], 'Input should be between 1 and 100', 'less_than_equal');
  return { skip, limit };
}

/** A FastAPI `Page[...]` of `all`. */
function page<T>(all: readonly T[], query: URLSearchParams) {
  const { skip, limit } = paging(query);
  return {
    items: all.slice(skip, skip + limit),
    total: all.length,
    page: Math.floor(skip / limit) + 1,
    size: limit,
    pages: Math.ceil(all.length / limit),
  };
}

/** The public shape of a run (no mock state). */
function view(r: Run) {
  const { prompt: _p, user_id: _u, polls: _n, steps: _s, ...rest } = r;
  return rest;
}

/** The Codegen mock's state and handler; `handle` answers one request (path after `/codegen`). */
export function createCodegenMock(webhookSecret = MOCK_CODEGEN_WEBHOOK_SECRET) {
  const runs = new Map<number, Run>();
  let nextId = 1;
  let outage: number | null = null;
  const key = webhookSecret.startsWith('whsec_')
    ? Buffer.from(webhookSecret.slice(6), 'base64')
    : Buffer.from(webhookSecret);

  /** POST a signed Standard Webhooks delivery of `run`'s end to its `metadata.webhook_url`. */
  const deliver = (run: Run) => {
    const url = run.metadata?.webhook_url;
    if (typeof url !== 'string') return;
    const id = `msg_${randomUUID()}`;
    const ts = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({
      type: run.status === 'COMPLETE' ? 'agent_run.completed' : 'agent_run.failed',
      timestamp: new Date().toISOString(),
      data: { ...view(run), ...(run.status === 'FAILED' ? { error: 'mock-fail requested' } : {}) },
    });
    const signature = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
    void fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': `v1,${signature}`,
      },
      body,
    }).catch(() => {});
  };

  const runOf = (org: number, id: unknown): Run => {
    const run = typeof id === 'number' || typeof id === 'string' ? runs.get(Number(id)) : undefined;
    if (!run || run.organization_id !== org) throw fail(404, 'Agent run not found.');
    return run;
  };

  const agentRunId = (body: JsonObject): number => {
    const id = body.agent_run_id;
    if (id === undefined) throw invalid(['body', 'agent_run_id'], 'Field required');
    if (typeof id !== 'number' || !Number.isInteger(id))
      throw invalid(['body', 'agent_run_id'], 'Input should be a valid integer', 'int_type');
    return id;
  };

  const create = (org: number, body: JsonObject): Run => {
    const prompt = body.prompt;
    if (prompt === undefined) throw invalid(['body', 'prompt'], 'Field required');
    if (typeof prompt !== 'string')
      throw invalid(['body', 'prompt'], 'Input should be a valid string', 'string_type');
    if (prompt.trim() === '')
      throw invalid(['body', 'prompt'], 'String should have at least 1 character', 'string_too_short');
    const m = /mock-error-(\d{3})/.exec(prompt);
    if (m && Number(m[1]) >= 400 && Number(m[1]) <= 599)
      throw fail(Number(m[1]), `Mock error ${m[1]} requested.`);
    const metadata =
      body.metadata && typeof body.metadata === 'object' ? (body.metadata as JsonObject) : null;
    const steps = typeof metadata?.mock_steps === 'number' ? Math.max(0, Math.floor(metadata.mock_steps)) : 2;
    const id = nextId++;
    const run: Run = {
      id,
      organization_id: org,
      status: 'ACTIVE',
      created_at: new Date(Date.UTC(2025, 0, 1, 0, 0, id)).toISOString(),
      web_url: `https://codegen.com/agent/trace/${id}`,
      result: null,
      summary: null,
      source_type: 'API',
      github_pull_requests: [],
      metadata,
      prompt,
      user_id: typeof metadata?.mock_user_id === 'number' ? metadata.mock_user_id : 1,
      polls: 0,
      steps,
    };
    runs.set(id, run);
    return run;
  };

  /** One poll: advance the run one step; at its last step it ends (and its webhook goes out). */
  const poll = (run: Run): void => {
    if (run.status !== 'ACTIVE') return;
    run.polls++;
    if (run.polls < run.steps) return;
    const failed = run.prompt.includes('mock-fail');
    run.status = failed ? 'FAILED' : 'COMPLETE';
    run.result = failed ? null : `Done: ${run.prompt}`;
    run.summary = failed
      ? 'The mock run failed (mock-fail requested).'
      : `Completed: ${run.prompt.slice(0, 60)}`;
    deliver(run);
  };

  const route = (req: CodegenRequest): { status: number; body: unknown } => {
    const { method, path, query } = req;
    if (method === 'POST' && path === '/_mock/outage') {
      const s = req.json().status;
      outage = typeof s === 'number' && s >= 400 && s <= 599 ? s : null;
      return { status: 200, body: { outage } };
    }
    if (!/^Bearer \S+/.test(String(req.headers.authorization ?? ''))) {
      throw fail(403, 'Invalid or missing API token: send Authorization: Bearer <token>.');
    }
    if (outage !== null) throw fail(outage, `Mock outage (${outage}).`);
    if (method === 'GET' && path === '/v1/users/me') return { status: 200, body: USERS[0] };
    if (method === 'GET' && path === '/v1/organizations') return { status: 200, body: page(ORGS, query) };
    const alpha = /^\/v1\/alpha\/organizations\/(\d+)\/agent\/run\/(\d+)\/logs$/.exec(path);
    const m = alpha ?? /^\/v1\/organizations\/([^/]+)(\/.*)$/.exec(path);
    if (!m) throw new CodegenError(404, { detail: 'Not Found' });
    const org = Number(m[1]);
    if (!Number.isInteger(org))
      throw invalid(['path', 'org_id'], 'Input should be a valid integer', 'int_parsing');
    if (org !== MOCK_CODEGEN_ORG_ID) throw fail(403, 'You do not have access to this organization.');
    if (alpha) {
      const run = runOf(org, m[2]);
      const logs = Array.from({ length: run.polls + 1 }, (_, i) => ({
        agent_run_id: run.id,
        created_at: run.created_at,
        tool_name: i === 0 ? null : 'mock_step',
        message_type: i === 0 ? 'USER_MESSAGE' : 'ACTION',
        thought: i === 0 ? run.prompt : `Step ${i}`,
        observation: null,
        tool_input: null,
        tool_output: null,
      }));
      return { status: 200, body: { ...view(run), ...pageOfLogs(logs, query) } };
    }
    const rest = m[2] as string;
    if (method === 'POST' && rest === '/agent/run')
      return { status: 200, body: view(create(org, req.json())) };
    const one = /^\/agent\/run\/(\d+)$/.exec(rest);
    if (method === 'GET' && one) {
      const run = runOf(org, one[1]);
      poll(run);
      return { status: 200, body: view(run) };
    }
    if (method === 'GET' && rest === '/agent/runs') {
      let all = [...runs.values()].filter((r) => r.organization_id === org).reverse();
      const user = query.get('user_id');
      const source = query.get('source_type');
      if (user !== null) all = all.filter((r) => String(r.user_id) === user);
      if (source !== null) all = all.filter((r) => r.source_type === source);
      return { status: 200, body: page(all.map(view), query) };
    }
    if (method === 'POST' && rest === '/agent/run/resume') {
      const body = req.json();
      const run = runOf(org, agentRunId(body));
      if (typeof body.prompt !== 'string') throw invalid(['body', 'prompt'], 'Field required');
      Object.assign(run, { status: 'ACTIVE', polls: 0, prompt: body.prompt, result: null });
      return { status: 200, body: view(run) };
    }
    if (method === 'POST' && /^\/agent\/run\/(ban|unban|remove-from-pr)$/.test(rest)) {
      runOf(org, agentRunId(req.json()));
      return { status: 200, body: {} };
    }
    if (method === 'GET' && rest === '/users') return { status: 200, body: page(USERS, query) };
    const user = /^\/users\/(\d+)$/.exec(rest);
    if (method === 'GET' && user) {
      const u = USERS.find((x) => x.id === Number(user[1]));
      if (!u) throw fail(404, 'User not found.');
      return { status: 200, body: u };
    }
    if (method === 'GET' && rest === '/repos') return { status: 200, body: page(REPOS, query) };
    if (method === 'GET' && rest === '/integrations') {
      return {
        status: 200,
        body: {
          organization_id: org,
          organization_name: 'Mock Org',
          integrations: [
            { integration_type: 'github', active: true, token_id: null, installation_id: 1, metadata: null },
          ],
          total_active_integrations: 1,
        },
      };
    }
    throw new CodegenError(404, { detail: 'Not Found' });
  };

  /** Answer one request (every path under `/codegen` is the mock's: unknown ones get FastAPI's 404). */
  const handle = (req: CodegenRequest, res: ServerResponse): void => {
    try {
      const { status, body } = route(req);
      send(res, status, body);
    } catch (e) {
      if (e instanceof CodegenError) send(res, e.status, e.body);
      else if (e instanceof ApiError)
        // the body was not a JSON object (mock-common's parser): FastAPI's answer
        send(res, 422, { detail: [{ loc: ['body'], msg: e.message, type: 'json_invalid' }] });
      else throw e;
    }
  };
  return { handle };
}

function pageOfLogs<T>(logs: readonly T[], query: URLSearchParams) {
  const p = page(query.get('reverse') === 'true' ? [...logs].reverse() : logs, query);
  return { logs: p.items, total_logs: p.total, page: p.page, size: p.size, pages: p.pages };
}
