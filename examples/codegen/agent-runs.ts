// mock: aiwire (codegen)
// Codegen agent runs: create one, wait for it to finish, then list every run of the organization.
// Reads CODEGEN_API_TOKEN, CODEGEN_ORG_ID and CODEGEN_BASE_URL (`aiwire mock` serves Codegen under /codegen).
import Codegen, { AgentRunTimeoutError } from 'aiwire/codegen';

const codegen = new Codegen();

const me = await codegen.users.me();
console.log(`signed in as ${me.github_username}`);

const run = await codegen.agentRuns.create({
  prompt: 'Create a Python function to calculate fibonacci numbers',
  metadata: { source: 'api_example' },
});
console.log(`created agent run ${run.id} (${run.status})`);

try {
  const done = await codegen.agentRuns.waitForCompletion(run.id, { pollIntervalMs: 200, timeoutMs: 60_000 });
  console.log(`run ${done.id} ended ${done.status}: ${done.result ?? done.summary ?? ''}`);
  if (done.status !== 'COMPLETE') process.exitCode = 1;
} catch (err) {
  if (err instanceof AgentRunTimeoutError)
    console.error(`still ${err.lastRun?.status} after ${err.timeoutMs} ms`);
  throw err;
}

// every run, page after page (`skip` / `limit`), the filters kept on each page
let count = 0;
for await (const r of codegen.agentRuns.list({ source_type: 'API', limit: 50 })) {
  count++;
  if (count <= 3) console.log(`  run ${r.id}: ${r.status}`);
}
console.log(`${count} API run(s) in organization ${codegen.orgId}`);
if (count < 1) process.exitCode = 1;
