import { StoreConflictError, StoreNotFoundError } from '../errors.js';
import type { Mailbox, MailboxMessage, NewMailboxMessage } from '../types.js';
import { type Db, jsonList } from './db.js';

export interface MailboxRow {
  id: number;
  user_id: number;
  name: string;
  uid_validity: number;
  uid_next: number;
  highest_modseq: number;
  special_use: string | null;
}

export interface MailboxMessageRow {
  mailbox_id: number;
  uid: number;
  blob_ref: string;
  size: number;
  flags: string;
  internal_date: number;
  modseq: number;
  structure: string | null;
}

/** The mailbox_messages columns every read selects. */
export const MSG_COLS = 'mailbox_id, uid, blob_ref, size, flags, internal_date, modseq, structure';
const UINT32_MAX = 0xffff_ffff;

/** Mailboxes and their messages: UIDs and MODSEQs for IMAP, assigned atomically. */
export class Mailboxes {
  constructor(private readonly db: Db) {}

  /** Get or create a user's mailbox; an existing mailbox keeps its special-use. */
  ensure(userId: number, name: string, specialUse: string | null, now = Date.now()): Mailbox {
    // The common case (it exists) must not cost a write transaction and its fsync.
    const found = this.get(userId, name);
    if (found) return found;
    return this.db.write(() => {
      const existing = this.get(userId, name);
      if (existing) return existing;
      if (this.db.stmt('SELECT 1 FROM users WHERE id = ?').get(userId) === undefined) {
        throw new StoreNotFoundError(`user ${userId} does not exist`);
      }
      // UIDVALIDITY must differ from any earlier mailbox of the same name (RFC 3501 2.3.1.1),
      // including one deleted and re-created within the same second, so never reuse a value.
      const max = this.db
        .stmt(
          `SELECT max(coalesce((SELECT max(uid_validity) FROM mailboxes), 0),
                      coalesce((SELECT value FROM mailbox_counters WHERE name = 'uid_validity'), 0)) AS v`,
        )
        .get() as { v: number };
      let uidValidity = Math.max(Math.floor(now / 1000), max.v + 1);
      if (uidValidity > UINT32_MAX) uidValidity = 1; // after year 2106; nonzero is all IMAP needs
      // Remembered apart from the mailboxes, which may be deleted.
      this.db
        .stmt(
          `INSERT INTO mailbox_counters (name, value) VALUES ('uid_validity', ?)
           ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
        )
        .run(uidValidity);
      const r = this.db
        .stmt(
          `INSERT INTO mailboxes (user_id, name, uid_validity, uid_next, highest_modseq, special_use)
           VALUES (?, ?, ?, 1, 0, ?)`,
        )
        .run(userId, name, uidValidity, specialUse);
      return {
        id: Number(r.lastInsertRowid),
        userId,
        name,
        uidValidity,
        uidNext: 1,
        highestModseq: 0,
        specialUse,
      };
    });
  }

  get(userId: number, name: string): Mailbox | null {
    const row = this.db.stmt('SELECT * FROM mailboxes WHERE user_id = ? AND name = ?').get(userId, name) as
      | MailboxRow
      | undefined;
    return row ? toMailbox(row) : null;
  }

  list(userId: number): Mailbox[] {
    const rows = this.db.stmt('SELECT * FROM mailboxes WHERE user_id = ? ORDER BY name').all(userId);
    return (rows as MailboxRow[]).map(toMailbox);
  }

  /**
   * Append with the next UID and MODSEQ, bumping the mailbox counters in the same
   * transaction. With a dedupe key already present, return the first append unchanged.
   */
  append(mailboxId: number, msg: NewMailboxMessage): MailboxMessage {
    const dedupeKey = msg.dedupeKey ?? null;
    // With a dedupe key the append is idempotent: a delivery records its outcome with a durable
    // commit right after, whose fsync covers this one; if both are lost, the retry re-appends once.
    const tx = dedupeKey !== null ? this.db.relaxedWrite.bind(this.db) : this.db.write.bind(this.db);
    return tx(() => {
      if (dedupeKey !== null) {
        const prior = this.db
          .stmt(`SELECT ${MSG_COLS} FROM mailbox_messages WHERE mailbox_id = ? AND dedupe_key = ?`)
          .get(mailboxId, dedupeKey) as MailboxMessageRow | undefined;
        if (prior) return toMailboxMessage(prior);
      }
      const box = this.db.stmt('SELECT uid_next, highest_modseq FROM mailboxes WHERE id = ?').get(mailboxId) as
        | Pick<MailboxRow, 'uid_next' | 'highest_modseq'>
        | undefined;
      if (!box) throw new StoreNotFoundError(`mailbox ${mailboxId} does not exist`);
      const uid = box.uid_next;
      const modseq = box.highest_modseq + 1;
      this.db
        .stmt(
          `INSERT INTO mailbox_messages
             (mailbox_id, uid, blob_ref, size, flags, internal_date, modseq, dedupe_key, structure)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          mailboxId,
          uid,
          msg.blobRef,
          msg.size,
          JSON.stringify(msg.flags),
          msg.internalDate,
          modseq,
          dedupeKey,
          msg.structure ?? null,
        );
      this.db
        .stmt('UPDATE mailboxes SET uid_next = ?, highest_modseq = ? WHERE id = ?')
        .run(uid + 1, modseq, mailboxId);
      return {
        mailboxId,
        uid,
        blobRef: msg.blobRef,
        size: msg.size,
        flags: [...msg.flags],
        internalDate: msg.internalDate,
        modseq,
        structure: msg.structure ?? null,
      };
    });
  }

  /** Messages of a mailbox in UID order. */
  messages(mailboxId: number): MailboxMessage[] {
    const rows = this.db
      .stmt(`SELECT ${MSG_COLS} FROM mailbox_messages WHERE mailbox_id = ? ORDER BY uid`)
      .all(mailboxId) as MailboxMessageRow[];
    return rows.map(toMailboxMessage);
  }

  getById(id: number): Mailbox | null {
    const row = this.db.stmt('SELECT * FROM mailboxes WHERE id = ?').get(id) as MailboxRow | undefined;
    return row ? toMailbox(row) : null;
  }

  /** Rename a mailbox and its children (`from/...`) in one transaction. */
  rename(userId: number, from: string, to: string): Mailbox {
    return this.db.write(() => {
      const box = this.get(userId, from);
      if (!box) throw new StoreNotFoundError(`mailbox ${from} does not exist`);
      const prefix = `${from}/`;
      const children = this.list(userId).filter((m) => m.name.startsWith(prefix));
      const moves = [box, ...children].map((m) => ({ id: m.id, name: to + m.name.slice(from.length) }));
      for (const m of moves) {
        if (this.get(userId, m.name)) throw new StoreConflictError(`mailbox ${m.name} already exists`);
      }
      const update = this.db.stmt('UPDATE mailboxes SET name = ? WHERE id = ?');
      for (const m of moves) update.run(m.name, m.id);
      return { ...box, name: to };
    });
  }

  /** Delete one mailbox with its messages; the blob refs it held, or null when it did not exist. */
  delete(mailboxId: number): string[] | null {
    return this.db.write(() => {
      if (!this.getById(mailboxId)) return null;
      const refs = this.db
        .stmt('SELECT DISTINCT blob_ref AS r FROM mailbox_messages WHERE mailbox_id = ?')
        .all(mailboxId) as { r: string }[];
      this.db.stmt('DELETE FROM mailboxes WHERE id = ?').run(mailboxId);
      return refs.map((x) => x.r);
    });
  }

  /** Messages changed (appended or flagged) after `modseq`, in UID order. */
  messagesSince(mailboxId: number, modseq: number): MailboxMessage[] {
    const rows = this.db
      .stmt(`SELECT ${MSG_COLS} FROM mailbox_messages WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`)
      .all(mailboxId, modseq) as MailboxMessageRow[];
    return rows.map(toMailboxMessage);
  }

  /** The messages among `uids` that exist, in UID order. */
  messagesByUid(mailboxId: number, uids: readonly number[]): MailboxMessage[] {
    const rows = this.db
      .stmt(
        `SELECT ${MSG_COLS} FROM mailbox_messages
         WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
      )
      .all(mailboxId, jsonList(uids)) as MailboxMessageRow[];
    return rows.map(toMailboxMessage);
  }

  setStructure(mailboxId: number, uid: number, structure: string): boolean {
    // A cache that is recomputed when missing: not worth an fsync per message.
    return this.db.relaxedWrite(
      () =>
        this.db
          .stmt('UPDATE mailbox_messages SET structure = ? WHERE mailbox_id = ? AND uid = ?')
          .run(structure, mailboxId, uid).changes > 0,
    );
  }

  /** Whether a mailbox message still points at the blob. */
  referencesBlob(blobRef: string): boolean {
    return this.db.stmt('SELECT 1 FROM mailbox_messages WHERE blob_ref = ? LIMIT 1').get(blobRef) !== undefined;
  }
}

/** Map a mailboxes row to the contract type. */
export function toMailbox(r: MailboxRow): Mailbox {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    uidValidity: r.uid_validity,
    uidNext: r.uid_next,
    highestModseq: r.highest_modseq,
    specialUse: r.special_use,
  };
}

/** Map a mailbox_messages row to the contract type. */
export function toMailboxMessage(r: MailboxMessageRow): MailboxMessage {
  return {
    mailboxId: r.mailbox_id,
    uid: r.uid,
    blobRef: r.blob_ref,
    size: r.size,
    flags: JSON.parse(r.flags) as string[],
    internalDate: r.internal_date,
    modseq: r.modseq,
    structure: r.structure,
  };
}
