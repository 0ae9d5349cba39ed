/**
 * @anthropic-ai/sdk: the official client of the Anthropic rows, `messages.create(...)` (the `message`)
 * and `messages.create({ stream: true })` (the stream).
 */
import Anthropic from '@anthropic-ai/sdk';
import {
  ANTHROPIC_MESSAGE_PARAMS,
  ANTHROPIC_PARAMS,
  API_KEY,
  checkCount,
  EXPECTED,
  useAnthropicEvent,
  useMessage,
} from '../lib/common.mjs';

export const unsupported = {
  chat: 'n/a (OpenAI API)',
  openaiStream: 'n/a (OpenAI API)',
  embedFloat: 'n/a (OpenAI API)',
  embedBase64: 'n/a (OpenAI API)',
};

export function setup({ baseURL }) {
  const anthropic = new Anthropic({ apiKey: API_KEY, baseURL, maxRetries: 0 });
  return {
    async anthropicMessage() {
      return useMessage(await anthropic.messages.create(ANTHROPIC_MESSAGE_PARAMS));
    },
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
