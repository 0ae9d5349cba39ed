// mock: aiwire
// Cancelling: an AbortSignal stops a stream mid-way; so does stream.controller.abort().
import OpenAI from 'aiwire';

const client = new OpenAI();
const long = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');

// 1. An AbortController passed as the request's signal.
const controller = new AbortController();
const stream = await client.chat.completions.create(
  { model: 'gpt-4o-mini', messages: [{ role: 'user', content: long }], stream: true },
  { signal: controller.signal },
);
let received = 0;
try {
  for await (const chunk of stream) {
    received++;
    if (chunk.choices[0]?.delta?.content && received === 5) controller.abort();
  }
} catch (err) {
  if (!(err instanceof OpenAI.APIUserAbortError)) throw err;
  console.log('aborted with APIUserAbortError');
}
console.log(`signal: stopped after ${received} of ~200 chunks`);
if (received < 5 || received > 50) throw new Error(`unexpected chunk count ${received}`);

// 2. The stream's own controller.
const second = await client.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: long }],
  stream: true,
});
let count = 0;
try {
  for await (const _chunk of second) {
    if (++count === 3) second.controller.abort();
  }
} catch (err) {
  if (!(err instanceof OpenAI.APIUserAbortError)) throw err;
}
console.log(`controller: stopped after ${count} chunks`);
if (count < 3 || count > 50) throw new Error(`unexpected chunk count ${count}`);

// 3. A request aborted before it completes rejects with APIUserAbortError.
const early = new AbortController();
const pending = client.chat.completions.create(
  { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'never mind' }] },
  { signal: early.signal },
);
early.abort();
try {
  await pending;
  throw new Error('the aborted request resolved');
} catch (err) {
  if (!(err instanceof OpenAI.APIUserAbortError)) throw err;
  console.log('request: APIUserAbortError');
}
