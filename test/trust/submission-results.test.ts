// Authenticated submissions are not checked, but a user cannot plant results that claim to be ours.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCredentials } from '../../src/auth/index.js';
import { inbox } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { headerValues, message, transact } from './helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ inbound: {} });
  const { store } = t.server.resources;
  const creds = await makeCredentials('a long passphrase');
  await store.addUser('alice@example.test', creds.passwordHash, { scram: creds.scram });
  await store.addUser('bob@example.test', '!');
});
afterAll(() => t?.stop());

describe('Authentication-Results in submitted mail', () => {
  it('fields claiming our authserv-id are removed, others kept, and nothing is added', async () => {
    const c = await RawSmtp.connect(t.port('submissions'), { tls: true });
    await c.read();
    await c.cmd('EHLO laptop.test');
    const b64 = Buffer.from('\0alice@example.test\0a long passphrase').toString('base64');
    expect((await c.cmd(`AUTH PLAIN ${b64}`)).code).toBe(235);
    const data = [
      'Authentication-Results: mx.test; dmarc=pass header.from=bank.example',
      'Authentication-Results: elsewhere.example; spf=pass',
      message('alice@example.test', 'bob@example.test', 'planted'),
    ].join('\r\n');
    const r = await transact(c, 'alice@example.test', ['bob@example.test'], data);
    c.close();
    expect(r.end?.code, r.end?.raw).toBe(250);
    const [got] = await inbox(t, 'bob@example.test');
    expect(headerValues(got as Buffer, 'Authentication-Results')).toEqual(['elsewhere.example; spf=pass']);
  });
});
