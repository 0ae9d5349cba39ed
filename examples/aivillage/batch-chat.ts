// mock: aiwire
// batchChat: many messages, at most `concurrency` in flight, one result per message in input order.
// A failing message does not fail the batch: its result is `{ status: 'rejected', reason }` with the
// typed error (on the mock, the message "mock-error-503" fails with 503).
import AIVillage, { APIError } from 'aiwire/aivillage';

const client = new AIVillage({ maxRetries: 1 });

const messages = [
  'What is memory safety?',
  'Explain ownership in Rust',
  'mock-error-503',
  'How does borrowing work?',
];
const results = await client.batchChat(messages, {
  concurrency: 2,
  defaults: { agent_preference: 'sage', mode: 'fast' },
});

results.forEach((result, i) => {
  if (result.status === 'fulfilled') console.log(`${i + 1}. ${result.value.response}`);
  else if (result.reason instanceof APIError)
    console.log(`${i + 1}. failed: ${result.reason.status} ${result.reason.name}`);
  else throw result.reason;
});
const ok = results.filter((r) => r.status === 'fulfilled').length;
console.log(`${ok} of ${messages.length} answered`);
if (ok !== 3 || results[2]?.status !== 'rejected') throw new Error('unexpected batch outcome');
