import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { mailboxTexts, relayThrough, waitFor } from '../helpers/mail.js';
import { freePort } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { slowPeer } from '../helpers/slow-peer.js';
import { RawSmtp } from '../helpers/smtp-client.js';

let dns: TestDnsServer;
let peer: TestServer; // the "remote" mail server, mx.remote.test on 127.0.0.2
let us: TestServer;

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
    // Two MX hosts: the preferred one does not answer, the other does.
    'fallback.test': [
      { type: 'MX', data: { preference: 5, exchange: 'dead.fallback.test' } },
      { type: 'MX', data: { preference: 10, exchange: 'mx.remote.test' } },
    ],
    'dead.fallback.test': [{ type: 'A', data: '127.0.0.9' }],
    'nomail.test': [{ type: 'MX', data: { preference: 0, exchange: '' } }],
    'down.test': [{ type: 'A', data: '127.0.0.9' }],
  });
  us = await startTestServer({
    hostname: 'mx.local.test',
    relay: { networks: ['127.0.0.0/8'] },
    dns: { servers: [dns.server] },
    delivery: { port, connectTimeout: 2000 },
    queue: { retry: ['1h'] },
  });
  await us.server.resources.store.addUser('sender@example.test', '!');
  await peer.server.resources.store.addDomain('fallback.test', 'mailbox');
  await peer.server.resources.store.addUser('friend@fallback.test', '!');
});
afterAll(async () => {
  await us?.stop();
  await peer?.stop();
  await dns?.close();
});

describe('delivery to remote servers', () => {
  it('looks up the MX and delivers over SMTP', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@remote.test', 'over the wire');
    const got = await waitFor(
      async () => (await mailboxTexts(peer, 'friend@remote.test')).find((m) => m.includes('over the wire')),
      'delivery',
    );
    expect(got).toMatch(/^Received: from mx\.local\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.remote\.test/);
    // The timeline outlives the queue entry (finished messages are cleaned up).
    const delivered = await waitFor(
      async () => (await us.server.resources.store.listEvents(id)).find((e) => e.type === 'delivered'),
      'the delivered event',
    );
    expect(delivered.detail.reply).toMatch(/^250 /);
    expect(delivered.detail.transport).toBe('remote');
  });

  it('falls back to the next MX when the preferred one does not answer', async () => {
    await relayThrough(us, 'sender@example.test', 'friend@fallback.test', 'second choice');
    await waitFor(
      async () => (await mailboxTexts(peer, 'friend@fallback.test')).find((m) => m.includes('second choice')),
      'delivery',
    );
  });

  it('bounces a remote 5xx at once and tells the sender with a DSN', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'nobody@remote.test', 'will bounce');
    const dsn = await waitFor(
      async () =>
        (await mailboxTexts(us, 'sender@example.test')).find((m) => m.includes(id) || m.includes('nobody@remote.test')),
      'the DSN',
    );
    expect(dsn).toMatch(/Content-Type: multipart\/report; report-type=delivery-status/i);
    expect(dsn).toMatch(/Action: failed/);
    expect(dsn).toMatch(/Status: 5\.1\.1/);
    expect(dsn).toMatch(/Final-Recipient: rfc822; ?nobody@remote\.test/);
  });

  it('bounces mail for a null-MX domain with 5.1.10', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'x@nomail.test', 'null mx');
    const bounced = await waitFor(
      async () => (await us.server.resources.store.listEvents(id)).find((e) => e.type === 'bounced'),
      'the bounced event',
    );
    expect(bounced.detail.reply).toMatch(/^556 5\.1\.10 /);
    await waitFor(
      async () => (await mailboxTexts(us, 'sender@example.test')).find((m) => m.includes('x@nomail.test')),
      'the DSN',
    );
  });

  it('defers when no server answers', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'someone@down.test', 'nobody home');
    const [r] = await waitFor(async () => {
      const rs = await us.server.resources.store.getRecipients(id);
      return rs[0]?.state === 'deferred' ? rs : null;
    }, 'deferred');
    expect(r?.lastReply).toMatch(/^451 4\.4\.1 /);
  });
});

describe('success notices (NOTIFY=SUCCESS, RFC 3461 4.2)', () => {
  async function sendNotify(to: string, subject: string): Promise<void> {
    const c = await RawSmtp.connect(us.port('smtp'));
    await c.read();
    await c.cmd('EHLO app.test');
    await c.cmd('MAIL FROM:<sender@example.test>');
    expect((await c.cmd(`RCPT TO:<${to}> NOTIFY=SUCCESS`)).code).toBe(250);
    await c.cmd('DATA');
    c.write(`From: sender@example.test\r\nSubject: ${subject}\r\n\r\nx\r\n.\r\n`);
    expect((await c.read()).code).toBe(250);
    c.close();
  }

  it('sends a "relayed" notice when the next hop does not offer DSN', async () => {
    const peerNoDsn = slowPeer(0);
    const port = await new Promise<number>((r) =>
      peerNoDsn.server.listen(0, '127.0.0.10', () => r((peerNoDsn.server.address() as { port: number }).port)),
    );
    dns.set('nodsn.test', [{ type: 'MX', data: { preference: 10, exchange: 'mx.nodsn.test' } }]);
    dns.set('mx.nodsn.test', [{ type: 'A', data: '127.0.0.10' }]);
    const local = await startTestServer({
      hostname: 'mx.notify.test',
      relay: { networks: ['127.0.0.0/8'] },
      dns: { servers: [dns.server] },
      delivery: { port, connectTimeout: 2000 },
    });
    try {
      await local.server.resources.store.addUser('sender@example.test', '!');
      const c = await RawSmtp.connect(local.port('smtp'));
      await c.read();
      await c.cmd('EHLO app.test');
      await c.cmd('MAIL FROM:<sender@example.test>');
      await c.cmd('RCPT TO:<someone@nodsn.test> NOTIFY=SUCCESS');
      await c.cmd('DATA');
      c.write('From: sender@example.test\r\nSubject: relayed-please\r\n\r\nx\r\n.\r\n');
      expect((await c.read()).code).toBe(250);
      c.close();
      const dsn = await waitFor(
        async () => (await mailboxTexts(local, 'sender@example.test')).find((m) => m.includes('someone@nodsn.test')),
        'the relayed notice',
      );
      expect(dsn).toMatch(/Action: relayed/);
    } finally {
      await local.stop();
      peerNoDsn.server.close();
    }
  });

  it('leaves the success notice to a next hop that offers DSN', async () => {
    await sendNotify('friend@remote.test', 'notify-passed-on');
    await waitFor(
      async () => (await mailboxTexts(peer, 'friend@remote.test')).find((m) => m.includes('notify-passed-on')),
      'delivery',
    );
    const ours = (await mailboxTexts(us, 'sender@example.test')).filter((m) => /Action: relayed/.test(m));
    expect(ours).toEqual([]);
  });
});

describe('several recipients at one domain', () => {
  it('go in one transaction, split where the remote says 452 too many recipients', async () => {
    // Every remote server listens on the same port (delivery.port), each on its own loopback address.
    const port = peer.server.listeners[0]?.port as number;
    const batch = await startTestServer({
      hostname: 'mx.batch.test',
      listeners: [{ protocol: 'smtp', address: '127.0.0.11', port }],
      domains: [{ name: 'batch.test', transport: 'mailbox' }],
      limits: { recipients: 2 },
    });
    try {
      const users = ['a', 'b', 'c', 'd', 'e'].map((n) => `${n}@batch.test`);
      for (const u of users) await batch.server.resources.store.addUser(u, '!');
      dns.set('batch.test', [{ type: 'MX', data: { preference: 10, exchange: 'mx.batch.test' } }]);
      dns.set('mx.batch.test', [{ type: 'A', data: '127.0.0.11' }]);
      const c = await RawSmtp.connect(us.port('smtp'));
      await c.read();
      await c.cmd('EHLO app.test');
      await c.cmd('MAIL FROM:<sender@example.test>');
      for (const u of users) expect((await c.cmd(`RCPT TO:<${u}>`)).code).toBe(250);
      await c.cmd('DATA');
      c.write('From: sender@example.test\r\nSubject: to five\r\n\r\nx\r\n.\r\n');
      expect((await c.read()).code).toBe(250);
      c.close();
      const refs = new Set<string>();
      for (const u of users) {
        await waitFor(async () => (await mailboxTexts(batch, u)).length > 0, `delivery to ${u}`);
        const { store } = batch.server.resources;
        const box = await store.getMailbox((await store.getUser(u))!.id, 'INBOX');
        for (const m of await store.listMailboxMessages(box!.id)) refs.add(m.blobRef);
      }
      // Five recipients, at most two per transaction: three transactions, so three stored messages.
      expect(refs.size).toBe(3);
    } finally {
      await batch.stop();
    }
  });
});
