import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let key: string;

beforeAll(async () => {
  t = await startTestServer({}, { http: true });
  await t.server.resources.store.addUser('alice@example.test', '!');
  key = await createKey(t, ['send', 'read']);
});
afterAll(async () => {
  await t?.stop();
});

/** Prometheus text format: `name{labels} value` lines into a map from `name{labels}` to the value. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!m) throw new Error(`not a metric line: ${line}`);
    out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

describe('authentication and limits', () => {
  it('answers 401 without a key and with an unknown key', async () => {
    const none = await apiClient(t, null).get('/v1/messages');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(none.json).toEqual({
      error: { code: 'unauthorized', message: 'Missing API key: send Authorization: Bearer KEY', details: null },
    });
    const unknown = await apiClient(t, 'mr_000000000000_nope').get('/v1/messages');
    expect(unknown.status).toBe(401);
    expect(unknown.json.error.message).toBe('Unknown API key');
  });

  it('answers 403 when the key lacks the scope', async () => {
    const res = await apiClient(t, key).post('/v1/messages/ABCDEFGH/hold');
    expect(res.status).toBe(403);
    expect(res.json.error).toEqual({
      code: 'forbidden',
      message: 'API key lacks the "queue" scope',
      details: { required: 'queue', scopes: ['send', 'read'] },
    });
  });

  it('answers 429 with Retry-After past the key rate limit', async () => {
    const limited = apiClient(t, await createKey(t, ['read'], { rate: '2/min' }));
    expect((await limited.get('/v1/messages')).status).toBe(200);
    expect((await limited.get('/v1/messages')).status).toBe(200);
    const res = await limited.get('/v1/messages');
    expect(res.status).toBe(429);
    expect(res.json.error.code).toBe('rate_limited');
    const wait = Number(res.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(30);
    // Other keys have their own bucket.
    expect((await apiClient(t, key).get('/v1/messages')).status).toBe(200);
  });

  it('answers 404 in the same JSON shape for an unknown route', async () => {
    const res = await apiClient(t, key).get('/v1/nothing');
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: { code: 'not_found', message: 'No route GET /v1/nothing', details: null } });
  });
});

describe('OpenAPI, docs and metrics', () => {
  it('serves an OpenAPI 3.1 document generated from the zod schemas', async () => {
    const res = await apiClient(t, null).get('/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.json;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/messages',
        '/v1/messages/batch',
        '/v1/messages/{id}',
        '/v1/messages/{id}/raw',
        '/v1/messages/{id}/retry',
        '/v1/messages/{id}/hold',
        '/v1/messages/{id}/release',
        '/v1/stats',
        '/v1/suppressions',
        '/v1/suppressions/{address}',
      ]),
    );
    const send = doc.paths['/v1/messages'].post;
    expect(Object.keys(send.responses).sort()).toEqual(['202', '400', '401', '403', '409', '413', '422', '429']);
    const schema = send.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(expect.arrayContaining(['from']));
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['from', 'to', 'attachments', 'send_at']));
    expect(send.requestBody.content['message/rfc822']).toBeDefined();
    expect(doc.paths['/v1/messages'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['status', 'recipient', 'tag', 'since', 'until', 'cursor', 'limit']),
    );
    expect(doc.components.schemas.Error.properties.error.required).toEqual(['code', 'message', 'details']);
  });

  it('serves readable docs at /docs', async () => {
    const res = await apiClient(t, null).get('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toContain('<code>/v1/messages/{id}/raw</code>');
  });

  it('exposes Prometheus metrics that count what happened', async () => {
    const api = apiClient(t, key);
    const sent = await api.post('/v1/messages', { from: 'a@example.test', to: 'alice@example.test', text: 'm' });
    expect(sent.status).toBe(202);
    await apiClient(t, 'mr_x_y').get('/v1/messages');
    const res = await apiClient(t, null).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parseMetrics(res.text);
    expect(m.get('mailroom_messages_received_total{listener="http"}')).toBeGreaterThanOrEqual(1);
    expect(m.get('mailroom_auth_failures_total{protocol="http",reason="unknown"}')).toBeGreaterThanOrEqual(1);
    expect(m.get('mailroom_http_requests_total{method="POST",route="/v1/messages",status="202"}')).toBe(1);
    expect(m.has('mailroom_queue_depth{state="queued"}')).toBe(true);
    expect(m.has('mailroom_process_cpu_user_seconds_total')).toBe(true);
    expect(m.has('mailroom_delivery_latency_seconds_count')).toBe(true);
  });
});

describe('HTTPS', () => {
  it('serves the API over TLS when the listener says tls: true', async () => {
    const s = await startTestServer({}, { http: { tls: true } });
    try {
      const body = await new Promise<{ status: number; protocol: string; text: string }>((resolve, reject) => {
        const req = https.get(
          { host: '127.0.0.1', port: s.port('http'), path: '/healthz', rejectUnauthorized: false },
          (res) => {
            const protocol = (res.socket as import('node:tls').TLSSocket).getProtocol?.() ?? '';
            let text = '';
            res.on('data', (c) => {
              text += c;
            });
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                protocol,
                text,
              }),
            );
          },
        );
        req.on('error', reject);
      });
      expect(body.status).toBe(200);
      expect(body.protocol).toMatch(/^TLSv1\.[23]$/);
      expect(JSON.parse(body.text)).toEqual({ status: 'ok' });
    } finally {
      await s.stop();
    }
  });
});
