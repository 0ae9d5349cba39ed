// mock: aiwire
// Receiving webhooks: an HTTP handler verifies and parses deliveries with client.webhooks.unwrap().
// The test delivery is signed with signStandardWebhook, as OpenAI signs real ones (Standard Webhooks).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { signStandardWebhook } from 'aiwire';

const client = new OpenAI(); // webhookSecret from OPENAI_WEBHOOK_SECRET

const received: string[] = [];
const server = http.createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  try {
    const event = await client.webhooks.unwrap(body, req.headers);
    if (event.type === 'response.completed') {
      console.log('response completed:', event.data.id);
    }
    received.push(event.type);
    res.writeHead(200).end();
  } catch (err) {
    if (err instanceof OpenAI.InvalidWebhookSignatureError) {
      console.log('rejected:', err.message);
      res.writeHead(400).end();
    } else {
      res.writeHead(500).end();
    }
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/openai`;

// What OpenAI would send when a background response finishes.
async function deliver(payload: string, secret: string): Promise<number> {
  const id = `wh_${randomUUID()}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook(payload, id, timestamp, secret),
    },
    body: payload,
  });
  return res.status;
}

const payload = JSON.stringify({
  id: 'evt_685343a1381c819085d44c354e1b330e',
  object: 'event',
  created_at: Math.floor(Date.now() / 1000),
  type: 'response.completed',
  data: { id: 'resp_abc123' },
});
const secret = process.env.OPENAI_WEBHOOK_SECRET ?? '';
const good = await deliver(payload, secret);
const forged = await deliver(payload, 'whsec_bm90IHRoZSByaWdodCBzZWNyZXQ=');
server.close();

console.log(`signed delivery -> ${good}, forged delivery -> ${forged}`);
if (good !== 200 || forged !== 400) throw new Error('webhook verification did not behave');
if (received.join() !== 'response.completed') throw new Error(`received ${received.join()}`);
