// mock: prism
// Classifying text with the moderation endpoint.
import OpenAI from 'aiwire';

const client = new OpenAI();

const moderation = await client.moderations.create({
  model: 'omni-moderation-latest',
  input: 'I want to hug my cat very tightly.',
});

const result = moderation.results[0];
if (!result) throw new Error('no moderation result');
console.log(moderation.id, 'flagged:', result.flagged);
const flagged = Object.entries(result.categories)
  .filter(([, on]) => on)
  .map(([name]) => name);
console.log('categories:', flagged.join(', ') || 'none');

if (typeof result.flagged !== 'boolean') throw new Error('flagged is not a boolean');
if (typeof result.category_scores.violence !== 'number') throw new Error('no violence score');
