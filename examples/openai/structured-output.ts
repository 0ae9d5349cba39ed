// mock: aiwire
// Structured output: `response_format` with a JSON schema, then JSON.parse of the message content.
import OpenAI from 'aiwire';

const client = new OpenAI();

interface CalendarEvent {
  name: string;
  date: string;
  participants: string[];
}

const completion = await client.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'Extract the event information.' },
    { role: 'user', content: 'Alice and Bob are going to a science fair on Friday.' },
  ],
  response_format: {
    type: 'json_schema',
    json_schema: {
      name: 'calendar_event',
      strict: true,
      schema: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          date: { type: 'string' },
          participants: { type: 'array', items: { type: 'string' } },
        },
        required: ['name', 'date', 'participants'],
        additionalProperties: false,
      },
    },
  },
});

const message = completion.choices[0]?.message;
if (message?.refusal) throw new Error(`refused: ${message.refusal}`);
const event = JSON.parse(message?.content ?? 'null') as CalendarEvent;
console.log(event);

if (typeof event.name !== 'string' || typeof event.date !== 'string' || !Array.isArray(event.participants)) {
  throw new Error(`the content does not match the schema: ${message?.content}`);
}
