import v8 from 'node:v8';
import vm from 'node:vm';
import { expect } from 'vitest';
import type { EventType, MailEvent } from '../../src/events/index.js';
import type { TestServer } from './server.js';
import { RawSmtp, type ServerReply } from './smtp-client.js';

/**
 * Poll `probe` until it returns something truthy, in a bounded loop (never a fixed sleep):
 * for effects that have no event of their own, such as a file appearing or a row changing.
 */
export async function waitFor<T>(
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Records every event the server emits from now on. */
export interface EventLog {
  events: MailEvent[];
  of(type: EventType): MailEvent[];
  /** Resolves with the first recorded event matching (already seen or yet to come). */
  next(type: EventType, match?: (e: MailEvent) => boolean, timeoutMs?: number): Promise<MailEvent>;
  stop(): void;
}

export function recordEvents(t: TestServer): EventLog {
  const events: MailEvent[] = [];
  let waiters: (() => void)[] = [];
  const stop = t.server.events.subscribe((e) => {
    events.push(e);
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  });
  const log: EventLog = {
    events,
    of: (type) => events.filter((e) => e.type === type),
    async next(type, match = () => true, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.find((e) => e.type === type && match(e));
        if (hit) return hit;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${type} event; saw ${events.map((e) => e.type).join(', ')}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    stop,
  };
  return log;
}

/** The queue id from a `250 2.0.0 Ok: queued as ID` reply. */
export function queueId(r: ServerReply | string): string {
  const text = typeof r === 'string' ? r : r.raw;
  const m = /queued as ([0-9A-Z]+)/.exec(text);
  if (!m) throw new Error(`not a queued reply: ${text}`);
  return m[1]!;
}

/** Bodies (exact bytes) of the messages in a local user's INBOX, waiting until there are at least `count`. */
export async function inbox(t: TestServer, address: string, count = 1): Promise<Buffer[]> {
  const { store, blobs } = t.server.resources;
  const refs = await waitFor(async () => {
    const user = await store.getUser(address);
    const box = user ? await store.getMailbox(user.id, 'INBOX') : null;
    const list = box ? await store.listMailboxMessages(box.id) : [];
    return list.length >= count ? list : null;
  }, `${count} message(s) in the INBOX of ${address}`);
  return Promise.all(refs.map((m) => blobs.read(m.blobRef)));
}

/** The messages in a local user's INBOX right now, as text (empty when there is no such mailbox yet). */
export async function mailboxTexts(t: TestServer, address: string): Promise<string[]> {
  const { store, blobs } = t.server.resources;
  const user = await store.getUser(address);
  const box = user ? await store.getMailbox(user.id, 'INBOX') : null;
  if (!box) return [];
  const list = await store.listMailboxMessages(box.id);
  return Promise.all(list.map(async (m) => (await blobs.read(m.blobRef)).toString('utf8')));
}

/** Run one EHLO-less transaction on an open session; returns the final reply (after the dot). */
export async function sendMail(
  c: RawSmtp,
  from: string,
  rcpts: string[],
  body: string,
): Promise<{ mail: ServerReply; rcpts: ServerReply[]; data: ServerReply | null; end: ServerReply | null }> {
  const mail = await c.cmd(`MAIL FROM:<${from}>`);
  const rs: ServerReply[] = [];
  for (const r of rcpts) rs.push(await c.cmd(`RCPT TO:<${r}>`));
  const data = await c.cmd('DATA');
  if (data.code !== 354) return { mail, rcpts: rs, data, end: null };
  c.write(`${body.replace(/(^|\r\n)\./g, '$1..')}\r\n.\r\n`);
  return { mail, rcpts: rs, data, end: await c.read() };
}

/**
 * Hand one message to a server's `smtp` listener from loopback (inside relay.networks), as an
 * application would; every step must be accepted. Returns the queue id.
 */
export async function relayThrough(
  t: TestServer,
  from: string,
  to: string,
  subject: string,
  text = 'hello',
): Promise<string> {
  const c = await RawSmtp.connect(t.port('smtp'));
  try {
    await c.read();
    await c.cmd('EHLO app.test');
    const r = await sendMail(c, from, [to], `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\n${text}`);
    expect(r.mail.code).toBe(250);
    expect(r.rcpts.map((x) => x.code)).toEqual([250]);
    expect(r.end?.code).toBe(250);
    return queueId(r.end as ServerReply);
  } finally {
    c.close();
  }
}

/** Dialog lines for an EHLO and its whole reply (10 `250-` lines with STARTTLS offered, 9 without). */
export function ehlo(name = 'client.example', startTls = true): string {
  return `C: EHLO ${name}\n${'S: 250-*\n'.repeat(startTls ? 10 : 9)}S: 250 HELP\n`;
}

let collect: (() => void) | null = null;

/**
 * Memory this process holds after a full garbage collection (heap plus buffers): what a server in the
 * same process retains, without the garbage that a GC would free anyway.
 */
export function retainedMemory(): number {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  // Twice: buffers whose backing store is released by the first collection's callbacks go in the second.
  collect();
  collect();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
