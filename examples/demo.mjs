// The main job: start the bundled mock OpenAI server (its own process, so the figures below are the
// client's), make 1,000 chat completions at concurrency 64 through the Rust engine, stream one
// completion as it arrives, and print requests/s.
// Run: npm run demo   (no API key needed; everything stays on 127.0.0.1)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { OpenAI } from '../dist/index.js';

async function startMockServer() {
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'mock', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  for await (const data of child.stdout) {
    out += data;
    const match = /listening on (http:\/\/\S+)/.exec(out);
    if (match) {
      return {
        url: match[1],
        close: async () => {
          child.kill('SIGTERM');
          await once(child, 'exit');
        },
      };
    }
  }
  throw new Error(`mock server did not start: ${out}`);
}

const TOTAL = Number(process.env.DEMO_REQUESTS ?? 1000);
const CONCURRENCY = Number(process.env.DEMO_CONCURRENCY ?? 64);

const server = await startMockServer();
try {
  const openai = new OpenAI({ apiKey: 'demo-key', baseURL: `${server.url}/v1` });
  const messages = [{ role: 'user', content: 'Say hello to the Rust engine' }];

  // Warm up the pool so the figure measures steady state.
  await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });

  let next = 0;
  let ok = 0;
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  async function worker() {
    while (next < TOTAL) {
      next++;
      const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
      if (completion.choices[0]?.message.content) ok++;
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  console.log(
    `${ok}/${TOTAL} chat completions at concurrency ${CONCURRENCY} in ${seconds.toFixed(2)} s: ` +
      `${Math.round(TOTAL / seconds)} requests/s, ${Math.round((cpu.user + cpu.system) / TOTAL)} µs CPU per request ` +
      '(client process only)',
  );

  process.stdout.write('streamed: ');
  const stream = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Stream these words one chunk at a time, as they arrive' }],
    stream: true,
  });
  for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? '');
  process.stdout.write('\n');
} finally {
  await server.close();
}
