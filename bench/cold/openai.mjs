// Cold start: import openai-node, make a client, send one chat completion. `node bench/cold/openai.mjs <baseURL>`
import OpenAI from 'openai';

const openai = new OpenAI({ apiKey: 'bench', baseURL: process.argv[2], maxRetries: 0 });
const completion = await openai.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say hello.' }],
});
if (!completion.choices[0].message.content) process.exitCode = 1;
