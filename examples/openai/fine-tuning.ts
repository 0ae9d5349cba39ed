// mock: aiwire
// Pagination: for-await over every fine-tuning job, and page by page with hasNextPage()/getNextPage().
import OpenAI from 'aiwire';

const client = new OpenAI();

const seen: string[] = [];
for await (const job of client.fineTuning.jobs.list({ limit: 3 })) {
  seen.push(job.id);
  console.log(job.id, job.model, job.status);
}

let page = await client.fineTuning.jobs.list({ limit: 3 });
let pages = 1;
let items = page.data.length;
while (page.hasNextPage()) {
  page = await page.getNextPage();
  pages++;
  items += page.data.length;
}
console.log(`${items} jobs on ${pages} page(s)`);

const first = seen[0];
if (!first) throw new Error('no fine-tuning job listed');
if (items !== seen.length) throw new Error(`for-await saw ${seen.length} jobs, the pages ${items}`);

const events = await client.fineTuning.jobs.listEvents(first, { limit: 5 });
for (const event of events.data) console.log(' ', event.level, event.message);
