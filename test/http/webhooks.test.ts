import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, createKey } from '../helpers/http.js';
import { waitFor } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startReceiver } from '../helpers/webhook-receiver.js';

let t: TestServer;
let api: ReturnType<typeof apiClient>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  receiver = await startReceiver();
  t = await startTestServer({ http: { webhooks: { poll: '20ms' } } }, { http: true });
  await t.server.resources.store.addUser('alice@example.test', '!');
  api = apiClient(t, await createKey(t, ['send', 'webhooks']));
});
afterAll(async () => {
  await t?.stop();
  await receiver?.close();
});

describe('webhooks fed by delivered mail', () => {
  it('POSTs the events an endpoint asked for, signed per Standard Webhooks', async () => {
    const created = await api.post('/v1/webhooks', { url: receiver.url('/signed'), events: ['received', 'delivered'] });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      url: receiver.url('/signed'),
      events: ['received', 'delivered'],
      enabled: true,
    });
    expect(created.json.id).toMatch(/^wh_[0-9a-f]{16}$/);
    expect(created.json.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);

    const sent = await api.post('/v1/messages', {
      from: 'app@example.test',
      to: ['alice@example.test'],
      subject: 'hooked',
      text: 'body',
    });
    expect(sent.status).toBe(202);
    const hooks = await waitFor(() => {
      const got = receiver.at('/signed');
      return got.some((h) => JSON.parse(h.body).type === 'delivered') ? got : null;
    }, 'the delivered webhook');

    const verifier = new Webhook(created.json.secret);
    for (const h of hooks) {
      expect(h.headers['content-type']).toBe('application/json');
      expect(h.headers['webhook-id']).toMatch(/^msg_[0-9A-Z]+$/);
      expect(h.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(verifier.verify(h.body, h.headers)).toEqual(JSON.parse(h.body));
      // A different secret does not verify.
      expect(() => new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').verify(h.body, h.headers)).toThrow();
    }
    const types = hooks.map((h) => JSON.parse(h.body).type);
    expect(types).toEqual(['received', 'delivered']);
    const delivered = JSON.parse(hooks[1]?.body ?? '{}');
    expect(delivered).toMatchObject({
      type: 'delivered',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: { message_id: sent.json.id, recipient: 'alice@example.test' },
    });

    const log = await waitFor(async () => {
      const res = await api.get(`/v1/webhooks/${created.json.id}/deliveries`);
      return res.json.data.every((d: { status: string }) => d.status === 'delivered') ? res : null;
    }, 'the delivery log to show both delivered');
    expect(log.status).toBe(200);
    expect(log.json.data).toHaveLength(2);
    expect(log.json.data[0]).toMatchObject({
      id: hooks[1]?.headers['webhook-id'],
      status: 'delivered',
      attempts: 1,
      last_status: 200,
      last_error: null,
      next_attempt_at: null,
      payload: delivered,
    });
    expect(log.json.next_cursor).toBeNull();
  });
});

describe('managing endpoints', () => {
  it('lists and shows endpoints without their secret, and deletes them', async () => {
    const created = await api.post('/v1/webhooks', { url: receiver.url('/crud'), events: ['*'] });
    const id = created.json.id;
    const list = await api.get('/v1/webhooks');
    expect(list.status).toBe(200);
    expect(list.json.data.map((w: { id: string }) => w.id)).toContain(id);
    expect(list.text).not.toContain('whsec_');
    const one = await api.get(`/v1/webhooks/${id}`);
    expect(one.json).toMatchObject({ id, events: ['*'], failure_count: 0, failing_since: null });
    expect(one.json.secret).toBeUndefined();
    expect((await api.del(`/v1/webhooks/${id}`)).status).toBe(204);
    expect((await api.get(`/v1/webhooks/${id}`)).status).toBe(404);
    expect((await api.del(`/v1/webhooks/${id}`)).status).toBe(404);
    expect((await api.get(`/v1/webhooks/${id}/deliveries`)).status).toBe(404);
  });

  it('keeps a secret given by the caller', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const created = await api.post('/v1/webhooks', { url: receiver.url('/own'), events: ['held'], secret });
    expect(created.json.secret).toBe(secret);
    t.server.events.emit('held', 'ABCDEF123', { by: 'test' }, 'bob@example.test');
    const [h] = await waitFor(() => (receiver.at('/own').length > 0 ? receiver.at('/own') : null), 'the held webhook');
    expect(new Webhook(secret).verify(h?.body ?? '', h?.headers ?? {})).toMatchObject({
      type: 'held',
      data: { message_id: 'ABCDEF123', recipient: 'bob@example.test', by: 'test' },
    });
  });

  it('answers 400 with field paths for a bad URL, event type or secret', async () => {
    const bad = await api.post('/v1/webhooks', { url: 'ftp://127.0.0.1/x', events: ['delivered'] });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_request');
    expect(bad.json.error.details.issues.map((i: { path: string }) => i.path)).toContain('url');
    const notUrl = await api.post('/v1/webhooks', { url: 'not a url', events: ['delivered'] });
    expect(notUrl.status).toBe(400);
    const events = await api.post('/v1/webhooks', { url: receiver.url(), events: ['nope'] });
    expect(events.status).toBe(400);
    expect(JSON.stringify(events.json.error.details)).toContain('events');
    expect((await api.post('/v1/webhooks', { url: receiver.url(), events: [] })).status).toBe(400);
    expect((await api.post('/v1/webhooks', { url: receiver.url(), events: ['*', 'delivered'] })).status).toBe(400);
    const secret = await api.post('/v1/webhooks', { url: receiver.url(), events: ['*'], secret: 'hunter2' });
    expect(secret.status).toBe(400);
    expect(JSON.stringify(secret.json.error.details)).toContain('secret');
    expect((await api.get('/v1/webhooks/nope')).status).toBe(400);
    expect((await api.get('/v1/webhooks/wh_0123456789abcdef')).status).toBe(404);
  });

  it('needs the webhooks (or admin) scope', async () => {
    const sendOnly = apiClient(t, await createKey(t, ['send']));
    const res = await sendOnly.get('/v1/webhooks');
    expect(res.status).toBe(403);
    expect(res.json.error.details).toMatchObject({ required: 'webhooks' });
    expect((await apiClient(t, await createKey(t, ['admin'])).get('/v1/webhooks')).status).toBe(200);
    expect((await apiClient(t, null).get('/v1/webhooks')).status).toBe(401);
  });
});

describe('OpenAPI', () => {
  it('describes the webhook endpoints from their zod schemas', async () => {
    const doc = (await apiClient(t, null).get('/openapi.json')).json;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/webhooks',
        '/v1/webhooks/{id}',
        '/v1/webhooks/{id}/deliveries',
        '/v1/webhooks/{id}/replay',
      ]),
    );
    const create = doc.paths['/v1/webhooks'].post;
    expect(create.requestBody.content['application/json'].schema.required).toEqual(['url', 'events']);
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '403']));
    expect(doc.paths['/v1/webhooks/{id}/replay'].post.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['id', 'delivery']),
    );
  });
});
