import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { apiClient, createKey } from '../helpers/http.js';
import { waitFor } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let dns: TestDnsServer;
let api: ReturnType<typeof apiClient>;

const send = async (to: string | string[], extra: Record<string, unknown> = {}) => {
  const res = await api.post('/v1/messages', { from: 'app@example.test', to, subject: 's', text: 'b', ...extra });
  expect(res.status).toBe(202);
  return res.json.id as string;
};

beforeAll(async () => {
  // down.test points at a loopback address where nothing listens: deliveries there are deferred.
  dns = await startDnsServer({ 'down.test': [{ type: 'A', data: '127.0.0.9' }] });
  t = await startTestServer(
    { dns: { servers: [dns.server] }, delivery: { port: 2599, connectTimeout: 1000 }, queue: { retry: ['1h'] } },
    { http: true },
  );
  for (const u of ['alice', 'bob']) await t.server.resources.store.addUser(`${u}@example.test`, '!');
  api = apiClient(t, await createKey(t, ['admin']));
});
afterAll(async () => {
  await t?.stop();
  await dns?.close();
});

describe('GET /v1/messages', () => {
  it('lists newest first with filters and cursor pagination', async () => {
    const a = await send('alice@example.test', { tags: ['news'], subject: 'first' });
    const b = await send(['bob@example.test', 'alice@example.test'], { tags: ['billing'], metadata: { n: '2' } });
    const c = await send('bob@example.test', { tags: ['news'] });
    await waitFor(
      async () => (await api.get(`/v1/messages?status=delivered&tag=news`)).json.data.length === 2,
      'delivered',
    );
    const all = await api.get('/v1/messages');
    expect(all.status).toBe(200);
    expect(all.json.data.slice(0, 3).map((m: { id: string }) => m.id)).toEqual([c, b, a]);
    const ids = async (q: string) => (await api.get(`/v1/messages?${q}`)).json.data.map((m: { id: string }) => m.id);
    expect(await ids('tag=news')).toEqual([c, a]);
    expect(await ids('tag=billing&recipient=ALICE@example.test')).toEqual([b]);
    expect(await ids('recipient=bob@example.test')).toEqual([c, b]);
    expect(await ids(`until=${new Date(Date.now() - 3_600_000).toISOString()}`)).toEqual([]);
    const page1 = await api.get('/v1/messages?tag=news&limit=1');
    expect(page1.json.data.map((m: { id: string }) => m.id)).toEqual([c]);
    expect(page1.json.next_cursor).toMatch(/^\d+$/);
    const page2 = await api.get(`/v1/messages?tag=news&limit=1&cursor=${page1.json.next_cursor}`);
    expect(page2.json.data.map((m: { id: string }) => m.id)).toEqual([a]);
    const item = all.json.data.find((m: { id: string }) => m.id === b);
    expect(item).toMatchObject({ from: 'app@example.test', subject: 's', tags: ['billing'], metadata: { n: '2' } });
    expect(item.recipients.map((r: { address: string; state: string }) => [r.address, r.state])).toEqual([
      ['bob@example.test', 'delivered'],
      ['alice@example.test', 'delivered'],
    ]);
  });

  it('answers 400 for bad filters', async () => {
    const res = await api.get('/v1/messages?status=lost&limit=1000');
    expect(res.status).toBe(400);
    expect(res.json.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['limit', 'status']);
  });
});

describe('GET /v1/messages/:id', () => {
  it('shows per-recipient state and the timeline; 404 for an unknown id', async () => {
    const id = await send('alice@example.test');
    const msg = await waitFor(async () => {
      const r = await api.get(`/v1/messages/${id}`);
      return r.json.timeline?.some((e: { type: string }) => e.type === 'delivered') ? r.json : null;
    }, 'delivered');
    expect(msg.timeline.map((e: { type: string }) => e.type)).toEqual(['received', 'delivered']);
    expect(msg.timeline[0].detail).toMatchObject({ listener: 'http', from: 'app@example.test' });
    expect(msg.recipients[0]).toMatchObject({ address: 'alice@example.test', state: 'delivered' });
    const missing = await api.get('/v1/messages/ZZZZZZZZZZ');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('not_found');
    expect((await api.get('/v1/messages/not-an-id')).status).toBe(400);
  });
});

describe('queue operations', () => {
  it('holds, releases and deletes a queued message; raw while it is queued, 404 after', async () => {
    const id = await send('alice@example.test', { send_at: new Date(Date.now() + 3_600_000).toISOString() });
    const raw = await api.get(`/v1/messages/${id}/raw`);
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toBe('message/rfc822');
    expect(raw.text).toMatch(/^Received: from api\r\n/);
    const hold = await api.post(`/v1/messages/${id}/hold`);
    expect(hold.status).toBe(200);
    expect(hold.json.changed).toEqual([{ address: 'alice@example.test', id: expect.any(Number), state: 'held' }]);
    expect((await api.post(`/v1/messages/${id}/hold`)).json.changed).toEqual([]);
    const held = await api.get(`/v1/messages/${id}`);
    expect(held.json.recipients[0].state).toBe('held');
    const release = await api.post(`/v1/messages/${id}/release`);
    expect(release.json.changed[0].state).toBe('queued');
    const other = await send('bob@example.test', { send_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await api.del(`/v1/messages/${other}`)).status).toBe(204);
    expect((await api.get(`/v1/messages/${other}/raw`)).status).toBe(404);
    expect((await api.del(`/v1/messages/${other}`)).status).toBe(404);
    const types = await waitFor(async () => {
      const tl = (await api.get(`/v1/messages/${other}`)).json.timeline.map((e: { type: string }) => e.type);
      return tl.length === 2 ? tl : null;
    }, 'the deleted event');
    expect(types).toEqual(['received', 'deleted']);
    expect((await api.post('/v1/messages/ZZZZZZZZZZ/hold')).status).toBe(404);
  });

  it('retries a deferred recipient at once', async () => {
    const id = await send('someone@down.test');
    await waitFor(
      async () => (await api.get(`/v1/messages/${id}`)).json.recipients[0].state === 'deferred',
      'deferral',
    );
    const res = await api.post(`/v1/messages/${id}/retry`);
    expect(res.status).toBe(200);
    expect(res.json.changed.map((r: { state: string }) => r.state)).toEqual(['queued']);
    const msg = await waitFor(async () => {
      const m = (await api.get(`/v1/messages/${id}`)).json;
      return m.timeline.filter((e: { type: string }) => e.type === 'deferred').length === 2 ? m : null;
    }, 'second attempt');
    const types = msg.timeline.map((e: { type: string }) => e.type);
    expect(types).toEqual(['received', 'deferred', 'queued', 'deferred']);
    expect(msg.timeline[1].detail.reply).toMatch(/^4\d\d /);
  });
});

describe('GET /v1/stats', () => {
  it('counts events over a window in buckets, with rates', async () => {
    const res = await api.get('/v1/stats?window=1h');
    expect(res.status).toBe(200);
    expect(res.json.bucket_seconds).toBe(300);
    expect(res.json.series).toHaveLength(12);
    expect(res.json.totals.delivered).toBeGreaterThanOrEqual(4);
    expect(res.json.totals.received).toBeGreaterThanOrEqual(5);
    expect(res.json.totals.deferred).toBeGreaterThanOrEqual(1);
    const sum = res.json.series.reduce((n: number, b: { delivered: number }) => n + b.delivered, 0);
    expect(sum).toBe(res.json.totals.delivered);
    expect(res.json.rates.delivered).toBe(1);
    expect((await api.get('/v1/stats?window=2h')).status).toBe(400);
  });
});
