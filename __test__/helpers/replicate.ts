/**
 * Shared by the Replicate helper tests (replicate-run.test.ts, replicate-inputs.test.ts): the token and
 * version id they use, replicate-javascript 1.4.0 (the comparison client), and small async helpers.
 */
import { createRequire } from 'node:module';
import type { ModelError } from '../../src/providers/replicate/lib/index.js';

/** replicate-javascript 1.4.0 (a devDependency), the comparison client. */
export const ReplicateJs = createRequire(import.meta.url)('replicate') as new (options: {
  auth: string;
  baseUrl: string;
}) => { predictions: { create(o: object): Promise<{ id: string; status: string }> } };

/** The API token the tests send. */
export const TOKEN = 'r8_test_token_0123456789';
/** A version id (64 hex digits). */
export const VERSION = '5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa';

/** A request body recorded by the mock, parsed. */
export const bodyOf = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>;
/** Milliseconds between consecutive timestamps, rounded. */
export const gaps = (at: number[]) => at.slice(1).map((t, i) => Math.round(t - (at[i] as number)));

/** The rejection of `p` (as `T`), or a failure when it resolves. */
export async function caught<T = ModelError>(p: Promise<unknown>): Promise<T> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e) => e as T,
  );
}

/** Resolves once `cond()` holds (checked every 10 ms); throws after `ms` (default 3 s). */
export async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
