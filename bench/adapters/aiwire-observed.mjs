/**
 * aiwire's chat call as in `aiwire.mjs`, on a client with metrics and hooks on (`metrics: true`,
 * `onRequest` / `onResponse` / `onRetry` / `onError` set): the `observed-c64` scenario measures what
 * observing every request costs, against the plain `aiwire` client in the same scenario.
 * `AIWIRE_BENCH_OBSERVE=metrics` (metrics only) or `=hooks` (hooks only) measures one of the two.
 */
import { OpenAI } from '../../dist/index.js';
import { API_KEY, CHAT_PARAMS, useCompletion } from '../lib/common.mjs';

export const unsupported = {};

export function setup({ baseURL }) {
  let seen = 0;
  const count = () => {
    seen++;
  };
  const openai = new OpenAI({
    apiKey: API_KEY,
    baseURL,
    maxRetries: 0,
    metrics: process.env.AIWIRE_BENCH_OBSERVE !== 'hooks',
    hooks:
      process.env.AIWIRE_BENCH_OBSERVE === 'metrics'
        ? undefined
        : { onRequest: count, onResponse: count, onRetry: count, onError: count },
  });
  return {
    async chat() {
      return useCompletion(await openai.chat.completions.create(CHAT_PARAMS));
    },
    get seen() {
      return seen;
    },
  };
}
