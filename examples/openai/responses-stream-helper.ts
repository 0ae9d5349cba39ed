// mock: aiwire
// responses.stream(): openai-node's ResponseStream, with events by type and the final response.
import OpenAI from 'aiwire';

const client = new OpenAI();

const stream = client.responses.stream({
  model: 'gpt-4o-mini',
  input: 'Write a haiku about fast HTTP clients',
});
let deltas = 0;
stream.on('response.output_text.delta', (event) => {
  deltas++;
  process.stdout.write(event.delta);
});
stream.on('response.completed', (event) => console.log('\ncompleted', event.response.id));

const response = await stream.finalResponse();
console.log('output_text:', response.output_text);
if (deltas === 0) throw new Error('no output_text deltas');
if (!response.output_text.includes('haiku')) throw new Error(`unexpected text: ${response.output_text}`);
