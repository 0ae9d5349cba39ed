// Type-level tests of the OpenAI helpers (issue 18, responses/polling/uploads/batches half), used the way
// application code uses them. Checked by `npm run typecheck` (tsc --noEmit, strict); nothing runs.
// `@ts-expect-error` lines must fail to compile.
import type { AssistantStream, BatchRun, OpenAI, ResponseStream } from '../../src/index.js';

declare const client: OpenAI;

export function responseStreamTypes(): void {
  const stream: ResponseStream = client.responses.stream({ model: 'gpt-4.1', input: 'hi' });
  stream.on('response.output_text.delta', (e) => {
    const text: string = e.snapshot;
    const delta: string = e.delta;
    void [text, delta];
  });
  stream.on('response.function_call_arguments.delta', (e) => {
    const args: string = e.snapshot;
    void args;
  });
  stream.on('response.completed', (e) => {
    const id: string = e.response.id;
    void id;
  });
  stream.on('event', (e) => {
    const type: string = e.type;
    void type;
  });
  // @ts-expect-error: not an event of a ResponseStream
  stream.on('textDelta', () => {});
  void stream.finalResponse().then((r) => {
    const text: string = r.output_text;
    void text;
  });
  client.responses.stream({ response_id: 'resp_1', starting_after: 3 }, { maxResumes: 0 });
}

export function assistantStreamTypes(): void {
  const stream: AssistantStream = client.beta.threads.runs.stream('thread_1', { assistant_id: 'asst_1' });
  stream.on('textDelta', (delta, snapshot) => void [delta, snapshot]);
  stream.on('toolCallDone', (call) => void call);
  // @ts-expect-error: not an event of an AssistantStream
  stream.on('response.completed', () => {});
  void stream.finalRun().then((run) => {
    const status: string = run.status;
    void status;
  });
}

export async function pollingAndBatchTypes(): Promise<void> {
  const run = await client.beta.threads.runs.createAndPoll(
    'thread_1',
    { assistant_id: 'a' },
    { pollIntervalMs: 500 },
  );
  const status: string = run.status;
  const file = await client.vectorStores.files.uploadAndPoll('vs_1', new File(['x'], 'x.txt'));
  const upload = await client.uploads.upload({
    file: 'big.jsonl',
    mime_type: 'text/jsonl',
    purpose: 'batch',
  });
  const batch: BatchRun<{ id: string }> = await client.batches.run<{ id: string }>('input.jsonl');
  for await (const result of batch) {
    const id: string | undefined = result.response?.body.id;
    void id;
  }
  // @ts-expect-error: pollIntervalMs is a number of ms
  await client.vectorStores.files.poll('vs_1', 'file_1', { pollIntervalMs: '5' });
  void [status, file, upload];
}
