import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type MailboxChange, MailboxError, QuotaExceededError } from '../../src/mailbox/index.js';
import type { User } from '../../src/store/index.js';
import { type MailboxFixture, openMailboxFixture, rfc822 } from './fixtures.js';

let f: MailboxFixture;
let user: User;

beforeEach(async () => {
  f = await openMailboxFixture();
  user = await f.store.addUser('alice@example.com', 'h');
});
afterEach(async () => {
  await f.close();
});

describe('MailboxService mailboxes', () => {
  it('creates INBOX and the special-use mailboxes on first use, subscribed', async () => {
    const boxes = await f.service.list(user.id);
    expect(boxes.map((b) => [b.name, b.specialUse])).toEqual([
      ['Archive', '\\Archive'],
      ['Drafts', '\\Drafts'],
      ['INBOX', null],
      ['Junk', '\\Junk'],
      ['Sent', '\\Sent'],
      ['Trash', '\\Trash'],
    ]);
    expect(await f.service.subscriptions(user.id)).toEqual(['Archive', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']);
    expect((await f.service.get(user.id, 'inbox'))?.name).toBe('INBOX');
  });

  it('creates with parents, refuses duplicates and bad names', async () => {
    const box = await f.service.create(user.id, 'Projects/2026/Q1/');
    expect(box.name).toBe('Projects/2026/Q1');
    expect(await f.service.get(user.id, 'Projects/2026')).not.toBeNull();
    await expect(f.service.create(user.id, 'Projects')).rejects.toMatchObject({ code: 'ALREADYEXISTS' });
    await expect(f.service.create(user.id, 'a//b')).rejects.toMatchObject({ code: 'CANNOT' });
    await expect(f.service.create(user.id, 'a*')).rejects.toMatchObject({ code: 'CANNOT' });
    await expect(f.service.create(user.id, 'Inbox')).rejects.toMatchObject({ code: 'ALREADYEXISTS' });
  });

  it('renames with children; renaming INBOX moves its messages and leaves it empty', async () => {
    await f.service.create(user.id, 'Work/Old');
    const work = await f.service.require(user.id, 'Work');
    await f.service.rename(user.id, 'Work', 'Jobs');
    expect(await f.service.get(user.id, 'Jobs/Old')).not.toBeNull();
    expect((await f.service.get(user.id, 'Jobs'))?.uidValidity).toBe(work.uidValidity);
    await expect(f.service.rename(user.id, 'Jobs', 'Jobs/Inner')).rejects.toMatchObject({ code: 'CANNOT' });
    await expect(f.service.rename(user.id, 'Nope', 'X')).rejects.toMatchObject({ code: 'NONEXISTENT' });
    await expect(f.service.rename(user.id, 'Jobs', 'Sent')).rejects.toMatchObject({ code: 'ALREADYEXISTS' });

    await f.service.append(user.id, 'INBOX', rfc822('one'));
    await f.service.append(user.id, 'INBOX', rfc822('two'));
    const old = await f.service.rename(user.id, 'INBOX', 'Old Inbox');
    expect(old.name).toBe('Old Inbox');
    expect((await f.service.messages(old.id)).map((m) => m.uid)).toEqual([1, 2]);
    const inbox = await f.service.require(user.id, 'INBOX');
    expect(await f.service.messages(inbox.id)).toEqual([]);
  });

  it('deletes a mailbox and its blobs, never INBOX', async () => {
    const box = await f.service.create(user.id, 'Tmp');
    const { message } = await f.service.append(user.id, box, rfc822('bye'));
    await f.service.delete(user.id, 'Tmp');
    expect(await f.service.get(user.id, 'Tmp')).toBeNull();
    await expect(f.blobs.read(message.blobRef)).rejects.toThrow();
    await expect(f.service.delete(user.id, 'inbox')).rejects.toMatchObject({ code: 'CANNOT' });
    await expect(f.service.delete(user.id, 'Tmp')).rejects.toBeInstanceOf(MailboxError);
  });
});

describe('MailboxService messages', () => {
  it('appends with flags and internal date, and streams the body back', async () => {
    const body = rfc822('hello', 'x'.repeat(100_000));
    const r = await f.service.append(user.id, 'Sent', body, { flags: ['\\seen', 'Work'], internalDate: 1234 });
    const sent = await f.service.require(user.id, 'Sent');
    expect(r).toMatchObject({ uid: 1, uidValidity: sent.uidValidity });
    expect(r.message).toMatchObject({ flags: ['\\Seen', 'Work'], internalDate: 1234, size: body.length });
    expect(await text(f.service.openBody(r.message) as NodeJS.ReadableStream & AsyncIterable<Buffer>)).toBe(
      body.toString(),
    );
    expect((await f.service.readBody(r.message)).equals(body)).toBe(true);
    await expect(f.service.append(user.id, 'Nowhere', body)).rejects.toMatchObject({ code: 'NONEXISTENT' });
  });

  it('stores flags with a modseq bump, honouring UNCHANGEDSINCE', async () => {
    const inbox = await f.service.require(user.id, 'INBOX');
    for (const s of ['a', 'b', 'c']) await f.service.append(user.id, inbox, rfc822(s));
    const r = await f.service.storeFlags(inbox.id, { uids: [1, 2], mode: 'add', flags: ['\\FLAGGED'] });
    expect(r.changed.map((m) => [m.uid, m.flags])).toEqual([
      [1, ['\\Flagged']],
      [2, ['\\Flagged']],
    ]);
    const modseq = r.highestModseq;
    expect((await f.service.refresh(inbox.id)).highestModseq).toBe(modseq);
    await f.service.storeFlags(inbox.id, { uids: [1], mode: 'add', flags: ['\\Seen'] });
    const cond = await f.service.storeFlags(inbox.id, {
      uids: [1, 2],
      mode: 'remove',
      flags: ['\\Flagged'],
      unchangedSince: modseq,
    });
    expect(cond.failed).toEqual([1]);
    expect(cond.changed.map((m) => m.uid)).toEqual([2]);
  });

  it('expunges \\Deleted messages, logs them for VANISHED, and frees their blobs', async () => {
    const inbox = await f.service.require(user.id, 'INBOX');
    const a = await f.service.append(user.id, inbox, rfc822('a'));
    await f.service.append(user.id, inbox, rfc822('b'));
    const before = (await f.service.refresh(inbox.id)).highestModseq;
    await f.service.storeFlags(inbox.id, { uids: [1], mode: 'add', flags: ['\\Deleted'] });
    const r = await f.service.expunge(inbox.id);
    expect(r.expunged.map((e) => e.uid)).toEqual([1]);
    expect(await f.service.expungedSince(inbox.id, before)).toEqual([1]);
    await expect(f.blobs.read(a.message.blobRef)).rejects.toThrow();
    expect((await f.service.messages(inbox.id)).map((m) => m.uid)).toEqual([2]);
  });

  it('copies (blob shared, kept while either copy exists) and moves with UID mappings', async () => {
    const inbox = await f.service.require(user.id, 'INBOX');
    const archive = await f.service.require(user.id, 'Archive');
    const a = await f.service.append(user.id, inbox, rfc822('a'));
    await f.service.append(user.id, inbox, rfc822('b'));
    const copied = await f.service.copy(inbox, archive, [1, 2]);
    expect(copied).toMatchObject({
      uidValidity: archive.uidValidity,
      mapping: [
        { from: 1, to: 1 },
        { from: 2, to: 2 },
      ],
    });
    await f.service.expunge(inbox.id, { uids: [1], deletedOnly: false });
    expect((await f.blobs.read(a.message.blobRef)).length).toBe(a.message.size);

    const trash = await f.service.require(user.id, 'Trash');
    const moved = await f.service.move(archive, trash, [1, 2]);
    expect(moved.mapping).toEqual([
      { from: 1, to: 1 },
      { from: 2, to: 2 },
    ]);
    expect(moved.expunged?.expunged.map((e) => e.uid)).toEqual([1, 2]);
    expect(await f.service.messages(archive.id)).toEqual([]);
    expect((await f.service.messages(trash.id)).length).toBe(2);
  });
});

describe('MailboxService quota', () => {
  it('uses the configured default unless the user has their own; refuses what does not fit', async () => {
    const g = await openMailboxFixture({ defaultQuota: 1000 });
    try {
      const u = await g.store.addUser('bob@example.com', 'h');
      await g.service.append(u.id, 'INBOX', Buffer.alloc(600, 'a'));
      expect(await g.service.quota(u.id)).toEqual({ usedBytes: 600, messages: 1, limitBytes: 1000 });
      const err = await g.service.append(u.id, 'INBOX', Buffer.alloc(500, 'b')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QuotaExceededError);
      expect(err).toMatchObject({ code: 'OVERQUOTA', used: 600, limit: 1000, needed: 500 });
      const inbox = await g.service.require(u.id, 'INBOX');
      await expect(g.service.copy(inbox, await g.service.require(u.id, 'Archive'), [1])).rejects.toBeInstanceOf(
        QuotaExceededError,
      );
      await g.store.setUserQuota('bob@example.com', 5000);
      await g.service.append(u.id, 'INBOX', Buffer.alloc(500, 'b'));
      expect((await g.service.quota(u.id)).limitBytes).toBe(5000);
    } finally {
      await g.close();
    }
  });
});

describe('MailboxNotifier through the service', () => {
  it('tells listeners of a mailbox about new messages, flag changes and expunges', async () => {
    const inbox = await f.service.require(user.id, 'INBOX');
    const other = await f.service.require(user.id, 'Junk');
    const seen: MailboxChange[] = [];
    const junk: MailboxChange[] = [];
    const stop = f.service.notifier.subscribe(inbox.id, (c) => seen.push(c));
    f.service.notifier.subscribe(other.id, (c) => junk.push(c));
    f.service.notifier.subscribe(inbox.id, () => {
      throw new Error('a broken session');
    });
    await f.service.append(user.id, inbox, rfc822('a'), { origin: 'me' });
    await f.service.storeFlags(inbox.id, { uids: [1], mode: 'add', flags: ['\\Deleted'] });
    await f.service.expunge(inbox.id);
    expect(seen.map((c) => c.type)).toEqual(['exists', 'flags', 'expunge']);
    expect(seen[0]).toMatchObject({ origin: 'me', messages: [{ uid: 1 }] });
    expect(seen[2]).toMatchObject({ uids: [1] });
    expect(junk).toEqual([]);
    stop();
    await f.service.append(user.id, inbox, rfc822('b'));
    expect(seen).toHaveLength(3);
    expect(f.service.notifier.listeners(inbox.id)).toBe(1);
  });
});

describe('MailboxService streams, structure hook and status', () => {
  async function* chunks(n: number, size: number): AsyncGenerator<Buffer> {
    for (let i = 0; i < n; i++) yield Buffer.alloc(size, 0x61 + (i % 26));
  }

  it('appends a streamed body and refuses one over quota before or after writing it', async () => {
    const g = await openMailboxFixture({ defaultQuota: 100_000 });
    try {
      const u = await g.store.addUser('big@example.com', 'h');
      const r = await g.service.append(u.id, 'INBOX', chunks(10, 4096), { size: 40_960 });
      expect(r.message.size).toBe(40_960);
      expect((await g.service.readBody(r.message)).subarray(4096, 4097).toString()).toBe('b');
      // Announced too big: refused before reading.
      await expect(g.service.append(u.id, 'INBOX', chunks(1, 1), { size: 70_000 })).rejects.toBeInstanceOf(
        QuotaExceededError,
      );
      // Announced small, turned out big: refused after, nothing kept.
      await expect(g.service.append(u.id, 'INBOX', chunks(20, 4096), { size: 10 })).rejects.toBeInstanceOf(
        QuotaExceededError,
      );
      expect(await g.service.quota(u.id)).toMatchObject({ usedBytes: 40_960, messages: 1 });
    } finally {
      await g.close();
    }
  });

  it('fills the structure cache through the describe hook; a failing hook leaves it null', async () => {
    let fail = false;
    const g = await openMailboxFixture({
      describe: async (body) => {
        if (fail) throw new Error('unparseable');
        const text = await new Response(body as unknown as ReadableStream).text();
        return JSON.stringify({ subject: /Subject: (.*)\r\n/.exec(text)?.[1] });
      },
    });
    try {
      const u = await g.store.addUser('s@example.com', 'h');
      const a = await g.service.append(u.id, 'INBOX', rfc822('cached'));
      expect(a.message.structure).toBe('{"subject":"cached"}');
      fail = true;
      const b = await g.service.append(u.id, 'INBOX', rfc822('not cached'));
      expect(b.message.structure).toBeNull();
    } finally {
      await g.close();
    }
  });

  it('reports STATUS counts', async () => {
    const inbox = await f.service.require(user.id, 'INBOX');
    await f.service.append(user.id, inbox, rfc822('a'), { flags: ['\\Seen'] });
    await f.service.append(user.id, inbox, rfc822('b'), { flags: ['\\Deleted'] });
    await f.service.append(user.id, inbox, rfc822('c'));
    const s = await f.service.status(inbox.id);
    expect(s).toMatchObject({ messages: 3, unseen: 2, deleted: 1, uidNext: 4, uidValidity: inbox.uidValidity });
    expect(s.size).toBe(rfc822('a').length * 3);
    expect(s.highestModseq).toBeGreaterThan(0);
  });
});
