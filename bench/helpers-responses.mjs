/**
 * Micro-benchmark of the Responses stream helper: `client.responses.stream(params)` with an
 * `on('response.output_text.delta')` listener and `await finalResponse()`, aiwire vs openai-node, on
 * the same SSE body (EVENTS text deltas, written as the API does, `event:` + `data:` lines) served by a
 * loopback server in a child process (so the server does not share the client's event loop).
 *
 * Reports, per client, the median over RUNS of wall time and CPU time (user + system of this process)
 * per event, and the ratio to openai-node. Standalone (no nginx peer): `npm run build:ts`, then
 * `node bench/helpers-responses.mjs [events] [runs]` (defaults 20000 and 7).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import OpenAISDK from 'openai';
import { OpenAI } from '../dist/index.js';

const EVENTS = Number(process.argv[2] ?? 20_000);
const RUNS = Number(process.argv[3] ?? 7);

const SERVER = `
const http = require('node:http');
const EVENTS = ${EVENTS};
const resp = (status) => ({ id: 'resp_bench', object: 'response', created_at: 1741290958, status, background: false,
  error: null, incomplete_details: null, instructions: null, max_output_tokens: null, model: 'gpt-4.1', output: [],
  parallel_tool_calls: true, previous_response_id: null, reasoning: { effort: null, summary: null }, store: true,
  temperature: 1, text: { format: { type: 'text' } }, tool_choice: 'auto', tools: [], top_p: 1, truncation: 'disabled',
  usage: null, user: null, metadata: {} });
let seq = 0;
const ev = (e) => 'event: ' + e.type + '\\ndata: ' + JSON.stringify({ ...e, sequence_number: seq++ }) + '\\n\\n';
const parts = [ev({ type: 'response.created', response: resp('in_progress') }), ev({ type: 'response.in_progress', response: resp('in_progress') }),
  ev({ type: 'response.output_item.added', output_index: 0, item: { id: 'msg_1', type: 'message', status: 'in_progress', role: 'assistant', content: [] } }),
  ev({ type: 'response.content_part.added', item_id: 'msg_1', output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } })];
let text = '';
for (let i = 0; i < EVENTS; i++) {
  const delta = ' w' + (i % 97);
  text += delta;
  parts.push(ev({ type: 'response.output_text.delta', item_id: 'msg_1', output_index: 0, content_index: 0, delta, logprobs: [], obfuscation: 'abcd' }));
}
const item = { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] };
parts.push(ev({ type: 'response.output_text.done', item_id: 'msg_1', output_index: 0, content_index: 0, text, logprobs: [] }));
parts.push(ev({ type: 'response.output_item.done', output_index: 0, item }));
parts.push(ev({ type: 'response.completed', response: { ...resp('completed'), output: [item] } }));
const body = Buffer.from(parts.join(''));
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = await once(child.stdout, 'data');
const baseURL = `http://127.0.0.1:${String(line).trim()}/v1`;

const clients = {
  aiwire: new OpenAI({ apiKey: 'sk-bench', baseURL, maxRetries: 0 }),
  openai: new OpenAISDK({ apiKey: 'sk-bench', baseURL, maxRetries: 0 }),
};

async function once1(client) {
  let deltas = 0;
  const stream = client.responses.stream({ model: 'gpt-4.1', input: 'bench' });
  stream.on('response.output_text.delta', () => deltas++);
  const final = await stream.finalResponse();
  if (deltas !== EVENTS || final.output_text.length === 0) throw new Error(`bad run: ${deltas} deltas`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
for (const name of Object.keys(clients)) await once1(clients[name]); // warm-up
for (const name of Object.keys(clients)) {
  const wall = [];
  const cpu = [];
  for (let r = 0; r < RUNS; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await once1(clients[name]);
    const c = process.cpuUsage(c0);
    wall.push(((performance.now() - t0) * 1000) / EVENTS);
    cpu.push((c.user + c.system) / EVENTS);
  }
  results[name] = { wall: median(wall), cpu: median(cpu) };
}
child.kill();
console.log(
  `responses.stream(): ${EVENTS} output_text deltas, median of ${RUNS} runs, Node ${process.version}`,
);
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(7)} ${r.wall.toFixed(2)} us/event wall, ${r.cpu.toFixed(2)} us/event CPU` +
      ` (${(r.wall / results.openai.wall).toFixed(2)}x / ${(r.cpu / results.openai.cpu).toFixed(2)}x openai-node)`,
  );
}
process.exit(0);
