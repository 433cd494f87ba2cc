import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mailroom, MailroomError } from '../../sdk/src/index.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let dns: TestDnsServer;
let mr: Mailroom;

beforeAll(async () => {
  // nowhere.test does not exist: delivery there bounces at once.
  dns = await startDnsServer({});
  t = await startTestServer({ dns: { servers: [dns.server] } }, { http: true });
  mr = new Mailroom({ baseUrl: `http://127.0.0.1:${t.port('http')}`, apiKey: await createKey(t, ['admin']) });
});
afterAll(async () => {
  await t?.stop();
  await dns?.close();
});

describe('waitFor a state that can no longer come', () => {
  it('rejects with unexpected_state once every recipient bounced, and resolves when waiting for the bounce', async () => {
    const { id } = await mr.send({ from: 'app@example.test', to: 'someone@nowhere.test', text: 'x' });
    const err = await mr.waitFor(id, 'delivered', { timeout: 20_000, interval: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MailroomError);
    expect(err).toMatchObject({ status: 0, code: 'unexpected_state' });
    const bounced = await mr.waitFor(id, 'bounced', { interval: 50 });
    expect(bounced.recipients[0]?.last_reply).toMatch(/^550 5\.1\.2 /);
  });
});
