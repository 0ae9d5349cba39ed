// mock: aiwire
// Function calling: the model asks for a tool, we run it and send the result back in a `tool` message.
import OpenAI from 'aiwire';

const client = new OpenAI();

const tools: OpenAI.Chat.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Get the current weather in a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string', description: 'The city, e.g. Paris' } },
        required: ['city'],
        additionalProperties: false,
      },
      strict: true,
    },
  },
];

function getWeather(args: { city: string }): string {
  return JSON.stringify({ city: args.city, temperature_c: 21, conditions: 'sunny' });
}

const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'user', content: 'What is the weather like in Paris?' },
];

let answer: string | null = null;
let toolCalls = 0;
for (let turn = 0; turn < 5 && answer === null; turn++) {
  const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, tools });
  const message = completion.choices[0]?.message;
  if (!message) throw new Error('no message in the completion');
  messages.push(message);

  if (!message.tool_calls?.length) {
    answer = message.content;
    break;
  }
  for (const toolCall of message.tool_calls) {
    if (toolCall.type !== 'function') continue;
    console.log(`-> ${toolCall.function.name}(${toolCall.function.arguments})`);
    const result = getWeather(JSON.parse(toolCall.function.arguments));
    toolCalls++;
    messages.push({ role: 'tool', tool_call_id: toolCall.id, content: result });
  }
}

console.log('answer:', answer);
if (toolCalls !== 1) throw new Error(`expected one tool call, got ${toolCalls}`);
if (!answer?.includes('Paris')) throw new Error(`the answer does not use the tool result: ${answer}`);
