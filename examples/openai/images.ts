// mock: prism
// Generating an image and saving the base64 result to a file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'aiwire';

const client = new OpenAI();

const result = await client.images.generate({
  model: 'gpt-image-1',
  prompt: 'A cute baby sea otter wearing a beret',
  size: '1024x1024',
  n: 1,
});

const image = result.data?.[0];
if (!image) throw new Error('no image in the response');
console.log('created', result.created, image.revised_prompt ?? '');

if (image.b64_json) {
  const file = path.join(os.tmpdir(), `aiwire-otter-${process.pid}.png`);
  fs.writeFileSync(file, Buffer.from(image.b64_json, 'base64'));
  console.log('saved', file, fs.statSync(file).size, 'bytes');
  fs.rmSync(file);
} else if (image.url) {
  console.log('url', image.url);
} else {
  throw new Error('the image has neither b64_json nor url');
}
