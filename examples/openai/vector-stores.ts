// mock: prism
// Vector stores: create one, attach an uploaded file, list its files, search it, then delete it.
import OpenAI from 'aiwire';

const client = new OpenAI();

const store = await client.vectorStores.create({
  name: 'Support FAQ',
  expires_after: { anchor: 'last_active_at', days: 7 },
});
console.log('vector store', store.id, store.status);

const attached = await client.vectorStores.files.create(store.id, { file_id: 'file-abc123' });
console.log('attached', attached.id, attached.status);

let files = 0;
for await (const file of client.vectorStores.files.list(store.id, { limit: 20 })) {
  files++;
  console.log('-', file.id, file.status);
  if (files >= 20) break;
}

const results = await client.vectorStores.search(store.id, { query: 'How do I reset my password?' });
for (const hit of results.data) console.log('hit', hit.filename, hit.score);

const deleted = await client.vectorStores.delete(store.id);
console.log('deleted', deleted.id, deleted.deleted);

if (!store.id || !attached.id || files === 0) throw new Error('vector store calls returned nothing');
if (deleted.object !== 'vector_store.deleted') throw new Error(`object is ${deleted.object}`);
