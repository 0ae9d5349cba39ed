// Cold start: import undici, make an Agent, send one chat completion. `node bench/cold/undici.mjs <baseURL>`
import { Agent, request } from 'undici';

const dispatcher = new Agent({ connections: 8 });
const { body } = await request(`${process.argv[2]}/chat/completions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
  body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }] }),
  dispatcher,
});
const completion = await body.json();
if (!completion.choices[0].message.content) process.exitCode = 1;
await dispatcher.close();
