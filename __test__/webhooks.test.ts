/**
 * `client.webhooks.unwrap()` / `verifySignature()` (Standard Webhooks, as openai-node): signatures,
 * tolerance, secrets in both forms, and the typed error for each way a delivery can be wrong.
 */
import { describe, expect, it } from 'vitest';
import { AiwireError, InvalidWebhookSignatureError, OpenAI, signStandardWebhook } from '../src/index.js';

const secret = `whsec_${Buffer.from('a webhook secret of 32 bytes....').toString('base64')}`;
const payload = JSON.stringify({
  id: 'evt_1',
  object: 'event',
  created_at: 1,
  type: 'response.completed',
  data: { id: 'resp_1' },
});
const client = new OpenAI({ apiKey: 'sk-x', baseURL: 'http://127.0.0.1:9', webhookSecret: secret });

function headers(body = payload, at = Math.floor(Date.now() / 1000), key = secret): Record<string, string> {
  return {
    'webhook-id': 'wh_1',
    'webhook-timestamp': String(at),
    'webhook-signature': signStandardWebhook(body, 'wh_1', at, key),
  };
}

describe('webhooks', () => {
  it('unwrap verifies and parses a delivery (headers as a record, Headers or Buffer body)', async () => {
    expect(await client.webhooks.unwrap(payload, headers())).toMatchObject({ type: 'response.completed' });
    const event = await client.webhooks.unwrap(Buffer.from(payload), new Headers(headers()));
    if (event.type !== 'response.completed') throw new Error(`unexpected ${event.type}`);
    const id: string = event.data.id; // typed by the event's \`type\`
    expect(id).toBe('resp_1');
  });

  it('accepts any of several signatures (secret rotation)', async () => {
    const h = headers();
    h['webhook-signature'] = `v1,${Buffer.alloc(32).toString('base64')} ${h['webhook-signature']}`;
    await expect(client.webhooks.verifySignature(payload, h)).resolves.toBeUndefined();
  });

  it('a changed body, a wrong secret or a foreign signature version does not verify', async () => {
    await expect(client.webhooks.unwrap(`${payload} `, headers())).rejects.toThrow(
      InvalidWebhookSignatureError,
    );
    await expect(
      client.webhooks.unwrap(payload, headers(payload, undefined, 'whsec_b3RoZXI=')),
    ).rejects.toThrow(/does not match/);
    const h = headers();
    h['webhook-signature'] = (h['webhook-signature'] as string).replace('v1,', 'v2,');
    await expect(client.webhooks.verifySignature(payload, h)).rejects.toThrow(InvalidWebhookSignatureError);
  });

  it('timestamps more than 300 s away (past or future) are refused; tolerance is settable', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(client.webhooks.verifySignature(payload, headers(payload, now - 301))).rejects.toThrow(
      /too old/,
    );
    await expect(client.webhooks.verifySignature(payload, headers(payload, now + 301))).rejects.toThrow(
      /too new/,
    );
    await expect(
      client.webhooks.verifySignature(payload, headers(payload, now - 299)),
    ).resolves.toBeUndefined();
    await expect(
      client.webhooks.verifySignature(payload, headers(payload, now - 100), secret, 60),
    ).rejects.toThrow(/too old/);
  });

  it('missing headers are named; a missing secret says how to configure it', async () => {
    const h = headers();
    delete h['webhook-timestamp'];
    await expect(client.webhooks.verifySignature(payload, h)).rejects.toThrow(/webhook-timestamp/);
    const noSecret = new OpenAI({ apiKey: 'sk-x', baseURL: 'http://127.0.0.1:9', webhookSecret: null });
    const err = await noSecret.webhooks.unwrap(payload, headers()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AiwireError);
    expect(err).not.toBeInstanceOf(InvalidWebhookSignatureError);
    expect(String(err)).toMatch(/webhookSecret/);
  });

  it('a secret without the whsec_ prefix is used as raw text', async () => {
    const raw = 'plain-text-secret';
    expect((await client.webhooks.unwrap(payload, headers(payload, undefined, raw), raw)).id).toBe('evt_1');
  });
});
