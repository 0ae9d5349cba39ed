// mock: aiwire
// Raw responses: withResponse() for headers and the request id, asResponse() for the fetch Response,
// and the non-enumerable _request_id on every result.
import OpenAI from 'aiwire';

const client = new OpenAI();

const params: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say this is a test' }],
};

const {
  data: completion,
  response,
  request_id,
} = await client.chat.completions.create(params).withResponse();
console.log('status:', response.status, response.statusText);
console.log('content-type:', response.headers.get('content-type'));
console.log('request id:', request_id);
console.log(completion.choices[0]?.message.content);

const plain = await client.chat.completions.create(params);
console.log('_request_id:', plain._request_id);

const raw = await client.chat.completions.create(params).asResponse();
const json = (await raw.json()) as { object: string };
console.log('asResponse:', raw.status, json.object);

if (!request_id || request_id !== response.headers.get('x-request-id')) throw new Error('no request id');
if (!plain._request_id?.startsWith('req_')) throw new Error(`_request_id is ${plain._request_id}`);
if (json.object !== 'chat.completion') throw new Error(`asResponse body: ${JSON.stringify(json)}`);
