// Part of the OpenAI naming table (scripts/generate/openai-names.mjs): HELPERS.

// HELPERS: methods openai-node has on a resource with no operation of their own; each is one line
// calling into src/providers/openai/lib/ (signature, call, doc, imports, kitTypes). Each half of
// issue 18 keeps its own table; HELPERS concatenates them per resource (mergeHelpers), so two
// tables may both add methods to one resource.

/** Issue 18, responses/polling/uploads/batches half: `responses.stream`, the `…AndPoll` helpers. */
const RESPONSES_POLLING_HELPERS = {
  responses: [
    {
      signature:
        'stream<ParsedT = null>(params: ResponseStreamParams, options?: ResponseStreamOptions): ResponseStream<ParsedT>',
      call: 'return ResponseStream.createResponse<ParsedT>(this._client, params, options);',
      doc: "Create a response and stream it as a `ResponseStream` (`{ model, input, … }`: `POST /responses` with\n`stream: true`), or stream an existing background response (`{ response_id, starting_after? }`:\n`GET /responses/{id}?stream=true`). openai-node's events by type (`response.output_text.delta` with\n`snapshot`, …), `event`, `connect`, `error`, `abort`, `end`; `finalResponse()` (with `output_text`), `done()`,\n`abort()`, `for await`. A background response's stream resumes after a dropped connection from the last\n`sequence_number` (`maxResumes`, default 3; aiwire's addition).\nAPI reference: https://platform.openai.com/docs/api-reference/responses-streaming\n@throws AiwireError for params that are not an object, a bad `response_id`/`starting_after`/`maxResumes`; (via `error` /\nthe promises) the typed APIError subclasses, APIConnectionError, APIUserAbortError.",
      imports: [
        "import { ResponseStream, type ResponseStreamOptions, type ResponseStreamParams } from '../lib/response-stream.js';",
      ],
    },
  ],
  files: [
    {
      signature: 'waitForProcessing(id: string, options?: WaitForProcessingOptions): Promise<FileObject>',
      call: 'return waitForProcessing(this, id, options);',
      doc: "Poll `files.retrieve(id)` every `pollInterval` ms (default 5,000) until the file's status is `processed`,\n`error` or `deleted`, and return it (as openai-node). `signal` (aiwire's addition) stops waiting.\nAPI reference: https://platform.openai.com/docs/api-reference/files/retrieve\n@throws APIConnectionTimeoutError after `maxWait` ms (default 30 min); APIUserAbortError; AiwireError for a bad\n`pollInterval`/`maxWait`; the retrieve's APIError subclasses.",
      imports: ["import { type WaitForProcessingOptions, waitForProcessing } from '../lib/polling.js';"],
    },
  ],
  'vectorStores.files': [
    {
      signature:
        'async createAndPoll(vectorStoreID: string, body: FileCreateParams, options?: PollOptions): Promise<VectorStoreFile>',
      call: 'const file = await this.create(vectorStoreID, body, requestOptions(options));\n    return pollVectorStoreFile(this, vectorStoreID, file.id, options);',
      doc: 'Attach a file to a vector store, then `poll` it until it is no longer `in_progress` (a `failed` file is\nreturned: check `status` / `last_error`).\nAPI reference: https://platform.openai.com/docs/api-reference/vector-stores-files/createFile\n@throws AiwireError for a bad `pollIntervalMs`; APIError subclasses; APIUserAbortError when `signal` aborts.',
      imports: [
        "import { type PollOptions, pollVectorStoreFile, requestOptions, uploadVectorStoreFile } from '../../lib/polling.js';",
      ],
    },
    {
      signature:
        'poll(vectorStoreID: string, fileID: string, options?: PollOptions): Promise<VectorStoreFile>',
      call: 'return pollVectorStoreFile(this, vectorStoreID, fileID, options);',
      doc: 'Retrieve the vector store file until its status is not `in_progress`; between polls one timer of\n`pollIntervalMs`, else the `openai-poll-after-ms` header, else 5,000 ms.\nAPI reference: https://platform.openai.com/docs/api-reference/vector-stores-files/getFile\n@throws AiwireError for a bad `pollIntervalMs`; APIError subclasses; APIUserAbortError when `signal` aborts.',
    },
    {
      signature:
        'upload(vectorStoreID: string, file: Uploadable, options?: RequestOptions): Promise<VectorStoreFile>',
      call: 'return uploadVectorStoreFile((this._client as unknown as { files: TopFiles }).files, this, vectorStoreID, file, options);',
      doc: "Upload `file` with `files.create({ file, purpose: 'assistants' })`, then attach it to the vector store\n(processing goes on on the server; see `uploadAndPoll`).\nAPI reference: https://platform.openai.com/docs/api-reference/vector-stores-files/createFile\n@throws APIError subclasses, APIConnectionError, APIUserAbortError.",
      imports: ["import type { Files as TopFiles } from '../files.js';"],
      kitTypes: ['RequestOptions', 'Uploadable'],
    },
    {
      signature:
        'async uploadAndPoll(vectorStoreID: string, file: Uploadable, options?: PollOptions): Promise<VectorStoreFile>',
      call: 'const attached = await this.upload(vectorStoreID, file, requestOptions(options));\n    return pollVectorStoreFile(this, vectorStoreID, attached.id, options);',
      doc: '`upload`, then `poll`.\nAPI reference: https://platform.openai.com/docs/api-reference/vector-stores-files/createFile\n@throws as `upload` and `poll`.',
    },
  ],
  'vectorStores.fileBatches': [
    {
      signature:
        'async createAndPoll(vectorStoreID: string, body: FileBatchCreateParams, options?: PollOptions): Promise<VectorStoreFileBatch>',
      call: 'const batch = await this.create(vectorStoreID, body, requestOptions(options));\n    return pollFileBatch(this, vectorStoreID, batch.id, options);',
      doc: 'Create a vector store file batch, then `poll` it until it is no longer `in_progress`.\nAPI reference: https://platform.openai.com/docs/api-reference/vector-stores-file-batches/createBatch\n@throws AiwireError for a bad `pollIntervalMs`; APIError subclasses; APIUserAbortError when `signal` aborts.',
      imports: [
        "import { type PollOptions, pollFileBatch, requestOptions, type UploadAndPollOptions, uploadFileBatchAndPoll } from '../../lib/polling.js';",
      ],
    },
    {
      signature:
        'poll(vectorStoreID: string, batchID: string, options?: PollOptions): Promise<VectorStoreFileBatch>',
      call: 'return pollFileBatch(this, vectorStoreID, batchID, options);',
      doc: 'Retrieve the batch until its status is not `in_progress`; between polls one timer of `pollIntervalMs`,\nelse the `openai-poll-after-ms` header, else 5,000 ms.\nAPI reference: https://platform.openai.com/docs/api-reference/vector-stores-file-batches/getBatch\n@throws AiwireError for a bad `pollIntervalMs`; APIError subclasses; APIUserAbortError when `signal` aborts.',
    },
    {
      signature:
        'uploadAndPoll(vectorStoreID: string, files: { files: Uploadable[]; fileIds?: string[] }, options?: UploadAndPollOptions): Promise<VectorStoreFileBatch>',
      call: 'return uploadFileBatchAndPoll((this._client as unknown as { files: TopFiles }).files, this, vectorStoreID, files, options);',
      doc: "Upload `files` (purpose `assistants`, at most `maxConcurrency` at a time, default 5), create a batch of\ntheir ids plus `fileIds`, then `poll` it.\nAPI reference: https://platform.openai.com/docs/api-reference/vector-stores-file-batches/createBatch\n@throws AiwireError when `files` is empty or `maxConcurrency` is not a positive integer; the first upload's error;\nas `poll`.",
      imports: ["import type { Files as TopFiles } from '../files.js';"],
      kitTypes: ['Uploadable'],
    },
  ],
  'beta.threads.runs': [
    {
      signature:
        'async createAndPoll(threadID: string, body: RunCreateParams, options?: PollOptions): Promise<Run>',
      call: 'const run = await this.create(threadID, body, requestOptions(options));\n    return pollRun(this, run.id, threadID, options);',
      doc: 'Create a run, then `poll` it to a terminal state (`requires_action`, `incomplete`, `cancelled`, `completed`,\n`failed`, `expired`).\nAPI reference: https://platform.openai.com/docs/api-reference/runs/createRun\n@throws AiwireError for a bad `pollIntervalMs`; APIError subclasses; APIUserAbortError when `signal` aborts.',
      imports: ["import { type PollOptions, pollRun, requestOptions } from '../../../lib/polling.js';"],
    },
    {
      signature: 'poll(runID: string, params: RunRetrieveParams, options?: PollOptions): Promise<Run>',
      call: 'return pollRun(this, runID, params.thread_id, options);',
      doc: 'Retrieve the run while it is `queued`, `in_progress` or `cancelling`; between polls one timer of\n`pollIntervalMs`, else the `openai-poll-after-ms` header, else 5,000 ms.\nAPI reference: https://platform.openai.com/docs/api-reference/runs/getRun\n@throws AiwireError for a bad `pollIntervalMs`; APIError subclasses; APIUserAbortError when `signal` aborts.',
    },
    {
      signature:
        'async submitToolOutputsAndPoll(runID: string, params: RunSubmitToolOutputsParams, options?: PollOptions): Promise<Run>',
      call: 'const run = await this.submitToolOutputs(runID, params, requestOptions(options));\n    return pollRun(this, run.id, params.thread_id, options);',
      doc: 'Submit tool outputs to a run in `requires_action`, then `poll` it to a terminal state.\nAPI reference: https://platform.openai.com/docs/api-reference/runs/submitToolOutputs\n@throws AiwireError for a bad `pollIntervalMs`; APIError subclasses; APIUserAbortError when `signal` aborts.',
    },
  ],
  'beta.threads': [
    {
      signature:
        'async createAndRunPoll(body: ThreadCreateAndRunParams, options?: PollOptions): Promise<Run>',
      call: 'const run = await this.createAndRun(body, requestOptions(options));\n    return pollRun(this.runs, run.id, run.thread_id, options);',
      doc: 'Create a thread and run it, then poll the run to a terminal state (as `runs.poll`).\nAPI reference: https://platform.openai.com/docs/api-reference/runs/createThreadAndRun\n@throws AiwireError for a bad `pollIntervalMs`; APIError subclasses; APIUserAbortError when `signal` aborts.',
      imports: ["import { type PollOptions, pollRun, requestOptions } from '../../lib/polling.js';"],
    },
  ],
};

/** Issue 18, responses/polling/uploads/batches half: `uploads.upload` (aiwire's own; openai-node has none). */
const UPLOADS_HELPERS = {
  uploads: [
    {
      signature: 'upload(params: UploadFileParams, options?: RequestOptions): Promise<Upload>',
      call: 'return uploadFile(this, params, options);',
      doc: "Upload a large file in one call: `POST /uploads`, the file in parts of `partSize` bytes (default and at most\n64 MiB) sent at most `concurrency` at a time (default 4) with `POST /uploads/{id}/parts`, then\n`POST /uploads/{id}/complete` with the part ids in order; resolves with the completed `Upload` (`upload.file`).\nA failed part cancels the upload. Each part is read into memory just before it is sent (at most `concurrency`\nparts at once). aiwire's own helper (openai-node has none).\nAPI reference: https://platform.openai.com/docs/api-reference/uploads\n@throws AiwireError for bad params (unreadable or empty file, `bytes` mismatch, `partSize`/`concurrency` out of\nrange, no `mime_type`/`purpose`); APIError subclasses, APIConnectionError, APIUserAbortError.",
      imports: ["import { type UploadFileParams, uploadFile } from '../lib/upload-file.js';"],
      kitTypes: ['RequestOptions'],
    },
  ],
};

/** Issue 18, responses/polling/uploads/batches half: `batches.run` (aiwire's own; openai-node has none). */
const BATCHES_HELPERS = {
  batches: [
    {
      signature:
        'run<ResponseBody = unknown>(input: BatchRequest[] | string, options?: BatchRunOptions): Promise<BatchRun<ResponseBody>>',
      call: 'return runBatch<ResponseBody>(this._client as never, input, options);',
      doc: "Run a batch to its end: upload the requests (an array, written as JSONL, or the path of a `.jsonl` file) with\npurpose `batch`, `batches.create`, poll until `completed`/`failed`/`expired`/`cancelled` (`pollIntervalMs`, else\n`openai-poll-after-ms`, else 5 s; `onProgress(batch)` after each poll), then resolve with `{ batch }` whose\n`for await` yields the output then the error file's lines (`{ id, custom_id, response, error }`), read as they\nstream. Aborting `signal` cancels the batch. aiwire's own helper (openai-node has none).\nAPI reference: https://platform.openai.com/docs/api-reference/batch\n@throws AiwireError for bad input (no requests, missing or duplicate `custom_id`, mixed endpoints, no endpoint);\nBatchFailedError when the batch ends `failed`; APIUserAbortError; APIError subclasses, APIConnectionError.",
      imports: [
        "import { type BatchRequest, type BatchRun, type BatchRunOptions, runBatch } from '../lib/batch-run.js';",
      ],
    },
  ],
};

/** Issue 18, responses/polling/uploads/batches half: openai-node's Assistants streaming helpers (`AssistantStream`). */
const ASSISTANT_STREAM_HELPERS = {
  'beta.threads.runs': [
    {
      signature:
        'stream(threadID: string, params: RunCreateParams, options?: RequestOptions): AssistantStream',
      call: 'return AssistantStream.createAssistantStream(this._client, threadID, params, options);',
      doc: "Create a run and stream it as an `AssistantStream` (`POST /threads/{thread_id}/runs` with `stream: true`):\nopenai-node's events (`messageCreated`, `textDelta`, `toolCallDone`, `runStepDone`, `event`, `end`, …),\n`finalRun()`, `finalMessages()`, `finalRunSteps()`, `currentRun()`, `for await` over `{ event, data }`.\nAPI reference: https://platform.openai.com/docs/api-reference/assistants-streaming\n@throws (via `error` / the promises) the typed APIError subclasses, APIConnectionError, APIUserAbortError.",
      imports: ["import { AssistantStream } from '../../../lib/assistant-stream.js';"],
      kitTypes: ['RequestOptions'],
    },
    {
      signature:
        'createAndStream(threadID: string, params: RunCreateParams, options?: RequestOptions): AssistantStream',
      call: 'return AssistantStream.createAssistantStream(this._client, threadID, params, options);',
      doc: 'As `stream()` (openai-node keeps this older name).\n@deprecated use `stream()`.\nAPI reference: https://platform.openai.com/docs/api-reference/assistants-streaming\n@throws (via `error` / the promises) the typed APIError subclasses, APIConnectionError, APIUserAbortError.',
    },
    {
      signature:
        'submitToolOutputsStream(runID: string, params: RunSubmitToolOutputsParams, options?: RequestOptions): AssistantStream',
      call: 'return AssistantStream.createToolAssistantStream(this._client, runID, params, options);',
      doc: 'Submit tool outputs to a run in `requires_action` and stream the rest of the run as an `AssistantStream`\n(`POST /threads/{thread_id}/runs/{run_id}/submit_tool_outputs` with `stream: true`).\nAPI reference: https://platform.openai.com/docs/api-reference/runs/submitToolOutputs\n@throws (via `error` / the promises) the typed APIError subclasses, APIConnectionError, APIUserAbortError.',
    },
  ],
  'beta.threads': [
    {
      signature:
        'createAndRunStream(body: ThreadCreateAndRunParams, options?: RequestOptions): AssistantStream',
      call: 'return AssistantStream.createThreadAssistantStream(this._client, body, options);',
      doc: 'Create a thread, run it and stream the run as an `AssistantStream` (`POST /threads/runs` with `stream: true`).\nAPI reference: https://platform.openai.com/docs/api-reference/runs/createThreadAndRun\n@throws (via `error` / the promises) the typed APIError subclasses, APIConnectionError, APIUserAbortError.',
      imports: ["import { AssistantStream } from '../../lib/assistant-stream.js';"],
      kitTypes: ['RequestOptions'],
    },
  ],
};

/** Concatenate helper tables per resource. */
function mergeHelpers(...tables) {
  const merged = {};
  for (const table of tables) {
    for (const [resource, helpers] of Object.entries(table))
      merged[resource] = [...(merged[resource] ?? []), ...helpers];
  }
  return merged;
}

const CHAT_LIB = '../../lib';
/** Issue 18, chat half: `chat.completions.parse/stream/runTools`, `responses.parse`. */
const CHAT_HELPERS = {
  'chat.completions': [
    {
      signature:
        'parse<Params extends ChatCompletionParseParams, ParsedT = ExtractParsedContentFromParams<Params>>(body: Params, options?: RequestOptions): APIPromise<ParsedChatCompletion<ParsedT>>',
      call: 'return parseCompletion(this, body, options);',
      doc: "`create()` (not streamed), then each choice's `message.parsed` (by a `response_format` from\n`zodResponseFormat`, else `JSON.parse` for a `json_schema` format) and `tool_calls[].function.parsed_arguments`\n(`zodFunction` or strict tools), as openai-node. Sends `POST /chat/completions`.\n@throws OpenAIError (synchronously) for a tool that is not a strict function tool; (rejects) the typed APIError\nsubclasses, LengthFinishReasonError, ContentFilterFinishReasonError, the parser's errors.",
      imports: [
        `import { parseCompletion, runTools, streamCompletion } from '${CHAT_LIB}/chat-helpers.js';`,
        `import type { ChatCompletionStream, ChatCompletionStreamingRunner } from '${CHAT_LIB}/chat-completion-stream.js';`,
        `import type { ChatCompletionRunner } from '${CHAT_LIB}/chat-runner.js';`,
        `import type { ChatCompletionParseParams, ChatCompletionStreamingToolRunnerParams, ChatCompletionStreamParams, ChatCompletionToolRunnerParams, ExtractParsedContentFromParams, ParsedChatCompletion, RunnerOptions } from '${CHAT_LIB}/chat-types.js';`,
      ],
      kitTypes: ['APIPromise', 'RequestOptions'],
    },
    {
      signature:
        'stream<Params extends ChatCompletionStreamParams, ParsedT = ExtractParsedContentFromParams<Params>>(body: Params, options?: RequestOptions): ChatCompletionStream<ParsedT>',
      call: 'return streamCompletion(this, body, options);',
      doc: "Create a chat completion and stream it as a `ChatCompletionStream`: openai-node's events (`connect`, `chunk`,\n`content`, `content.delta`/`.done`, `refusal.delta`/`.done`, `tool_calls.function.arguments.delta`/`.done`,\n`logprobs.*`, `chatCompletion`, `message`, `finalChatCompletion`, `finalContent`, `totalUsage`, `error`, `abort`,\n`end`), `finalChatCompletion()`, `for await` over the chunks. Sends `POST /chat/completions` with `stream: true`.\n@throws (via `error` / the promises) the typed APIError subclasses, APIConnectionError, APIUserAbortError.",
      imports: [],
      kitTypes: ['RequestOptions'],
    },
    {
      signature:
        'runTools<Params extends ChatCompletionToolRunnerParams | ChatCompletionStreamingToolRunnerParams, ParsedT = ExtractParsedContentFromParams<Params>>(body: Params, options?: RunnerOptions): Params extends { stream: true } ? ChatCompletionStreamingRunner<ParsedT> : ChatCompletionRunner<ParsedT>',
      call: 'return runTools<ParsedT>(this, body, options) as never;',
      doc: "Run the tool loop: call the model, run each function tool call with `tools[].function.function` (or a\n`zodFunction`'s callback), send the results back, until a message has no tool call or `maxChatCompletions`\n(default 10) completions were made. A `ChatCompletionRunner`, or with `stream: true` a `ChatCompletionStreamingRunner`.\n@throws (via `error` / the promises) the typed APIError subclasses, APIUserAbortError, a tool function's error.",
      imports: [],
      kitTypes: ['RequestOptions'],
    },
  ],
  responses: [
    {
      signature:
        'parse<Params extends ResponseCreateParamsNonStreaming, ParsedT = ExtractParsedContentFromResponseParams<Params>>(body: Params, options?: RequestOptions): APIPromise<ParsedResponse<ParsedT>>',
      call: 'return parseResponses(this, body, options);',
      doc: "`create()` (not streamed), then `output_parsed` (by a `text.format` from `zodTextFormat`, else `JSON.parse`\nfor a `json_schema` format), `parsed` on each `output_text` part and `parsed_arguments` on each function call, as\nopenai-node. Sends `POST /responses`.\n@throws (rejects) the typed APIError subclasses, the parser's errors.",
      imports: [
        "import { type ExtractParsedContentFromResponseParams, type ParsedResponse, parseResponses } from '../lib/responses-parser.js';",
      ],
      kitTypes: ['APIPromise', 'RequestOptions'],
    },
  ],
};

export const HELPERS = mergeHelpers(
  RESPONSES_POLLING_HELPERS,
  UPLOADS_HELPERS,
  BATCHES_HELPERS,
  ASSISTANT_STREAM_HELPERS,
  CHAT_HELPERS,
);
