import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let api: ReturnType<typeof apiClient>;
let scanned = 0;
// A stand-in for rspamd's /checkv2: rejects messages that mention SPAM, accepts the rest.
const rspamd = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    scanned++;
    const spam = Buffer.concat(chunks).toString().includes('SPAM');
    res.end(
      JSON.stringify({
        action: spam ? 'reject' : 'no action',
        score: spam ? 20 : 0.1,
        required_score: 15,
        symbols: {},
      }),
    );
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => rspamd.listen(0, '127.0.0.1', resolve));
  const port = (rspamd.address() as AddressInfo).port;
  t = await startTestServer({ scanning: { rspamd: { url: `http://127.0.0.1:${port}/` } } }, { http: true });
  await t.server.resources.store.addUser('alice@example.test', '!');
  api = apiClient(t, await createKey(t, ['send']));
});
afterAll(async () => {
  await t?.stop();
  rspamd.close();
});

describe('content scanning of API mail', () => {
  it('asks the same scanners as SMTP before the commit, and refuses what they reject (422)', async () => {
    const ok = await api.post('/v1/messages', { from: 'a@example.test', to: 'alice@example.test', text: 'hello' });
    expect(ok.status).toBe(202);
    const bad = await api.post('/v1/messages', { from: 'a@example.test', to: 'alice@example.test', text: 'SPAM' });
    expect(bad.status).toBe(422);
    expect(bad.json.error.code).toBe('message_rejected');
    expect(bad.json.error.details.reply).toMatch(/^5\d\d 5\.7\.1 /);
    expect(scanned).toBe(2);
  });
});
