// mock: aiwire
// A chat completion, as in openai-node's README: the client reads OPENAI_API_KEY and OPENAI_BASE_URL.
import OpenAI from 'aiwire';

const client = new OpenAI();

const completion = await client.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'developer', content: 'Talk like a pirate.' },
    { role: 'user', content: 'Are semicolons optional in JavaScript?' },
  ],
});

const message = completion.choices[0]?.message;
console.log(message?.content);
console.log('usage:', completion.usage);

if (!message?.content?.includes('semicolons'))
  throw new Error(`unexpected reply: ${JSON.stringify(message)}`);
if (completion.choices[0]?.finish_reason !== 'stop') throw new Error('expected finish_reason "stop"');
