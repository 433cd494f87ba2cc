import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mailroom, MailroomError, type MessageSummary } from '../../sdk/src/index.js';
import { createKey } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let mr: Mailroom;
let baseUrl: string;

beforeAll(async () => {
  t = await startTestServer({}, { http: true });
  for (const u of ['alice', 'bob']) await t.server.resources.store.addUser(`${u}@example.test`, '!');
  baseUrl = `http://127.0.0.1:${t.port('http')}`;
  mr = new Mailroom({ baseUrl, apiKey: await createKey(t, ['admin']) });
});
afterAll(async () => {
  await t?.stop();
});

/** The MailroomError a call rejects with. */
const failure = async (p: Promise<unknown>): Promise<MailroomError> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MailroomError);
  return err as MailroomError;
};

describe('Mailroom client over a real server', () => {
  it('sends, waits until delivered to the local mailbox, and reads the timeline', async () => {
    const sent = await mr.send({ from: 'app@example.test', to: ['alice@example.test'], subject: 'hi', text: 'Hello.' });
    expect(sent).toMatchObject({
      status: 'queued',
      recipients: [{ address: 'alice@example.test', status: 'accepted' }],
    });
    const msg = await mr.waitFor(sent.id, 'delivered', { timeout: 20_000, interval: 50 });
    expect(msg.recipients.map((r) => r.state)).toEqual(['delivered']);
    // The timeline event is recorded from the event bus, just after the recipient's state changes.
    const withEvent = await mr.waitFor(sent.id, (m) => m.timeline.length === 2, { interval: 50 });
    expect(withEvent.timeline.map((e) => e.type)).toEqual(['received', 'delivered']);
    expect((await mr.get(sent.id)).subject).toBe('hi');
  });

  it('sends a raw message and waits with a predicate', async () => {
    const sent = await mr.sendRaw('From: app@example.test\r\nTo: bob@example.test\r\nSubject: raw\r\n\r\nHi.\r\n');
    const msg = await mr.waitFor(sent.id, (m) => m.timeline.some((e) => e.type === 'delivered'), { interval: 50 });
    expect(msg.from).toBe('app@example.test');
  });

  it('replays an idempotent send and maps a conflicting one to a 409 MailroomError', async () => {
    const body = { from: 'app@example.test', to: 'alice@example.test', text: 'once' };
    const a = await mr.send(body, { idempotencyKey: 'sdk-1' });
    const b = await mr.send(body, { idempotencyKey: 'sdk-1' });
    expect(b.id).toBe(a.id);
    const err = await failure(mr.send({ ...body, text: 'twice' }, { idempotencyKey: 'sdk-1' }));
    expect(err).toMatchObject({ status: 409, code: 'idempotency_conflict' });
  });

  it('sends a batch with per-item results', async () => {
    const res = await mr.sendBatch([
      { from: 'app@example.test', to: 'alice@example.test', text: '1' },
      { from: 'app@example.test', to: 'nobody@example.test', text: '2' },
    ]);
    expect(res.results.map((r) => r.status)).toEqual([202, 422]);
    expect(res.results[1]?.error?.code).toBe('no_valid_recipients');
  });

  it('lists by tag and iterates over every cursor page', async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      ids.unshift(
        (await mr.send({ from: 'app@example.test', to: 'bob@example.test', text: `${n}`, tags: ['pages'] })).id,
      );
    }
    const first = await mr.list({ tag: 'pages', limit: 2 });
    expect(first.data.map((m) => m.id)).toEqual(ids.slice(0, 2));
    expect(first.next_cursor).not.toBeNull();
    const seen: MessageSummary[] = [];
    for await (const m of await mr.list({ tag: 'pages', limit: 1 })) seen.push(m);
    expect(seen.map((m) => m.id)).toEqual(ids);
    expect(await mr.list({ tag: 'pages', until: new Date(Date.now() - 3_600_000) })).toMatchObject({ data: [] });
  });

  it('holds, reads the raw message and deletes; retries', async () => {
    const later = {
      from: 'app@example.test',
      to: 'alice@example.test',
      text: 'later',
      send_at: '2099-01-01T00:00:00Z',
    };
    const { id } = await mr.send(later);
    const held = await mr.hold(id);
    expect(held).toMatchObject({ id, action: 'hold', changed: [{ address: 'alice@example.test', state: 'held' }] });
    expect(Buffer.from(await mr.raw(id)).toString()).toContain('later');
    await mr.delete(id);
    expect(await failure(mr.raw(id))).toMatchObject({ status: 404, code: 'not_found' });
    const retried = await mr.retry((await mr.send(later)).id);
    expect(retried.action).toBe('retry');
  });

  it('maps a send with no recipient left to a 422 MailroomError with details', async () => {
    const err = await failure(mr.send({ from: 'app@example.test', to: 'nobody@example.test', text: 'x' }));
    expect(err).toMatchObject({ status: 422, code: 'no_valid_recipients' });
    expect(err.details).toBeTruthy();
  });

  it('manages suppressions and refuses mail to a suppressed address', async () => {
    const added = await mr.suppressions.add('bob@example.test');
    expect(added).toMatchObject({ address: 'bob@example.test', reason: 'manual' });
    expect((await mr.suppressions.list()).data.map((s) => s.address)).toContain('bob@example.test');
    expect((await mr.suppressions.get('bob@example.test')).reason).toBe('manual');
    const sent = await mr.send({ from: 'app@example.test', to: ['alice@example.test', 'bob@example.test'], text: 's' });
    expect(sent.recipients[1]).toMatchObject({
      status: 'rejected',
      reply: '550 5.7.1 Recipient address is suppressed (manual)',
    });
    await mr.suppressions.remove('bob@example.test');
    expect(await failure(mr.suppressions.get('bob@example.test'))).toMatchObject({ status: 404 });
  });

  it('reads stats', async () => {
    const stats = await mr.stats('1h');
    expect(stats.window).toBe('1h');
    expect(stats.totals.received).toBeGreaterThan(0);
  });

  it('maps errors: 401, 400 with field paths, 429 with retryAfter, and an unreachable server', async () => {
    const anon = new Mailroom({ baseUrl, apiKey: 'not-a-key' });
    expect(await failure(anon.stats())).toMatchObject({ status: 401, code: 'unauthorized', retryAfter: null });
    const bad = await failure(mr.send({ from: 'app@example.test', to: 'alice@example.test' }));
    expect(bad).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(bad.details).toMatchObject({ issues: [{ path: 'text' }] });
    const slow = new Mailroom({ baseUrl, apiKey: await createKey(t, ['read'], { rate: '1/min' }) });
    await slow.stats();
    const limited = await failure(slow.stats());
    expect(limited).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(limited.retryAfter).toBeGreaterThan(0);
    const down = new Mailroom({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k' });
    expect(await failure(down.stats())).toMatchObject({ status: 0, code: 'network_error' });
  });

  it('times out waitFor with a MailroomError', async () => {
    const { id } = await mr.send({
      from: 'app@example.test',
      to: 'alice@example.test',
      text: 'x',
      send_at: '2099-01-01T00:00:00Z',
    });
    expect(await failure(mr.waitFor(id, 'delivered', { timeout: 100, interval: 20 }))).toMatchObject({
      code: 'timeout',
    });
  });

  it('uses the fetch it is given', async () => {
    const seen: string[] = [];
    const spy: typeof fetch = (input, init) => {
      seen.push(`${init?.method} ${String(input)}`);
      return fetch(input, init);
    };
    const client = new Mailroom({ baseUrl: `${baseUrl}/`, apiKey: await createKey(t, ['read']), fetch: spy });
    await client.stats('7d');
    expect(seen).toEqual([`GET ${baseUrl}/v1/stats?window=7d`]);
  });
});
