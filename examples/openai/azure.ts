// mock: aiwire (azure)
// Azure OpenAI: endpoint, api key and api version from AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY and
// OPENAI_API_VERSION; requests go to /openai/deployments/{deployment}/... with ?api-version=.
import { AzureOpenAI } from 'aiwire';

const deployment = 'gpt-4o-mini';
const client = new AzureOpenAI({ deployment, apiVersion: process.env.OPENAI_API_VERSION });

const result = await client.chat.completions.create({
  model: deployment,
  messages: [{ role: 'user', content: 'Hello from Azure' }],
});
console.log(result.choices[0]?.message.content);

const stream = await client.chat.completions.create({
  model: deployment,
  messages: [{ role: 'user', content: 'Stream from Azure too' }],
  stream: true,
});
let text = '';
for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
console.log(text);

if (result.choices[0]?.message.content !== 'Echo: Hello from Azure') throw new Error('unexpected reply');
if (text !== 'Echo: Stream from Azure too') throw new Error(`unexpected stream: ${text}`);
