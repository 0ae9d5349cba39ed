// mock: aiwire
// batches.run (aiwire's helper): upload requests as JSONL, create the batch, poll it, read the results.
import OpenAI from 'aiwire';

const client = new OpenAI();

const questions = ['What is HTTP/2?', 'What is a connection pool?', 'What is backpressure?'];
const run = await client.batches.run(
  questions.map((q, i) => ({
    custom_id: `question-${i}`,
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: q }] },
  })),
  {
    endpoint: '/v1/chat/completions',
    onProgress: (batch) => console.log('status', batch.status, batch.request_counts),
  },
);
console.log('batch', run.batch.id, run.batch.status);

type Chat = { choices: { message: { content: string | null } }[] };
let answered = 0;
for await (const result of run) {
  const body = result.response?.body as Chat | undefined;
  console.log(result.custom_id, result.response?.status_code, body?.choices[0]?.message.content);
  if (result.response?.status_code === 200) answered++;
}
if (run.batch.status !== 'completed') throw new Error(`batch ended ${run.batch.status}`);
if (answered !== questions.length) throw new Error(`${answered} answers for ${questions.length} questions`);
