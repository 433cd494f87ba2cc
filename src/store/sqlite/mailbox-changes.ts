import { StoreNotFoundError } from '../errors.js';
import type {
  CopyResult,
  ExpungeResult,
  FlagChange,
  FlagChangeResult,
  MailboxMessage,
  MailboxUsage,
} from '../types.js';
import { type Db, jsonList } from './db.js';
import { type MailboxMessageRow, MSG_COLS, toMailboxMessage } from './mailboxes.js';

/**
 * Changes to mailbox contents after delivery: flags, expunges, copies and moves. Each bumps the
 * mailbox's HIGHESTMODSEQ once per call, so CONDSTORE clients see one change per command.
 */
export class MailboxChanges {
  constructor(private readonly db: Db) {}

  storeFlags(mailboxId: number, change: FlagChange): FlagChangeResult {
    return this.db.write(() => {
      const highest = this.highestModseq(mailboxId);
      const rows = this.selectByUid(mailboxId, change.uids);
      const failed: number[] = [];
      const updates: MailboxMessage[] = [];
      for (const m of rows) {
        if (change.unchangedSince !== undefined && m.modseq > change.unchangedSince) {
          failed.push(m.uid);
          continue;
        }
        const flags = applyFlags(m.flags, change.mode, change.flags);
        if (sameFlags(flags, m.flags)) continue;
        updates.push({ ...m, flags });
      }
      if (updates.length === 0) return { changed: [], failed, highestModseq: highest };
      const modseq = highest + 1;
      const update = this.db.stmt('UPDATE mailbox_messages SET flags = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?');
      for (const m of updates) {
        update.run(JSON.stringify(m.flags), modseq, mailboxId, m.uid);
        m.modseq = modseq;
      }
      this.setHighest(mailboxId, modseq);
      return { changed: updates, failed, highestModseq: modseq };
    });
  }

  expunge(mailboxId: number, opts: { uids?: number[]; deletedOnly?: boolean } = {}): ExpungeResult {
    return this.db.write(() => this.expungeIn(mailboxId, opts.uids ?? null, opts.deletedOnly ?? true));
  }

  /** UIDs expunged after `modseq`, ascending. */
  expungedSince(mailboxId: number, modseq: number): number[] {
    const rows = this.db
      .stmt('SELECT uid FROM mailbox_expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid')
      .all(mailboxId, modseq) as { uid: number }[];
    return rows.map((r) => r.uid);
  }

  copy(fromId: number, toId: number, uids: number[], move: boolean): CopyResult {
    return this.db.write(() => {
      this.highestModseq(fromId);
      const dest = this.db
        .stmt('SELECT uid_validity, uid_next, highest_modseq FROM mailboxes WHERE id = ?')
        .get(toId) as { uid_validity: number; uid_next: number; highest_modseq: number } | undefined;
      if (!dest) throw new StoreNotFoundError(`mailbox ${toId} does not exist`);
      const rows = this.selectByUid(fromId, uids);
      const modseq = dest.highest_modseq + 1;
      const insert = this.db.stmt(
        `INSERT INTO mailbox_messages (mailbox_id, uid, blob_ref, size, flags, internal_date, modseq, structure)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const mapping: CopyResult['mapping'] = [];
      let next = dest.uid_next;
      for (const m of rows) {
        insert.run(toId, next, m.blobRef, m.size, JSON.stringify(m.flags), m.internalDate, modseq, m.structure);
        mapping.push({ from: m.uid, to: next });
        next += 1;
      }
      if (rows.length > 0) {
        this.db.stmt('UPDATE mailboxes SET uid_next = ?, highest_modseq = ? WHERE id = ?').run(next, modseq, toId);
      }
      const expunged =
        move && rows.length > 0
          ? this.expungeIn(
              fromId,
              rows.map((m) => m.uid),
              false,
            )
          : null;
      return { uidValidity: dest.uid_validity, mapping, expunged };
    });
  }

  /** Space used by all of a user's mailboxes. */
  usage(userId: number): MailboxUsage {
    const r = this.db
      .stmt(
        `SELECT coalesce(sum(mm.size), 0) AS bytes, count(mm.uid) AS messages
         FROM mailboxes mb JOIN mailbox_messages mm ON mm.mailbox_id = mb.id WHERE mb.user_id = ?`,
      )
      .get(userId) as { bytes: number; messages: number };
    return { bytes: r.bytes, messages: r.messages };
  }

  setSubscription(userId: number, name: string, subscribed: boolean): boolean {
    if (subscribed) {
      if (this.db.stmt('SELECT 1 FROM users WHERE id = ?').get(userId) === undefined) {
        throw new StoreNotFoundError(`user ${userId} does not exist`);
      }
      return (
        this.db
          .stmt('INSERT INTO mailbox_subscriptions (user_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING')
          .run(userId, name).changes > 0
      );
    }
    return (
      this.db.stmt('DELETE FROM mailbox_subscriptions WHERE user_id = ? AND name = ?').run(userId, name).changes > 0
    );
  }

  subscriptions(userId: number): string[] {
    const rows = this.db.stmt('SELECT name FROM mailbox_subscriptions WHERE user_id = ? ORDER BY name').all(userId) as {
      name: string;
    }[];
    return rows.map((r) => r.name);
  }

  private expungeIn(mailboxId: number, uids: number[] | null, deletedOnly: boolean): ExpungeResult {
    const highest = this.highestModseq(mailboxId);
    const all = this.db
      .stmt(
        uids === null
          ? `SELECT ${MSG_COLS} FROM mailbox_messages WHERE mailbox_id = ? ORDER BY uid`
          : `SELECT ${MSG_COLS} FROM mailbox_messages
             WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
      )
      .all(...(uids === null ? [mailboxId] : [mailboxId, jsonList(uids)])) as MailboxMessageRow[];
    const gone = all
      .map(toMailboxMessage)
      .filter((m) => !deletedOnly || m.flags.some((f) => f.toLowerCase() === '\\deleted'));
    if (gone.length === 0) return { expunged: [], modseq: highest };
    const modseq = highest + 1;
    const del = this.db.stmt('DELETE FROM mailbox_messages WHERE mailbox_id = ? AND uid = ?');
    const log = this.db.stmt(
      `INSERT INTO mailbox_expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)
       ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = excluded.modseq`,
    );
    for (const m of gone) {
      del.run(mailboxId, m.uid);
      log.run(mailboxId, m.uid, modseq);
    }
    this.setHighest(mailboxId, modseq);
    return { expunged: gone.map((m) => ({ uid: m.uid, blobRef: m.blobRef, size: m.size })), modseq };
  }

  private selectByUid(mailboxId: number, uids: readonly number[]): MailboxMessage[] {
    const rows = this.db
      .stmt(
        `SELECT ${MSG_COLS} FROM mailbox_messages
         WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
      )
      .all(mailboxId, jsonList(uids)) as MailboxMessageRow[];
    return rows.map(toMailboxMessage);
  }

  private highestModseq(mailboxId: number): number {
    const box = this.db.stmt('SELECT highest_modseq AS h FROM mailboxes WHERE id = ?').get(mailboxId) as
      | { h: number }
      | undefined;
    if (!box) throw new StoreNotFoundError(`mailbox ${mailboxId} does not exist`);
    return box.h;
  }

  private setHighest(mailboxId: number, modseq: number): void {
    this.db.stmt('UPDATE mailboxes SET highest_modseq = ? WHERE id = ?').run(modseq, mailboxId);
  }
}

/** The flags after an add, remove or replace (flag names compared case-insensitively, as IMAP does). */
export function applyFlags(current: readonly string[], mode: FlagChange['mode'], flags: readonly string[]): string[] {
  const key = (f: string) => f.toLowerCase();
  if (mode === 'replace') return dedupe(flags);
  if (mode === 'add') return dedupe([...current, ...flags]);
  const drop = new Set(flags.map(key));
  return current.filter((f) => !drop.has(key(f)));
}

function dedupe(flags: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of flags) {
    const k = f.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(f);
  }
  return out;
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a.map((f) => f.toLowerCase()));
  return b.every((f) => set.has(f.toLowerCase()));
}
