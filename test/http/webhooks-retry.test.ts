import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, createKey } from '../helpers/http.js';
import { waitFor } from '../helpers/mail.js';
import { startTestServer, type TestServer, tempDir } from '../helpers/server.js';
import { startReceiver } from '../helpers/webhook-receiver.js';

// A fake clock: attempts become due only when a test moves it. Retries wait 1 m then 2 m; a
// delivery gives up when the next attempt would be more than 3 m after the first (3 attempts).
let clock = Date.now();
const now = () => clock;
const webhooks = { retry: ['1m', '2m'], maxAge: '3m', disableAfterFailures: 2, poll: '20ms' };

let t: TestServer;
let api: ReturnType<typeof apiClient>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  receiver = await startReceiver();
  t = await startTestServer({ http: { webhooks } }, { http: true, now });
  api = apiClient(t, await createKey(t, ['webhooks']));
});
afterAll(async () => {
  await t?.stop();
  await receiver?.close();
});

/** The newest delivery of an endpoint once `ready` holds for it. */
async function newest(id: string, ready: (d: Record<string, unknown>) => boolean, what: string) {
  return waitFor(async () => {
    const res = await api.get(`/v1/webhooks/${id}/deliveries?limit=1`);
    const d = res.json?.data?.[0];
    return d && ready(d) ? d : null;
  }, what);
}

/** Let a delivery run through its three failing attempts. */
async function failThreeTimes(id: string): Promise<Record<string, unknown>> {
  await newest(id, (d) => d.attempts === 1, 'the first attempt');
  clock += 60_000;
  await newest(id, (d) => d.attempts === 2, 'the second attempt');
  clock += 120_000;
  return newest(id, (d) => d.status === 'failed', 'the delivery to fail');
}

describe('retries', () => {
  it('retries a receiver answering 500 with growing delays, then records the success', async () => {
    receiver.respond(500, '/retry');
    const created = await api.post('/v1/webhooks', { url: receiver.url('/retry'), events: ['complained'] });
    t.server.events.emit('complained', 'MSG1', { feedback: 'abuse' }, 'carol@example.test');

    const first = await newest(created.json.id, (d) => d.attempts === 1, 'the first attempt');
    expect(first).toMatchObject({
      status: 'pending',
      last_status: 500,
      last_error: 'HTTP 500',
      next_attempt_at: new Date(clock + 60_000).toISOString(),
    });
    expect(receiver.at('/retry')).toHaveLength(1);

    clock += 60_000;
    const second = await newest(created.json.id, (d) => d.attempts === 2, 'the second attempt');
    expect(second.next_attempt_at).toBe(new Date(clock + 120_000).toISOString());

    receiver.respond(200, '/retry');
    clock += 120_000;
    const done = await newest(created.json.id, (d) => d.status === 'delivered', 'the delivery to succeed');
    expect(done).toMatchObject({ attempts: 3, last_status: 200, last_error: null, next_attempt_at: null });
    const ids = new Set(receiver.at('/retry').map((h) => h.headers['webhook-id']));
    expect(ids).toEqual(new Set([done.id]));
    expect((await api.get(`/v1/webhooks/${created.json.id}`)).json).toMatchObject({
      enabled: true,
      failure_count: 0,
      failing_since: null,
    });
    const metrics = await apiClient(t, null).get('/metrics');
    expect(metrics.text).toMatch(/mailroom_webhook_attempts_total\{result="retry"\} [2-9]/);
    expect(metrics.text).toMatch(/mailroom_webhook_attempts_total\{result="delivered"\} [1-9]/);
  });

  it('records a refused connection as an error and keeps retrying', async () => {
    // A port nobody listens on: bind one, then let it go.
    const spare = net.createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const port = (spare.address() as AddressInfo).port;
    await new Promise((resolve) => spare.close(resolve));
    const created = await api.post('/v1/webhooks', { url: `http://127.0.0.1:${port}/closed`, events: ['expired'] });
    t.server.events.emit('expired', 'MSG2', {}, 'dave@example.test');
    const d = await newest(created.json.id, (x) => x.attempts === 1, 'the first attempt');
    expect(d).toMatchObject({
      status: 'pending',
      last_status: null,
      last_error: expect.stringMatching(/ECONNREFUSED/),
    });
    await api.del(`/v1/webhooks/${created.json.id}`);
  });
});

describe('failures, auto-disable and replay', () => {
  it('marks deliveries failed after their retries, disables the endpoint with an event, and replays', async () => {
    receiver.respond(500, '/flaky');
    const flaky = (await api.post('/v1/webhooks', { url: receiver.url('/flaky'), events: ['bounced'] })).json;
    await api.post('/v1/webhooks', { url: receiver.url('/monitor'), events: ['webhook_failed'] });

    t.server.events.emit('bounced', 'MSG3', { reply: '550 5.1.1 no' }, 'erin@example.test');
    const one = await failThreeTimes(flaky.id);
    expect(one).toMatchObject({ attempts: 3, last_status: 500, next_attempt_at: null });
    expect((await api.get(`/v1/webhooks/${flaky.id}`)).json).toMatchObject({ enabled: true, failure_count: 1 });

    t.server.events.emit('bounced', 'MSG4', { reply: '550 5.1.1 no' }, 'frank@example.test');
    const two = await failThreeTimes(flaky.id);
    const shown = (await api.get(`/v1/webhooks/${flaky.id}`)).json;
    expect(shown).toMatchObject({ enabled: false, failure_count: 2, failing_since: expect.any(String) });

    const [alert] = await waitFor(
      () => (receiver.at('/monitor').length > 0 ? receiver.at('/monitor') : null),
      'the webhook_failed event',
    );
    expect(JSON.parse(alert?.body ?? '{}')).toMatchObject({
      type: 'webhook_failed',
      data: { message_id: null, endpoint: flaky.id, url: receiver.url('/flaky'), failures: 2 },
    });

    // A disabled endpoint gets no new deliveries.
    t.server.events.emit('bounced', 'MSG5', {}, 'gina@example.test');
    const failed = await api.get(`/v1/webhooks/${flaky.id}/deliveries?status=failed`);
    expect(failed.json.data.map((d: { id: string }) => d.id)).toEqual([two.id, one.id]);
    expect((await api.get(`/v1/webhooks/${flaky.id}/deliveries`)).json.data).toHaveLength(2);

    // Replay one delivery: the endpoint is enabled again and the delivery goes out.
    receiver.respond(200, '/flaky');
    const single = await api.post(`/v1/webhooks/${flaky.id}/replay?delivery=${one.id}`);
    expect(single.status).toBe(200);
    expect(single.json).toEqual({ requeued: 1, enabled: true });
    await waitFor(async () => {
      const res = await api.get(`/v1/webhooks/${flaky.id}/deliveries?status=delivered`);
      return res.json.data.length === 1 && res.json.data[0].id === one.id;
    }, 'the replayed delivery');
    expect((await api.get(`/v1/webhooks/${flaky.id}`)).json).toMatchObject({ enabled: true, failure_count: 0 });

    // Replay the rest.
    expect((await api.post(`/v1/webhooks/${flaky.id}/replay`)).json.requeued).toBe(1);
    await waitFor(async () => {
      const res = await api.get(`/v1/webhooks/${flaky.id}/deliveries?status=delivered`);
      return res.json.data.length === 2;
    }, 'all replayed deliveries');
    expect((await api.post(`/v1/webhooks/${flaky.id}/replay`)).json.requeued).toBe(0);
    const bodies = receiver.at('/flaky').map((h) => JSON.parse(h.body).data.message_id);
    expect(bodies.slice(-2).sort()).toEqual(['MSG3', 'MSG4']);

    expect((await api.post(`/v1/webhooks/${flaky.id}/replay?delivery=msg_0NOPE`)).status).toBe(404);
    expect((await api.post(`/v1/webhooks/${flaky.id}/replay?delivery=bad id`)).status).toBe(400);
  });

  it('pages through the delivery log with next_cursor', async () => {
    const hook = (await api.post('/v1/webhooks', { url: receiver.url('/paged'), events: ['released'] })).json;
    for (const id of ['MSG6', 'MSG7', 'MSG8']) t.server.events.emit('released', id, {});
    await waitFor(() => receiver.at('/paged').length === 3, 'three deliveries');
    const page1 = await api.get(`/v1/webhooks/${hook.id}/deliveries?limit=2`);
    expect(
      page1.json.data.map((d: { payload: { data: { message_id: string } } }) => d.payload.data.message_id),
    ).toEqual(['MSG8', 'MSG7']);
    const page2 = await api.get(`/v1/webhooks/${hook.id}/deliveries?limit=2&cursor=${page1.json.next_cursor}`);
    expect(
      page2.json.data.map((d: { payload: { data: { message_id: string } } }) => d.payload.data.message_id),
    ).toEqual(['MSG6']);
    expect(page2.json.next_cursor).toBeNull();
  });
});

describe('restarts', () => {
  it('sends deliveries left pending by a stopped server after the next start', async () => {
    const dataDir = tempDir();
    receiver.respond(500, '/restart');
    const a = await startTestServer({ dataDir, http: { webhooks } }, { http: true, now });
    const apiA = apiClient(a, await createKey(a, ['webhooks']));
    const hook = (await apiA.post('/v1/webhooks', { url: receiver.url('/restart'), events: ['held'] })).json;
    a.server.events.emit('held', 'MSG9', {});
    await waitFor(() => receiver.at('/restart').length === 1, 'the first attempt');
    await a.stop();

    receiver.respond(200, '/restart');
    clock += 60_000;
    const b = await startTestServer({ dataDir, http: { webhooks } }, { http: true, now });
    try {
      await waitFor(() => receiver.at('/restart').length === 2, 'the retry after the restart');
      const apiB = apiClient(b, await createKey(b, ['webhooks']));
      const res = await waitFor(async () => {
        const r = await apiB.get(`/v1/webhooks/${hook.id}/deliveries`);
        return r.json.data[0]?.status === 'delivered' ? r : null;
      }, 'the delivery to be recorded');
      expect(res.json.data[0]).toMatchObject({ attempts: 2, last_status: 200 });
    } finally {
      await b.stop();
    }
  });
});
