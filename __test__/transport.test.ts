// Production transport (issue "Production transport"): what users running aiwire in worker threads,
// serverless handlers and corporate networks rely on. Each group failed on the engine before this work.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/transport/${name}`, import.meta.url));

describe('worker threads and exit', () => {
  // Before: terminating 4 workers mid-stream hung for good (napi-rs shut the runtime down with the last
  // environment and joined a thread spinning in mimalloc's thread teardown).
  for (const n of [4, 8]) {
    it(`terminating ${n} workers that are reading streams finishes in well under a second`, async () => {
      for (let round = 0; round < 3; round++) {
        const { stdout } = await run(
          process.execPath,
          [fixture('workers.mjs'), `${dist}index.cjs`, String(n), 'terminate'],
          { timeout: 20_000 },
        );
        const m = /terminated (\d+) workers in ([\d.]+) ms/.exec(stdout);
        expect(m, stdout).not.toBeNull();
        expect(Number(m?.[1])).toBe(n);
        expect(Number(m?.[2])).toBeLessThan(1000);
      }
    });
  }

  it('process.exit() on the main thread exits while workers stream', async () => {
    for (let round = 0; round < 3; round++) {
      const t0 = performance.now();
      await run(process.execPath, [fixture('workers.mjs'), `${dist}index.cjs`, '4', 'exit'], {
        timeout: 20_000,
      });
      expect(performance.now() - t0).toBeLessThan(15_000);
    }
  });
});
