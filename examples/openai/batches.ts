// mock: prism
// The Batch API: create a batch from an uploaded JSONL file id, then poll it with retrieve.
import OpenAI from 'aiwire';

const client = new OpenAI();

const batch = await client.batches.create({
  input_file_id: 'file-abc123',
  endpoint: '/v1/chat/completions',
  completion_window: '24h',
  metadata: { job: 'nightly-eval' },
});
console.log('created', batch.id, batch.status);

const current = await client.batches.retrieve(batch.id);
console.log('status', current.status, current.request_counts);

if (!current.id || !current.status) throw new Error('the batch has no id or status');
if (current.object !== 'batch') throw new Error(`object is ${current.object}`);
