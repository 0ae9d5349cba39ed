// mock: aiwire
// Listing models (auto-paginated with for await) and retrieving one.
import OpenAI from 'aiwire';

const client = new OpenAI();

const ids: string[] = [];
for await (const model of client.models.list()) {
  ids.push(model.id);
  console.log(model.id, 'owned by', model.owned_by);
}

const model = await client.models.retrieve('gpt-4o-mini');
console.log('retrieved', model.id, new Date(model.created * 1000).toISOString());

if (!ids.includes('gpt-4o-mini')) throw new Error(`gpt-4o-mini not listed: ${ids.join(', ')}`);
if (model.object !== 'model') throw new Error(`object is ${model.object}`);
