import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, createKey } from '../helpers/http.js';
import { inbox } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  t = await startTestServer({}, { http: true });
  await t.server.resources.store.addUser('alice@example.test', '!');
  await t.server.resources.store.addUser('bob@example.test', '!');
  api = apiClient(t, await createKey(t, ['send', 'read']));
});
afterAll(async () => {
  await t?.stop();
});

describe('POST /v1/messages', () => {
  it('accepts JSON, builds the MIME message and delivers it through the queue', async () => {
    const res = await api.post('/v1/messages', {
      from: 'Sender <app@example.test>',
      to: ['alice@example.test'],
      bcc: 'bob@example.test',
      subject: 'Hello from the API',
      text: 'plain body',
      html: '<p>html body</p>',
      tags: ['welcome'],
      metadata: { user: '42' },
    });
    expect(res.status).toBe(202);
    expect(res.json.status).toBe('queued');
    expect(res.json.id).toMatch(/^[0-9A-Z]+$/);
    expect(res.json.recipients).toEqual([
      { address: 'alice@example.test', status: 'accepted', ids: [expect.any(Number)] },
      { address: 'bob@example.test', status: 'accepted', ids: [expect.any(Number)] },
    ]);
    const [alice] = await inbox(t, 'alice@example.test');
    const text = alice?.toString() ?? '';
    expect(text).toMatch(/^Received: from api\r\n\tby mx\.test \(mailroom\) with HTTP id /);
    expect(text).toContain('Subject: Hello from the API');
    expect(text).toMatch(/Message-ID: <[^>]+>/);
    expect(text).not.toMatch(/^Bcc:/im);
    expect(text).toContain('multipart/alternative');
  });
});
