// mock: aiwire (codegen)
// Many agent runs at once (bounded concurrency, one result per input, failures kept), a health check,
// and the client's request numbers.
import Codegen from 'aiwire/codegen';

const codegen = new Codegen({ preset: 'development', rateLimit: false });

const health = await codegen.healthCheck();
console.log(`API ${health.status} (${health.latencyMs.toFixed(1)} ms)`);

const configs = [
  { prompt: 'Create a user model', metadata: { type: 'model' } },
  { prompt: 'Create a user service', metadata: { type: 'service' } },
  // the mock refuses a prompt containing mock-error-<status> with that status
  { prompt: 'Create user tests mock-error-402', metadata: { type: 'test' } },
];
const results = await codegen.bulk.createAgentRuns(configs, {
  concurrency: 2,
  onProgress: (p) => console.log(`  ${p.completed}/${p.total} done`),
});
for (const [i, result] of results.entries()) {
  if (result.success) console.log(`config ${i}: created run ${result.data.id}`);
  else console.log(`config ${i}: failed: ${result.error.message}`);
}

const stats = codegen.getStats();
console.log(
  `requests ${stats.totalRequests}, success rate ${(stats.successRate * 100).toFixed(0)}%, ` +
    `mean latency ${stats.meanLatencyMs.toFixed(1)} ms, cache hit rate ${(stats.cacheHitRate * 100).toFixed(0)}%`,
);
if (results.filter((r) => r.success).length !== 2 || stats.totalRequests !== 4) process.exitCode = 1;
