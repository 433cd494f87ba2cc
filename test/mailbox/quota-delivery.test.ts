import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvents, relayThrough } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ relay: { networks: ['127.0.0.0/8'] }, mailbox: { quota: '1KB' } });
  const { store } = t.server.resources;
  await store.addUser('full@example.test', 'h');
  await store.addUser('roomy@example.test', 'h', { quotaBytes: 1_000_000 });
});
afterAll(async () => {
  await t.stop();
});

describe('delivery over quota', () => {
  it('defers with 452 4.2.2 Mailbox full, and delivers to a user with room', async () => {
    const log = recordEvents(t);
    const big = 'x'.repeat(2000);
    const full = await relayThrough(t, 'a@example.net', 'full@example.test', 'too big', big);
    const roomy = await relayThrough(t, 'a@example.net', 'roomy@example.test', 'fits', big);
    const deferred = await log.next('deferred', (e) => e.messageId === full);
    expect(JSON.stringify(deferred.detail)).toContain('452 4.2.2 Mailbox full');
    await log.next('delivered', (e) => e.messageId === roomy);
    const [r] = await t.server.resources.store.getRecipients(full);
    expect(r?.state).toBe('deferred');
    expect(r?.lastReply).toBe('452 4.2.2 Mailbox full');
    log.stop();
  });
});
