/**
 * Replicate webhooks (`validateWebhook` / `verifyWebhook`, src/providers/replicate/lib/webhooks.ts):
 * replicate-javascript's three call forms, and each way a delivery can be wrong; cross-checked against
 * replicate-javascript 1.4.0's own `validateWebhook` on the same deliveries.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { AiwireError, InvalidWebhookSignatureError } from '../src/core/errors.js';
import { signStandardWebhook } from '../src/core/webhooks.js';
import { validateWebhook, verifyWebhook } from '../src/providers/replicate/lib/webhooks.js';

const replicateJs = createRequire(import.meta.url)('replicate') as {
  validateWebhook: (req: unknown, secret?: unknown) => Promise<boolean>;
};

const secret = `whsec_${Buffer.from('a replicate webhook secret, 32 b').toString('base64')}`;
const other = `whsec_${Buffer.from('another secret entirely.........').toString('base64')}`;
const body = JSON.stringify({ id: 'p1', status: 'succeeded', output: ['https://replicate.delivery/x.png'] });
const now = () => Math.floor(Date.now() / 1000);

function delivery(payload = body, at = now(), key = secret, id = 'msg_1') {
  return {
    id,
    timestamp: String(at),
    signature: signStandardWebhook(payload, id, at, key),
    body: payload,
  };
}

function asHeaders(d: ReturnType<typeof delivery>): Record<string, string> {
  return { 'webhook-id': d.id, 'webhook-timestamp': d.timestamp, 'webhook-signature': d.signature };
}

describe('Replicate validateWebhook', () => {
  it('accepts a valid delivery in all three forms (parts, headers + body, Request)', async () => {
    const d = delivery();
    expect(await validateWebhook(d, secret)).toBe(true);
    expect(await validateWebhook({ ...d, secret })).toBe(true);
    expect(await validateWebhook({ headers: asHeaders(d), body }, secret)).toBe(true);
    expect(
      await validateWebhook({ headers: new Headers(asHeaders(d)), body: Buffer.from(body) }, secret),
    ).toBe(true);
    const req = new Request('https://example.test/hook', { method: 'POST', headers: asHeaders(d), body });
    expect(await validateWebhook(req, secret)).toBe(true);
    // The Request's body is read from a clone: the handler can still read it.
    expect(await req.text()).toBe(body);
    await expect(verifyWebhook(d, secret)).resolves.toBeUndefined();
    // replicate-javascript agrees.
    expect(await replicateJs.validateWebhook({ ...d, secret })).toBe(true);
    expect(await replicateJs.validateWebhook({ headers: asHeaders(d), body }, secret)).toBe(true);
  });

  it('a secret without the whsec_ prefix is read as base64, as replicate-javascript does', async () => {
    const d = delivery();
    expect(await validateWebhook(d, secret.slice('whsec_'.length))).toBe(true);
  });

  it('rejects a tampered body', async () => {
    const d = { ...delivery(), body: body.replace('succeeded', 'failed') };
    expect(await validateWebhook(d, secret)).toBe(false);
    await expect(verifyWebhook(d, secret)).rejects.toThrow(InvalidWebhookSignatureError);
    await expect(verifyWebhook(d, secret)).rejects.toThrow(/does not match/);
    expect(await replicateJs.validateWebhook({ ...d, secret })).toBe(false);
  });

  it('rejects the wrong secret', async () => {
    const d = delivery();
    expect(await validateWebhook(d, other)).toBe(false);
    expect(await replicateJs.validateWebhook({ ...d, secret: other })).toBe(false);
  });

  it('rejects a delivery older than the tolerance (replicate-javascript does not check the time)', async () => {
    const old = delivery(body, now() - 600);
    expect(await validateWebhook(old, secret)).toBe(false);
    await expect(verifyWebhook(old, secret)).rejects.toThrow(/too old/);
    expect(await validateWebhook(old, secret, { toleranceSec: 900 })).toBe(true);
    const future = delivery(body, now() + 600);
    expect(await validateWebhook(future, secret)).toBe(false);
    // The difference: replicate-javascript accepts a replayed 10-minute-old delivery.
    expect(await replicateJs.validateWebhook({ ...old, secret })).toBe(true);
  });

  it('tries every v1 signature (key rotation), ignoring other versions and garbage', async () => {
    const d = delivery();
    const wrong = delivery(body, Number(d.timestamp), other).signature;
    const several = `v2,${d.signature.slice(3)} ${wrong} v1,not-base64!! ${d.signature}`;
    expect(await validateWebhook({ ...d, signature: several }, secret)).toBe(true);
    expect(await validateWebhook({ ...d, signature: `${wrong} v1,AAAA` }, secret)).toBe(false);
  });

  it('a missing secret, header or body is an error, not false (as replicate-javascript)', async () => {
    const d = delivery();
    await expect(validateWebhook(d)).rejects.toThrow(AiwireError);
    await expect(validateWebhook({ ...d, signature: '' }, secret)).rejects.toThrow(
      /Missing required webhook header/,
    );
    await expect(validateWebhook({ ...d, body: '' }, secret)).rejects.toThrow(
      /Missing required webhook body/,
    );
    await expect(validateWebhook({ headers: {}, body }, secret)).rejects.toThrow(
      InvalidWebhookSignatureError,
    );
  });

  it('reads a streamed body', async () => {
    const d = delivery();
    const streamed = new Blob([body]).stream();
    expect(await validateWebhook({ headers: asHeaders(d), body: streamed }, secret)).toBe(true);
  });
});
