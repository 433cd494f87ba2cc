import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, createKey } from '../helpers/http.js';
import { inbox, mailboxTexts, waitFor } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let api: ReturnType<typeof apiClient>;

const msg = (to: unknown, extra: Record<string, unknown> = {}) => ({
  from: 'app@example.test',
  to,
  subject: 'test',
  text: 'body',
  ...extra,
});

beforeAll(async () => {
  t = await startTestServer(
    { limits: { messageSize: 64 * 1024 }, http: { batchSize: 3 }, domains: [{ name: 'example.test' }] },
    { http: true },
  );
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin'])
    await t.server.resources.store.addUser(`${u}@example.test`, '!');
  api = apiClient(t, await createKey(t, ['send', 'read', 'suppressions']));
});
afterAll(async () => {
  await t?.stop();
});

describe('POST /v1/messages with JSON', () => {
  it('builds the MIME message and delivers it through the same intake and queue as SMTP', async () => {
    const res = await api.post('/v1/messages', {
      from: 'Sender <app@example.test>',
      to: ['alice@example.test'],
      bcc: { email: 'bob@example.test' },
      subject: 'Hello from the API',
      text: 'plain body',
      html: '<p>html body <img src="cid:logo@x"></p>',
      attachments: [
        { filename: 'logo.png', content: Buffer.from('PNGDATA').toString('base64'), cid: 'logo@x' },
        { filename: 'report.txt', content: Buffer.from('the report').toString('base64'), content_type: 'text/plain' },
      ],
      headers: { 'X-Campaign': 'spring' },
      tags: ['welcome'],
      metadata: { user: '42' },
    });
    expect(res.status).toBe(202);
    expect(res.json.status).toBe('queued');
    expect(res.json.id).toMatch(/^[0-9A-Z]+$/);
    expect(res.json.recipients).toEqual([
      { address: 'alice@example.test', status: 'accepted', ids: [expect.any(Number)] },
      { address: 'bob@example.test', status: 'accepted', ids: [expect.any(Number)] },
    ]);
    const [alice] = await inbox(t, 'alice@example.test');
    const text = alice?.toString() ?? '';
    expect(text).toMatch(
      new RegExp(`^Received: from api\\r\\n\\tby mx\\.test \\(mailroom\\) with HTTP id ${res.json.id}\\r\\n`),
    );
    expect(text).toContain('Subject: Hello from the API');
    expect(text).toMatch(/^Message-ID: <[^>]+>\r$/m);
    expect(text).toMatch(/^X-Campaign: spring\r$/m);
    expect(text).not.toMatch(/^Bcc:/im);
    expect(text).toMatch(/^Content-ID: <logo@x>\r$/m);
    expect(text).toContain(Buffer.from('the report').toString('base64'));
    expect((await inbox(t, 'bob@example.test'))[0]?.toString()).toContain('Hello from the API');
  });

  it('answers 400 with field paths for a body that does not match the schema', async () => {
    const res = await api.post('/v1/messages', {
      to: ['alice@example.test', 42],
      text: 'x',
      headers: { Subject: 'sneaky' },
      attachments: [{ filename: 'a', content: 'not base64!' }],
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_request');
    const paths = res.json.error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['from', 'to', 'headers.Subject', 'attachments[0].content']));
    const bad = await api.post('/v1/messages', msg('not an address'));
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues).toEqual([{ path: 'to', message: 'is not an email address' }]);
  });

  it('answers 400 for malformed JSON and 415 for other media types', async () => {
    const res = await api.post('/v1/messages', Buffer.from('{"from":'), { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('invalid_json');
    const other = await api.post('/v1/messages', Buffer.from('hello'), { 'content-type': 'text/plain' });
    expect(other.status).toBe(415);
    expect(other.json.error.code).toBe('unsupported_media_type');
  });

  it('answers 413 for a body over http.bodyLimit and for a message over limits.messageSize', async () => {
    const huge = await api.post('/v1/messages', msg('alice@example.test', { text: 'x'.repeat(200 * 1024) }));
    expect(huge.status).toBe(413);
    expect(huge.json.error.code).toBe('payload_too_large');
    const big = await api.post('/v1/messages', msg('alice@example.test', { text: 'y '.repeat(40 * 1024) }));
    expect(big.status).toBe(413);
    expect(big.json.error).toEqual({
      code: 'message_too_large',
      message: 'The message is larger than limits.messageSize',
      details: { reply: '552 5.3.4 Message size exceeds fixed limit' },
    });
  });

  it('refuses recipients one by one with the SMTP reason, and 422 when none is left', async () => {
    const mixed = await api.post(
      '/v1/messages',
      msg(['carol@example.test', 'nobody@example.test', 'carol@example.test']),
    );
    expect(mixed.status).toBe(202);
    expect(mixed.json.recipients).toEqual([
      { address: 'carol@example.test', status: 'accepted', ids: [expect.any(Number)] },
      {
        address: 'nobody@example.test',
        status: 'rejected',
        ids: [],
        reason: 'unknown user',
        reply: '550 5.1.1 User unknown',
      },
    ]);
    const none = await api.post('/v1/messages', msg(['nobody@example.test']));
    expect(none.status).toBe(422);
    expect(none.json.error.code).toBe('no_valid_recipients');
    expect(none.json.error.details.recipients[0].reply).toBe('550 5.1.1 User unknown');
  });

  it('refuses a suppressed recipient in the per-recipient results, not silently', async () => {
    expect((await api.post('/v1/suppressions', { address: 'Dave@example.test' })).status).toBe(201);
    const res = await api.post('/v1/messages', msg(['dave@example.test', 'erin@example.test']));
    expect(res.status).toBe(202);
    expect(res.json.recipients[0]).toEqual({
      address: 'dave@example.test',
      status: 'rejected',
      ids: [],
      reason: 'suppressed',
      reply: '550 5.7.1 Recipient address is suppressed (manual)',
    });
    expect(res.json.recipients[1].status).toBe('accepted');
  });

  it('applies the sender-domain rules to API keys (403)', async () => {
    const bound = apiClient(t, await createKey(t, ['send'], { domain: 'other.test' }));
    const res = await bound.post('/v1/messages', msg('alice@example.test'));
    expect(res.status).toBe(403);
    expect(res.json.error).toEqual({
      code: 'sender_not_allowed',
      message: 'This key may not send as app@example.test',
      details: { reply: '553 5.7.1 Sender address not owned by user' },
    });
    const foreign = await api.post('/v1/messages', msg('alice@example.test', { from: 'me@elsewhere.test' }));
    expect(foreign.status).toBe(403);
    expect(foreign.json.error.details.reply).toBe('550 5.7.1 Unconfigured sending domain');
  });

  it('schedules delivery with send_at', async () => {
    const at = new Date(Date.now() + 3_600_000);
    const res = await api.post('/v1/messages', msg('alice@example.test', { send_at: at.toISOString() }));
    expect(res.status).toBe(202);
    const got = await api.get(`/v1/messages/${res.json.id}`);
    expect(got.json.recipients[0].state).toBe('queued');
    expect(got.json.recipients[0].next_attempt_at).toBe(new Date(Math.floor(at.getTime())).toISOString());
  });
});

describe('POST /v1/messages with message/rfc822', () => {
  it('takes a raw message, envelope from its headers, and fixes it up like a submission', async () => {
    const raw =
      'From: App <app@example.test>\nTo: carol@example.test\nBcc: erin@example.test\nSubject: raw one\n\nraw body\n';
    const res = await api.post('/v1/messages', Buffer.from(raw), { 'content-type': 'message/rfc822' });
    expect(res.status).toBe(202);
    expect(res.json.recipients.map((r: { address: string }) => r.address)).toEqual([
      'carol@example.test',
      'erin@example.test',
    ]);
    const erin = await waitFor(
      async () => (await mailboxTexts(t, 'erin@example.test')).find((m) => m.includes('raw one')),
      'delivery to erin',
    );
    expect(erin).toContain('\r\nraw body\r\n');
    expect(erin).not.toMatch(/^Bcc:/im);
    expect(erin).toMatch(/^Date: /m);
    expect(erin).toMatch(/^Message-ID: /m);
  });

  it('answers 422 for a raw message without From: or recipients', async () => {
    const noFrom = await api.post('/v1/messages', Buffer.from('To: a@example.test\n\nx\n'), {
      'content-type': 'message/rfc822',
    });
    expect(noFrom.status).toBe(422);
    expect(noFrom.json.error.code).toBe('invalid_message');
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response for the same body and answers 409 for a different one', async () => {
    const body = msg('alice@example.test', { subject: 'only once' });
    const first = await api.post('/v1/messages', body, { 'idempotency-key': 'order-1' });
    expect(first.status).toBe(202);
    const again = await api.post('/v1/messages', body, { 'idempotency-key': 'order-1' });
    expect(again.status).toBe(202);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await api.post('/v1/messages', { ...body, subject: 'changed' }, { 'idempotency-key': 'order-1' });
    expect(other.status).toBe(409);
    expect(other.json.error.code).toBe('idempotency_conflict');
    const list = await api.get('/v1/messages?recipient=alice@example.test&limit=100');
    const sent = list.json.data.filter((m: { subject: string }) => m.subject === 'only once');
    expect(sent).toHaveLength(1);
    const bad = await api.post('/v1/messages', body, { 'idempotency-key': 'no spaces allowed' });
    expect(bad.status).toBe(400);
  });

  it('sends both of two racing requests with one key exactly once', async () => {
    const body = msg('alice@example.test', { subject: 'raced' });
    const [a, b] = await Promise.all([
      api.post('/v1/messages', body, { 'idempotency-key': 'race-1' }),
      api.post('/v1/messages', body, { 'idempotency-key': 'race-1' }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(202);
    expect([202, 409]).toContain(statuses[1]);
    const list = await api.get('/v1/messages?recipient=alice@example.test&limit=100');
    expect(list.json.data.filter((m: { subject: string }) => m.subject === 'raced')).toHaveLength(1);
  });
});

describe('POST /v1/messages/batch', () => {
  it('gives each item its own result: accepted, invalid, refused', async () => {
    const res = await api.post('/v1/messages/batch', {
      messages: [
        msg('alice@example.test', { subject: 'batch 1' }),
        { to: 'alice@example.test' },
        msg('nobody@example.test'),
      ],
    });
    expect(res.status).toBe(200);
    const [ok, invalid, refused] = res.json.results;
    expect(ok).toMatchObject({ index: 0, status: 202, id: expect.any(String) });
    expect(invalid.index).toBe(1);
    expect(invalid.status).toBe(400);
    expect(invalid.error.details.issues.map((i: { path: string }) => i.path)).toContain('messages[1].from');
    expect(refused).toMatchObject({ index: 2, status: 422, error: { code: 'no_valid_recipients' } });
  });

  it('answers 413 past http.batchSize and 400 for an empty batch', async () => {
    const four = Array.from({ length: 4 }, () => msg('alice@example.test'));
    const res = await api.post('/v1/messages/batch', { messages: four });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('batch_too_large');
    expect((await api.post('/v1/messages/batch', { messages: [] })).status).toBe(400);
  });
});
