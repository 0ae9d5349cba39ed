// mock: aiwire
// Streaming a chat completion with `stream: true` and `for await`, printing each delta as it arrives.
import OpenAI from 'aiwire';

const client = new OpenAI();

const stream = await client.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say this is a test, slowly and word by word' }],
  stream: true,
  stream_options: { include_usage: true },
});

let text = '';
let chunks = 0;
for await (const chunk of stream) {
  chunks++;
  const delta = chunk.choices[0]?.delta?.content ?? '';
  text += delta;
  process.stdout.write(delta);
  if (chunk.usage) console.log(`\n(${chunk.usage.total_tokens} tokens)`);
}
process.stdout.write('\n');

if (chunks < 3) throw new Error(`expected several chunks, got ${chunks}`);
if (!text.includes('word by word')) throw new Error(`unexpected text: ${text}`);
