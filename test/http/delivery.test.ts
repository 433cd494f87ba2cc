import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { apiClient, createKey } from '../helpers/http.js';
import { mailboxTexts, waitFor } from '../helpers/mail.js';
import { freePort } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let dns: TestDnsServer;
let peer: TestServer; // mx.remote.test on 127.0.0.2
let us: TestServer;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  const port = await freePort();
  peer = await startTestServer({
    hostname: 'mx.remote.test',
    listeners: [{ protocol: 'smtp', address: '127.0.0.2', port }],
    domains: [{ name: 'remote.test', transport: 'mailbox' }],
  });
  await peer.server.resources.store.addUser('friend@remote.test', '!');
  dns = await startDnsServer({
    'remote.test': [{ type: 'MX', data: { preference: 10, exchange: 'mx.remote.test' } }],
    'mx.remote.test': [{ type: 'A', data: '127.0.0.2' }],
  });
  us = await startTestServer(
    {
      hostname: 'mx.local.test',
      dns: { servers: [dns.server] },
      delivery: { port, connectTimeout: 2000 },
      queue: { retry: ['1h'] },
    },
    { http: true },
  );
  await us.server.resources.store.addUser('app@example.test', '!');
  api = apiClient(us, await createKey(us, ['send', 'read', 'suppressions']));
});
afterAll(async () => {
  await us?.stop();
  await peer?.stop();
  await dns?.close();
});

describe('a message sent over HTTP', () => {
  it('is delivered to the remote server and its timeline shows each step with the remote reply and TLS', async () => {
    const res = await api.post('/v1/messages', {
      from: 'app@example.test',
      to: 'friend@remote.test',
      subject: 'over http and smtp',
      text: 'hello remote',
    });
    expect(res.status).toBe(202);
    const id = res.json.id as string;
    const got = await waitFor(
      async () => (await mailboxTexts(peer, 'friend@remote.test')).find((m) => m.includes('over http and smtp')),
      'delivery',
    );
    expect(got).toMatch(/^Received: from mx\.local\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.remote\.test/);
    expect(got).toContain(`with HTTP id ${id}`);
    const msg = await waitFor(async () => {
      const m = (await api.get(`/v1/messages/${id}`)).json;
      return m.timeline.some((e: { type: string }) => e.type === 'delivered') ? m : null;
    }, 'the delivered event');
    expect(msg.timeline.map((e: { type: string }) => e.type)).toEqual(['received', 'delivered']);
    const delivered = msg.timeline[1];
    expect(delivered.recipient).toBe('friend@remote.test');
    expect(delivered.detail.reply).toMatch(/^250 /);
    expect(delivered.detail.transport).toBe('remote');
    expect(delivered.detail.remoteMta).toBe('mx.remote.test [127.0.0.2]');
    expect(delivered.detail.tls).toMatchObject({ version: expect.stringMatching(/^TLSv1\.[23]$/) });
    expect(msg.recipients).toEqual([
      expect.objectContaining({
        address: 'friend@remote.test',
        state: 'delivered',
        last_reply: delivered.detail.reply,
      }),
    ]);
  });

  it('suppresses an address that hard-bounced, and refuses it on the next send', async () => {
    const first = await api.post('/v1/messages', { from: 'app@example.test', to: 'nobody@remote.test', text: 'x' });
    expect(first.status).toBe(202);
    const s = await waitFor(async () => {
      const r = await api.get('/v1/suppressions/nobody@remote.test');
      return r.status === 200 ? r.json : null;
    }, 'the suppression');
    expect(s).toMatchObject({ address: 'nobody@remote.test', reason: 'hard_bounce', message_id: first.json.id });
    expect(s.detail).toMatch(/^550 5\.1\.1 /);
    const bounced = await waitFor(async () => {
      const m = (await api.get(`/v1/messages/${first.json.id}`)).json;
      return m.timeline.find((e: { type: string }) => e.type === 'bounced');
    }, 'the bounced event');
    expect(bounced.detail.reply).toBe(s.detail);
    const again = await api.post('/v1/messages', { from: 'app@example.test', to: 'nobody@remote.test', text: 'y' });
    expect(again.status).toBe(422);
    expect(again.json.error.details.recipients[0]).toMatchObject({
      status: 'rejected',
      reason: 'suppressed',
      reply: '550 5.7.1 Recipient address is suppressed (hard_bounce)',
    });
    const list = await api.get('/v1/suppressions');
    expect(list.json.data.map((x: { address: string }) => x.address)).toEqual(['nobody@remote.test']);
    expect((await api.del('/v1/suppressions/nobody@remote.test')).status).toBe(204);
    expect((await api.del('/v1/suppressions/nobody@remote.test')).status).toBe(404);
    expect((await api.get('/v1/suppressions/nobody@remote.test')).status).toBe(404);
    expect((await api.post('/v1/suppressions', { address: 'not-an-address' })).status).toBe(400);
  });
});
