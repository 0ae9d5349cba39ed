// Per-request headers as openai-node has them: a value replaces the client default of the same name,
// `null` removes the default for that request only, `undefined` changes nothing.
import type { IncomingHttpHeaders } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { client, completion, messages } from './helpers/client.js';
import { loopbackServer } from './helpers/server.js';

let baseURL: string;
let seen: IncomingHttpHeaders[] = [];

const peer = loopbackServer((req, res) => {
  seen.push(req.headers);
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(completion));
  });
});

beforeAll(() => {
  baseURL = peer.baseURL;
});

describe('per-request headers', () => {
  it('null removes a client default for that request only; a value replaces it; undefined is ignored', async () => {
    seen = [];
    const openai = client(baseURL, {
      organization: 'org-default',
      defaultHeaders: { 'X-Team': 'search', 'X-Trace': 'on' },
    });
    await openai.chat.completions.create(
      { model: 'm', messages },
      { headers: { 'OpenAI-Organization': null, 'x-team': 'ranking', 'X-Trace': undefined } },
    );
    await openai.chat.completions.create({ model: 'm', messages });
    const [first, second] = seen;
    expect(first?.['openai-organization']).toBeUndefined();
    expect(first?.['x-team']).toBe('ranking');
    expect(first?.['x-trace']).toBe('on');
    expect(first?.authorization).toBe('Bearer sk-test-secret-0123456789');
    expect(second?.['openai-organization']).toBe('org-default');
    expect(second?.['x-team']).toBe('search');
  });

  it('removing a header that is not a default, or with an odd name, is harmless', async () => {
    seen = [];
    const r = await client(baseURL).chat.completions.create(
      { model: 'm', messages },
      { headers: { 'x-not-there': null, 'bad name': null } },
    );
    expect(r.choices[0]?.message.content).toBe('ok');
    expect(seen[0]?.authorization).toBe('Bearer sk-test-secret-0123456789');
  });
});
