// mock: prism
// Uploading a file from disk with fs.createReadStream, then listing and retrieving files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'aiwire';

const client = new OpenAI();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiwire-files-'));
const file = path.join(dir, 'training.jsonl');
fs.writeFileSync(
  file,
  `${JSON.stringify({
    messages: [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
    ],
  })}\n`,
);

try {
  const uploaded = await client.files.create({ file: fs.createReadStream(file), purpose: 'fine-tune' });
  console.log('uploaded', uploaded.id, uploaded.filename, uploaded.bytes, 'bytes');
  if (!uploaded.id) throw new Error('no file id');

  const fetched = await client.files.retrieve(uploaded.id);
  console.log('retrieved', fetched.id, fetched.purpose);

  let count = 0;
  for await (const f of client.files.list({ purpose: 'fine-tune' })) {
    count++;
    console.log('-', f.id, f.filename);
  }
  if (count === 0) throw new Error('files.list returned nothing');
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
