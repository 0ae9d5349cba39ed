/** @anthropic-ai/sdk: the official client for the Anthropic stream row (`messages.create({ stream: true })`). */
import Anthropic from '@anthropic-ai/sdk';
import { ANTHROPIC_PARAMS, API_KEY, checkCount, EXPECTED, useAnthropicEvent } from '../lib/common.mjs';

export const unsupported = {
  chat: 'n/a (OpenAI API)',
  openaiStream: 'n/a (OpenAI API)',
  embedFloat: 'n/a (OpenAI API)',
  embedBase64: 'n/a (OpenAI API)',
};

export function setup({ baseURL }) {
  const anthropic = new Anthropic({ apiKey: API_KEY, baseURL, maxRetries: 0 });
  return {
    async anthropicStream() {
      const stream = await anthropic.messages.create(ANTHROPIC_PARAMS);
      let count = 0;
      let chars = 0;
      for await (const event of stream) {
        chars += useAnthropicEvent(event);
        count++;
      }
      checkCount('events', count, EXPECTED.anthropicEvents);
      return { items: count, chars };
    },
  };
}
