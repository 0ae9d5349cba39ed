import { type ClientOptions, OpenAI } from '../../src/index.js';

/** An OpenAI client against a loopback server, with a fixed test key. */
export function client(baseURL: string, options: Partial<ClientOptions> = {}): OpenAI {
  return new OpenAI({ apiKey: 'sk-test-secret-0123456789', baseURL, ...options });
}

/** OpenAI-style SSE frame of a chat chunk carrying `content`. */
export function chunk(content: string, index = 0): string {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-x',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index, delta: { content }, finish_reason: null }],
  })}\n\n`;
}

export const messages = [{ role: 'user' as const, content: 'hello there' }];

/** A minimal `chat.completion` body the fault server answers with (content `ok`). */
export const completion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'ok', refusal: null },
      finish_reason: 'stop',
      logprobs: null,
    },
  ],
};
