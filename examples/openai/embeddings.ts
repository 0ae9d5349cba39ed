// mock: aiwire
// Embeddings: vectors for several inputs, then cosine similarity between them.
import OpenAI from 'aiwire';

const client = new OpenAI();

const inputs = ['The food was delicious', 'The meal was tasty', 'The train is late'];
const response = await client.embeddings.create({
  model: 'text-embedding-3-small',
  input: inputs,
  dimensions: 256,
});

const vectors = response.data.map((d) => d.embedding);
const cosine = (a: number[], b: number[]) => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return dot / Math.sqrt(na * nb);
};

for (let i = 1; i < inputs.length; i++) {
  console.log(`"${inputs[0]}" vs "${inputs[i]}": ${cosine(vectors[0] ?? [], vectors[i] ?? []).toFixed(3)}`);
}
console.log('usage:', response.usage);

if (vectors.length !== 3 || vectors.some((v) => v.length !== 256)) throw new Error('wrong vector shapes');
if (Math.abs(cosine(vectors[0] ?? [], vectors[0] ?? []) - 1) > 1e-6) throw new Error('not a unit vector');
