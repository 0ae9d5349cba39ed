// Cold start: Node's fetch, one chat completion. `node bench/cold/fetch.mjs <baseURL>`
const completion = await fetch(`${process.argv[2]}/chat/completions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
  body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }] }),
}).then((r) => r.json());
if (!completion.choices[0].message.content) process.exitCode = 1;
