// mock: aiwire
// Streaming function calls: accumulate tool_call deltas (id, name, argument fragments) by index.
import OpenAI from 'aiwire';

const client = new OpenAI();

const stream = await client.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Book a table for four in Lisbon' }],
  tools: [
    {
      type: 'function',
      function: {
        name: 'book_table',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string' }, guests: { type: 'integer' } },
          required: ['city', 'guests'],
          additionalProperties: false,
        },
      },
    },
  ],
  stream: true,
});

const calls: { id: string; name: string; arguments: string }[] = [];
let finishReason: string | null = null;
for await (const chunk of stream) {
  const choice = chunk.choices[0];
  for (const delta of choice?.delta?.tool_calls ?? []) {
    const call = calls[delta.index] ?? { id: '', name: '', arguments: '' };
    calls[delta.index] = call;
    if (delta.id) call.id = delta.id;
    if (delta.function?.name) call.name += delta.function.name;
    if (delta.function?.arguments) call.arguments += delta.function.arguments;
  }
  if (choice?.finish_reason) finishReason = choice.finish_reason;
}

for (const call of calls) console.log(`${call.id}: ${call.name}(${call.arguments})`);
const args = JSON.parse(calls[0]?.arguments ?? '{}') as { city?: string; guests?: number };

if (finishReason !== 'tool_calls') throw new Error(`finish_reason is ${finishReason}`);
if (calls[0]?.name !== 'book_table' || args.city !== 'Lisbon')
  throw new Error(`unexpected call ${JSON.stringify(calls)}`);
