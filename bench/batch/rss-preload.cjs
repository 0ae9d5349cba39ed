// Preloaded (`node -r`) into each batch contender: on exit, reports the process's peak RSS and CPU
// time on stderr as one marker line that bench/batch.mjs reads.
process.on('exit', () => {
  const u = process.resourceUsage();
  process.stderr.write(
    `\nBENCH_USAGE ${JSON.stringify({ maxRssKb: u.maxRSS, cpuUs: u.userCPUTime + u.systemCPUTime })}\n`,
  );
});
