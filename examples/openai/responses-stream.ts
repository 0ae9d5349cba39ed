// mock: aiwire
// Streaming a response: `stream: true` gives typed events; print the text deltas as they arrive.
import OpenAI from 'aiwire';

const client = new OpenAI();

const stream = await client.responses.create({
  model: 'gpt-4o-mini',
  input: [{ role: 'user', content: 'Write a haiku about fast HTTP clients' }],
  stream: true,
});

let text = '';
let completedId: string | undefined;
for await (const event of stream) {
  if (event.type === 'response.output_text.delta') {
    text += event.delta;
    process.stdout.write(event.delta);
  } else if (event.type === 'response.completed') {
    completedId = event.response.id;
  }
}
process.stdout.write('\n');

if (!completedId) throw new Error('no response.completed event');
if (!text.includes('haiku')) throw new Error(`unexpected text: ${text}`);
console.log('completed', completedId);
