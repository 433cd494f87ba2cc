/** Contract cases for mailboxes: UIDVALIDITY, UID and MODSEQ assignment, dedupe, blob references. */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/index.js';
import { newMessage } from './fixtures.js';

const msg = (n: number, dedupeKey?: string | null) => ({
  blobRef: `fs:0${n % 10}/B${n}`,
  size: 100 + n,
  flags: n % 2 ? ['\\Seen'] : [],
  internalDate: 1_700_000_000_000 + n,
  dedupeKey,
});

/** Mailbox contract cases; `s` returns the fresh store of the running test. */
export function describeMailboxContract(s: () => Store): void {
  describe('mailboxes', () => {
    it('creates a mailbox once, with a 32-bit UIDVALIDITY and empty counters', async () => {
      const u = await s().addUser('box@example.com', 'h');
      expect(await s().getMailbox(u.id, 'INBOX')).toBeNull();
      const inbox = await s().ensureMailbox(u.id, 'INBOX');
      expect(inbox).toMatchObject({ userId: u.id, name: 'INBOX', uidNext: 1, highestModseq: 0, specialUse: null });
      expect(Number.isInteger(inbox.uidValidity)).toBe(true);
      expect(inbox.uidValidity).toBeGreaterThan(0);
      expect(inbox.uidValidity).toBeLessThanOrEqual(0xffff_ffff);
      expect(await s().ensureMailbox(u.id, 'INBOX', '\\Inbox')).toEqual(inbox);
      expect(await s().getMailbox(u.id, 'INBOX')).toEqual(inbox);

      const sent = await s().ensureMailbox(u.id, 'Sent', '\\Sent');
      expect(sent.specialUse).toBe('\\Sent');
      expect(sent.id).not.toBe(inbox.id);
      expect((await s().listMailboxes(u.id)).map((m) => m.name).sort()).toEqual(['INBOX', 'Sent']);

      const other = await s().addUser('other@example.com', 'h');
      expect(await s().listMailboxes(other.id)).toEqual([]);
      expect(await s().getMailbox(other.id, 'INBOX')).toBeNull();
    });

    it('assigns increasing UIDs and MODSEQs and advances the mailbox counters', async () => {
      const u = await s().addUser('box@example.com', 'h');
      const box = await s().ensureMailbox(u.id, 'INBOX');
      const a = await s().appendMailboxMessage(box.id, msg(1));
      const b = await s().appendMailboxMessage(box.id, msg(2));
      const c = await s().appendMailboxMessage(box.id, msg(3));
      expect([a.uid, b.uid, c.uid]).toEqual([1, 2, 3]);
      expect(a.modseq).toBeGreaterThan(0);
      expect(b.modseq).toBeGreaterThan(a.modseq);
      expect(c.modseq).toBeGreaterThan(b.modseq);
      expect(a).toEqual({
        mailboxId: box.id,
        uid: 1,
        blobRef: 'fs:01/B1',
        size: 101,
        flags: ['\\Seen'],
        internalDate: 1_700_000_000_001,
        modseq: a.modseq,
      });
      expect(await s().listMailboxMessages(box.id)).toEqual([a, b, c]);
      const after = await s().getMailbox(u.id, 'INBOX');
      expect(after).toMatchObject({ uidNext: 4, highestModseq: c.modseq, uidValidity: box.uidValidity });
    });

    it('keeps UIDs unique under concurrent appends', async () => {
      const u = await s().addUser('box@example.com', 'h');
      const box = await s().ensureMailbox(u.id, 'INBOX');
      const all = await Promise.all(Array.from({ length: 20 }, (_, i) => s().appendMailboxMessage(box.id, msg(i))));
      expect(all.map((m) => m.uid).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(new Set(all.map((m) => m.modseq)).size).toBe(20);
    });

    it('makes a repeated append with the same dedupe key a no-op', async () => {
      const u = await s().addUser('box@example.com', 'h');
      const box = await s().ensureMailbox(u.id, 'INBOX');
      const first = await s().appendMailboxMessage(box.id, msg(1, 'rcpt:42'));
      const again = await s().appendMailboxMessage(box.id, { ...msg(9, 'rcpt:42') });
      expect(again).toEqual(first);
      expect(await s().listMailboxMessages(box.id)).toHaveLength(1);
      expect(await s().getMailbox(u.id, 'INBOX')).toMatchObject({ uidNext: 2, highestModseq: first.modseq });

      // The key is per mailbox, and messages without a key never collide.
      const other = await s().ensureMailbox(u.id, 'Archive');
      expect((await s().appendMailboxMessage(other.id, msg(1, 'rcpt:42'))).uid).toBe(1);
      await s().appendMailboxMessage(box.id, msg(2, null));
      await s().appendMailboxMessage(box.id, msg(3));
      expect((await s().listMailboxMessages(box.id)).map((m) => m.uid)).toEqual([1, 2, 3]);
    });

    it('refuses to append to a mailbox that does not exist', async () => {
      await expect(s().appendMailboxMessage(987_654, msg(1))).rejects.toThrow();
    });

    it('knows which blobs are still referenced', async () => {
      const u = await s().addUser('box@example.com', 'h');
      const box = await s().ensureMailbox(u.id, 'INBOX');
      expect(await s().blobInUse('fs:01/B1')).toBe(false);
      await s().appendMailboxMessage(box.id, msg(1));
      expect(await s().blobInUse('fs:01/B1')).toBe(true);
      await s().commitMessages([newMessage('Q', ['a@example.com'], { blobRef: 'fs:zz/Q' })]);
      expect(await s().blobInUse('fs:zz/Q')).toBe(true);
      expect(await s().blobInUse('fs:zz/other')).toBe(false);
    });
  });
}
