import { afterEach, describe, expect, it } from 'vitest';
import { milterCodec } from '../../src/policy/scanners/index.js';
import { runCli, workdir } from '../cli/helpers.js';
import { inbox, queueId, recordEvents, sendMail, waitFor } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { type FakeMilter, type MilterScript, reply, startFakeMilter } from './fake-milter.js';

const { Proto } = milterCodec;

const MESSAGE =
  'From: bob@sender.example\r\nTo: alice@example.test\r\nSubject: quarterly report\r\n' +
  'X-Remove: me\r\n\r\nNumbers attached.\r\n';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function setup(script: MilterScript, extra: Record<string, unknown> = {}) {
  const milter = await startFakeMilter(script);
  const t = await startTestServer({ scanning: { milters: [{ address: milter.address, ...extra }] } });
  cleanup.push(
    () => milter.close(),
    () => t.stop(),
  );
  await t.server.resources.store.addUser('alice@example.test', '!');
  await t.server.resources.store.addUser('carol@example.test', '!');
  return { milter, t };
}

async function send(t: TestServer, rcpts = ['alice@example.test'], body = MESSAGE) {
  const c = await RawSmtp.connect(t.port('smtp'));
  try {
    await c.read();
    await c.cmd('EHLO sender.example');
    return await sendMail(c, 'bob@sender.example', rcpts, body);
  } finally {
    c.close();
  }
}

const names = (m: FakeMilter) => (m.seen[0] ?? []).map((p) => p.cmd).join('');

describe('milter answers at end of message', () => {
  it('reject → 550 5.7.1 Command rejected, nothing stored', async () => {
    const { t } = await setup({ eom: [reply.reject()] });
    const r = await send(t);
    expect(r.end?.raw).toBe('550 5.7.1 Command rejected\r\n');
  });

  it('tempfail → 451 4.7.1', async () => {
    const { t } = await setup({ eom: [reply.tempfail()] });
    const r = await send(t);
    expect(r.end?.raw).toBe('451 4.7.1 Service unavailable - try again later\r\n');
  });

  it('replycode → the milter’s own reply, multi-line included', async () => {
    const { t } = await setup({
      eom: [reply.replycode('554-5.7.1 Attachment type not allowed\r\n554 5.7.1 See policy')],
    });
    expect((await send(t)).end?.raw).toBe('554-5.7.1 Attachment type not allowed\r\n554 5.7.1 See policy\r\n');
  });

  it('a 4xx replycode defers', async () => {
    const { t } = await setup({ eom: [reply.replycode('452 4.3.1 Out of scanning capacity')] });
    expect((await send(t)).end?.raw).toBe('452 4.3.1 Out of scanning capacity\r\n');
  });

  it("discard → 250 to the client, nothing stored, a 'discarded' event", async () => {
    const { t } = await setup({ eom: [reply.discard()] });
    const events = recordEvents(t);
    const r = await send(t);
    expect(r.end?.code).toBe(250);
    const id = queueId(r.end!);
    const e = await events.next('discarded');
    expect(e.messageId).toBe(id);
    expect(e.detail).toMatchObject({ from: 'bob@sender.example', recipients: ['alice@example.test'] });
    expect(await t.server.resources.store.getMessage(id)).toBeNull();
    expect(events.of('received')).toEqual([]);
    events.stop();
  });

  it('header changes and a new body are applied: add, insert at the top, change, delete, replace body', async () => {
    const { t } = await setup({
      eom: [
        reply.addHeader('X-Milter', ' added'),
        reply.insertHeader(0, 'X-First', ' on top'),
        reply.changeHeader(1, 'Subject', ' [checked] quarterly report'),
        reply.changeHeader(1, 'X-Remove', ''),
        reply.replaceBody('Replaced body.\r\n'),
        reply.continue(),
      ],
    });
    expect((await send(t)).end?.code).toBe(250);
    const [msg] = await inbox(t, 'alice@example.test');
    const text = msg!.toString('utf8');
    expect(text).toMatch(/^X-First: on top\r\nReceived: /);
    expect(text).toContain('\r\nSubject: [checked] quarterly report\r\nX-Milter: added\r\n\r\nReplaced body.\r\n');
    expect(text).not.toContain('X-Remove');
    expect(text).not.toContain('Numbers attached');
  });

  it('quarantine → stored held with the reason; listed by `queue list --state held`, delivered after `queue release`', async () => {
    const { t } = await setup({ eom: [reply.quarantine('suspicious macro'), reply.accept()] });
    const events = recordEvents(t);
    const r = await send(t);
    expect(r.end?.code).toBe(250);
    const id = queueId(r.end!);
    const received = await events.next('received');
    expect(received.detail).toMatchObject({ result: 'held', held: expect.stringContaining('suspicious macro') });
    events.stop();
    const store = t.server.resources.store;
    const rcpts = await store.getRecipients(id);
    expect(rcpts.map((x) => [x.address, x.state])).toEqual([['alice@example.test', 'held']]);
    expect(rcpts[0]?.lastReply).toContain('suspicious macro');

    const cwd = workdir(`dataDir: ${t.dataDir}\n`);
    const listed = await runCli(['queue', 'list', '--state', 'held', '--json'], { cwd });
    expect(listed.stderr).toBe('');
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((m) => m.id)).toEqual([id]);
    const released = await runCli(['queue', 'release', id], { cwd });
    expect(released.code, released.stderr).toBe(0);
    t.server.queue.wake();
    await waitFor(async () => (await store.getRecipients(id))[0]?.state === 'delivered', 'delivery after release');
  });
});

describe('milter conversation', () => {
  it('sends connect, helo, envelope, headers (leading space kept), end of header, body and end of message', async () => {
    const { milter, t } = await setup({ eom: [reply.continue()] });
    expect((await send(t)).end?.code).toBe(250);
    await waitFor(() => names(milter).endsWith('Q'), 'the QUIT');
    // O: negotiate; D: macros before C, H, M, R, T?, E; L: each header; N: end of header; B: body.
    expect(names(milter)).toMatch(/^ODCDHDMDRDTL+DNBDEQ$/);
    const seen = milter.seen[0]!;
    const str = (cmd: string) => seen.filter((p) => p.cmd === cmd).map((p) => p.data.toString('utf8'));
    expect(str('C')[0]).toMatch(/^\[127\.0\.0\.1\]\x004/);
    expect(str('H')).toEqual(['sender.example\0']);
    expect(str('M')).toEqual(['<bob@sender.example>\0']);
    expect(str('R')).toEqual(['<alice@example.test>\0']);
    const headers = str('L');
    expect(headers[0]).toMatch(/^Received\0 from sender\.example/);
    expect(headers).toContain('Subject\0 quarterly report\0');
    // (sendMail ends the body with CRLF before the final dot, so the message has a trailing empty line)
    expect(str('B')).toEqual(['Numbers attached.\r\n\r\n']);
    const macros = str('D').join('|');
    expect(macros).toContain('j\0mx.test\0');
    expect(macros).toMatch(/Mi\0[0-9A-Z]+\0/);
    expect(macros).toContain('{rcpt_addr}\0alice@example.test\0');
  });

  it('honours the steps a milter opts out of (no connect, no body) and strips the leading space without HDR_LEADSPC', async () => {
    const { milter, t } = await setup({ protocol: Proto.NOCONNECT | Proto.NOBODY, eom: [reply.continue()] });
    expect((await send(t)).end?.code).toBe(250);
    await waitFor(() => names(milter).endsWith('Q'), 'the QUIT');
    expect(names(milter)).not.toContain('C');
    expect(names(milter)).not.toContain('B');
    const subject = milter.seen[0]!.find((p) => p.cmd === 'L' && p.data.toString().startsWith('Subject'));
    expect(subject?.data.toString()).toBe('Subject\0quarterly report\0');
  });

  it('a refusal before the message (at MAIL) is the answer; nothing more is sent', async () => {
    const { milter, t } = await setup({ answer: { M: reply.tempfail() }, eom: [reply.reject()] });
    expect((await send(t)).end?.raw).toBe('451 4.7.1 Service unavailable - try again later\r\n');
    await waitFor(() => names(milter).endsWith('Q'), 'the QUIT');
    expect(names(milter)).toBe('ODCDHDMQ');
  });

  it('accept at connect delivers the message untouched without sending it', async () => {
    const { milter, t } = await setup({ answer: { C: reply.accept() }, eom: [reply.reject()] });
    expect((await send(t)).end?.code).toBe(250);
    await waitFor(() => names(milter).endsWith('Q'), 'the QUIT');
    expect(names(milter)).toBe('ODCQ');
  });

  it('skip during the body stops sending body chunks', async () => {
    const big = `${MESSAGE}${'z'.repeat(76)}\r\n`.repeat(2000);
    const { milter, t } = await setup({
      protocol: Proto.SKIP | Proto.HDR_LEADSPC | Proto.NR_HDR,
      answer: { B: reply.skip() },
      eom: [reply.continue()],
    });
    expect((await send(t, ['alice@example.test'], big)).end?.code).toBe(250);
    await waitFor(() => names(milter).endsWith('Q'), 'the QUIT');
    expect(names(milter).match(/B/g)).toHaveLength(1);
  });

  it('a recipient the milter refuses is dropped; the others get the message', async () => {
    const { t } = await setup({
      rcpt: (a) => (a.startsWith('carol') ? reply.replycode('550 5.7.1 Not for carol') : reply.continue()),
      eom: [reply.continue()],
    });
    const r = await send(t, ['alice@example.test', 'carol@example.test']);
    expect(r.end?.code).toBe(250);
    const rcpts = await t.server.resources.store.getRecipients(queueId(r.end!));
    expect(rcpts.map((x) => x.address)).toEqual(['alice@example.test']);
  });

  it('when the milter refuses every recipient, its reply is the answer', async () => {
    const { t } = await setup({ rcpt: () => reply.replycode('550 5.7.1 Not here'), eom: [reply.continue()] });
    expect((await send(t)).end?.raw).toBe('550 5.7.1 Not here\r\n');
  });

  it('a milter that does not answer in time is handled by its failure policy (tempfail)', async () => {
    const { t } = await setup({ eom: null }, { timeout: 300, failure: 'tempfail' });
    expect((await send(t)).end?.raw).toBe('451 4.3.0 Message could not be scanned, try again later\r\n');
  });

  it('failure policy reject', async () => {
    const { t } = await setup({ eom: null }, { timeout: 300, failure: 'reject' });
    expect((await send(t)).end?.raw).toBe('554 5.7.1 Message could not be scanned\r\n');
  });
});
