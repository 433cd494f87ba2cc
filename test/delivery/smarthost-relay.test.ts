import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCredentials } from '../../src/auth/credentials.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { relayThrough, waitFor } from '../helpers/mail.js';
import { freePort } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let dns: TestDnsServer;
let provider: TestServer; // a provider's submission service, smtp.provider.test on 127.0.0.6
let smtpPort: number;
let submissionPort: number;
let submissionsPort: number;

beforeAll(async () => {
  smtpPort = await freePort();
  submissionPort = await freePort();
  submissionsPort = await freePort();
  provider = await startTestServer({
    hostname: 'smtp.provider.test',
    listeners: [
      { protocol: 'smtp', address: '127.0.0.6', port: smtpPort },
      { protocol: 'submission', address: '127.0.0.6', port: submissionPort },
      { protocol: 'submissions', address: '127.0.0.6', port: submissionsPort },
    ],
    domains: [
      { name: 'provider.test', transport: 'mailbox' },
      { name: 'backup.test', transport: 'mailbox' },
    ],
    submission: { requireLocalSender: false },
  });
  const { store } = provider.server.resources;
  const c = await makeCredentials('provider secret');
  await store.addUser('app@provider.test', c.passwordHash, { scram: c.scram });
  await store.addSenderGrant('app@provider.test', '@example.test');
  await store.addUser('anyone@backup.test', '!');
  dns = await startDnsServer({ 'smtp.provider.test': [{ type: 'A', data: '127.0.0.6' }] });
});
afterAll(async () => {
  await provider?.stop();
  await dns?.close();
});

describe('fixed next hops', () => {
  it('sends every remote message through the smarthost, with STARTTLS (verified) and AUTH', async () => {
    const us = await startTestServer({
      hostname: 'mx.local.test',
      relay: { networks: ['127.0.0.0/8'] },
      dns: { servers: [dns.server] },
      delivery: {
        smarthost: {
          host: 'smtp.provider.test',
          port: submissionPort,
          tls: 'required',
          auth: { user: 'app@provider.test', password: 'provider secret' },
          ca: path.join(provider.dataDir, 'tls', 'cert.pem'),
        },
      },
    });
    try {
      await relayThrough(us, 'sender@example.test', 'friend@faraway.test', 'via the next hop', 'hi');
      const queued = await waitFor(async () => {
        const rs = await provider.server.resources.store.listQueue({});
        return rs.find((r) => r.address === 'friend@faraway.test');
      }, 'the message at the smarthost');
      const msg = await provider.server.resources.store.getMessage(queued.messageId);
      expect(msg?.mailFrom).toBe('sender@example.test');
      const body = (await provider.server.resources.blobs.read(msg!.blobRef)).toString();
      expect(body).toMatch(/^Received: from mx\.local\.test\r\n\tby smtp\.provider\.test \(mailroom\) with ESMTPSA /);
    } finally {
      await us.stop();
    }
  });

  it('speaks TLS from the first byte to a smarthost on an implicit-TLS port (RFC 8314)', async () => {
    const us = await startTestServer({
      hostname: 'mx.local.test',
      relay: { networks: ['127.0.0.0/8'] },
      dns: { servers: [dns.server] },
      delivery: {
        smarthost: {
          host: 'smtp.provider.test',
          port: submissionsPort,
          tls: 'implicit',
          auth: { user: 'app@provider.test', password: 'provider secret' },
          ca: path.join(provider.dataDir, 'tls', 'cert.pem'),
        },
      },
    });
    try {
      await relayThrough(us, 'sender@example.test', 'implicit@faraway.test', 'via port 465 style', 'hi');
      const queued = await waitFor(async () => {
        const rs = await provider.server.resources.store.listQueue({});
        return rs.find((r) => r.address === 'implicit@faraway.test');
      }, 'the message at the smarthost');
      const msg = await provider.server.resources.store.getMessage(queued.messageId);
      const body = (await provider.server.resources.blobs.read(msg!.blobRef)).toString();
      expect(body).toMatch(/^Received: from mx\.local\.test\r\n\tby smtp\.provider\.test \(mailroom\) with ESMTPSA /);
    } finally {
      await us.stop();
    }
  });

  it('forwards a relay:HOST:PORT domain to its next hop, accepting any local part', async () => {
    const us = await startTestServer({
      hostname: 'backup-mx.local.test',
      domains: [{ name: 'backup.test', transport: `relay:127.0.0.6:${smtpPort}` }],
    });
    try {
      await relayThrough(us, 'someone@elsewhere.test', 'anyone@backup.test', 'via the next hop', 'hi');
      await waitFor(async () => {
        const { store } = provider.server.resources;
        const user = await store.getUser('anyone@backup.test');
        const box = user ? await store.getMailbox(user.id, 'INBOX') : null;
        return box ? (await store.listMailboxMessages(box.id)).length > 0 : false;
      }, 'the message at the primary');
    } finally {
      await us.stop();
    }
  });
});
