// mock: aiwire
// Client and per-request options: withOptions() derives a client, the second argument overrides one call.
import OpenAI from 'aiwire';

const client = new OpenAI({ maxRetries: 3, timeout: 20_000 });

// No retries and a short timeout for a latency-sensitive path.
const fast = client.withOptions({ maxRetries: 0, timeout: 5_000 });
const models = await fast.models.list();
console.log('fast client listed', models.data.length, 'models');

// Per request: a header, a timeout and a retry count just for this call.
const completion = await client.chat.completions.create(
  { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }] },
  { headers: { 'X-Trace-Id': 'example-42' }, timeout: 2_000, maxRetries: 1 },
);
console.log(completion.choices[0]?.message.content);

if (fast === client) throw new Error('withOptions returned the same client');
if (fast.baseURL !== client.baseURL || fast.apiKey !== client.apiKey)
  throw new Error('options not carried over');
if (completion.choices[0]?.message.content !== 'Echo: ping') throw new Error('unexpected reply');
