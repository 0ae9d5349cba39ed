// mock: aiwire
// The Responses API: `responses.create` and the `output_text` convenience property.
import OpenAI from 'aiwire';

const client = new OpenAI();

const response = await client.responses.create({
  model: 'gpt-4o-mini',
  instructions: 'You are a coding assistant that talks like a pirate',
  input: 'Are semicolons optional in JavaScript?',
});

console.log(response.id, response.status);
console.log(response.output_text);

if (response.status !== 'completed') throw new Error(`status ${response.status}`);
if (!response.output_text?.includes('semicolons')) {
  throw new Error(`output_text is ${JSON.stringify(response.output_text)}`);
}
