/**
 * The comparison for `aiwire batch`: the script a user writes with openai-node and p-limit. It reads
 * the batch file line by line, sends each line's body with `client.chat.completions.create` at most
 * `concurrency` at a time, and writes one output line per input line in OpenAI's batch output shape
 * (`custom_id`, `response`, `error`) to a write stream.
 *
 *   node bench/batch/openai-plimit.mjs IN OUT BASE_URL CONCURRENCY
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import OpenAI from 'openai';
import pLimit from 'p-limit';

const [input, output, baseURL, concurrency] = process.argv.slice(2);
const client = new OpenAI({ apiKey: 'bench', baseURL: `${baseURL}/v1`, maxRetries: 2 });
const limit = pLimit(Number(concurrency));
const out = createWriteStream(output, { flags: 'a' });
let n = 0;

async function one(line) {
  const item = JSON.parse(line);
  try {
    const { data, response } = await client.chat.completions.create(item.body).withResponse();
    const request_id = response.headers.get('x-request-id');
    n += 1;
    return {
      id: `batch_req_${n}`,
      custom_id: item.custom_id,
      response: { status_code: response.status, request_id, body: data },
      error: null,
    };
  } catch (e) {
    return {
      id: `batch_req_${n}`,
      custom_id: item.custom_id,
      response: null,
      error: { code: e.code ?? 'error', message: e.message },
    };
  }
}

const tasks = [];
const rl = createInterface({ input: createReadStream(input), crlfDelay: Number.POSITIVE_INFINITY });
for await (const line of rl) {
  if (line.trim() === '') continue;
  tasks.push(limit(async () => out.write(`${JSON.stringify(await one(line))}\n`)));
}
await Promise.all(tasks);
await new Promise((resolve) => out.end(resolve));
