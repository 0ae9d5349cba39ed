// mock: prism
// Large files in parts: uploads.create, one parts.create per chunk read from disk, then complete.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'aiwire';

const client = new OpenAI();

const PART_SIZE = 64 * 1024;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiwire-uploads-'));
const file = path.join(dir, 'batch.jsonl');
const line = (i: number) =>
  `${JSON.stringify({ custom_id: `req-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Question ${i}` }] } })}\n`;
fs.writeFileSync(file, Array.from({ length: 1500 }, (_, i) => line(i)).join(''));

try {
  const bytes = fs.statSync(file).size;
  const upload = await client.uploads.create({
    filename: path.basename(file),
    purpose: 'batch',
    bytes,
    mime_type: 'application/jsonl',
  });
  console.log('upload', upload.id, upload.status);

  const partIds: string[] = [];
  for (let start = 0; start < bytes; start += PART_SIZE) {
    const data = fs.createReadStream(file, { start, end: Math.min(start + PART_SIZE, bytes) - 1 });
    const part = await client.uploads.parts.create(upload.id, { data });
    partIds.push(part.id);
  }
  console.log(`sent ${partIds.length} parts of ${bytes} bytes`);

  const completed = await client.uploads.complete(upload.id, { part_ids: partIds });
  console.log('completed', completed.id, completed.status, completed.file?.id);
  if (partIds.length < 2) throw new Error('expected several parts');
  if (!completed.id) throw new Error('no upload id');
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
