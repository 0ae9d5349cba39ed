// Pieces the `queue` executor's tests share: waiting for a condition, reading an output JSONL file,
// and the `input_hash` a line gets.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BatchOutputLine } from '../../src/batch/index.js';

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond()` holds, checking every 50 ms; throws naming `what` after `ms` (default 30 s). */
export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  ms = 30_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** The lines of an output file, parsed (blank lines skipped; a line that is not JSON throws). */
export function readOutput(file: string): BatchOutputLine[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as BatchOutputLine);
}

/** The output line's `input_hash` of an input line: the first 16 hex digits of its SHA-256. */
export const hashOf = (line: string) => createHash('sha256').update(line).digest('hex').slice(0, 16);
