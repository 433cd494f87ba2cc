import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCredentials } from '../../src/auth/credentials.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

const PASSWORD = 'correct horse battery staple';
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ domains: [{ name: 'example.test', transport: 'mailbox' }] });
  const { store } = t.server.resources;
  const alice = await makeCredentials(PASSWORD);
  await store.addUser('alice@example.test', alice.passwordHash, { scram: alice.scram });
  await store.addUser('bob@example.test', '!');
  await store.addSuppression({
    address: 'gone@remote.test',
    reason: 'hard_bounce',
    detail: null,
    messageId: null,
    createdAt: 1,
  });
  await store.addSuppression({
    address: 'bob@example.test',
    reason: 'complaint',
    detail: null,
    messageId: null,
    createdAt: 1,
  });
});
afterAll(() => t.stop());

describe('suppressions over SMTP', () => {
  it('refuses a suppressed recipient of an authenticated submission at RCPT', async () => {
    const c = await RawSmtp.connect(t.port('submission'));
    await c.read();
    await c.cmd('EHLO client.test');
    await c.cmd('STARTTLS');
    await c.startTls();
    await c.cmd('EHLO client.test');
    const auth = await c.cmd(`AUTH PLAIN ${Buffer.from(`\0alice@example.test\0${PASSWORD}`).toString('base64')}`);
    expect(auth.code).toBe(235);
    expect((await c.cmd('MAIL FROM:<alice@example.test>')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<gone@remote.test>')).raw).toBe(
      '550 5.7.1 Recipient address is suppressed (hard_bounce)\r\n',
    );
    expect((await c.cmd('RCPT TO:<other@remote.test>')).code).toBe(250);
    c.close();
  });

  it('does not refuse mail from other servers to a suppressed local address', async () => {
    const c = await RawSmtp.connect(t.port('smtp'));
    await c.read();
    await c.cmd('EHLO mx.elsewhere.test');
    expect((await c.cmd('MAIL FROM:<x@elsewhere.test>')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<bob@example.test>')).code).toBe(250);
    c.close();
  });
});
