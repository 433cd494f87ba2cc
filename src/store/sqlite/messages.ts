import { StoreConflictError } from '../errors.js';
import type { Message, NewMessage, Recipient } from '../types.js';
import type { Db } from './db.js';
import { FINAL_SQL, type MessageRow, type RecipientRow, toMessage, toRecipient } from './rows.js';

/** Message envelopes and their recipients: intake (commit) and clean-up (finished, delete). */
export class Messages {
  constructor(private readonly db: Db) {}

  /**
   * Insert every message with its recipients in one transaction: the spool's group commit,
   * one fsync for many messages. A duplicate id fails the whole batch.
   */
  async commit(messages: readonly NewMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const insertMessage = this.db.stmt(
      `INSERT INTO messages (id, mail_from, body_type, smtputf8, dsn_ret, dsn_envid, size, blob_ref, received_at, client)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    const insertRecipient = this.db.stmt(
      `INSERT INTO recipients (message_id, address, orcpt, notify, state, attempts, next_attempt_at, updated_at, last_reply)
       VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)`,
    );
    const insertBody = this.db.stmt('INSERT INTO blobs (id, data) VALUES (?, ?)');
    const insertEvent = this.db.stmt(
      "INSERT INTO events (at, message_id, recipient, type, detail) VALUES (?, ?, NULL, 'received', ?)",
    );
    await this.db.durableWrite(() => {
      for (const m of messages) {
        if (m.body) {
          if (m.blobRef !== `db:${m.id}`) throw new Error(`inline body of ${m.id} needs blobRef db:${m.id}`);
          insertBody.run(m.id, m.body);
        }
        const r = insertMessage.run(
          m.id,
          m.mailFrom,
          m.bodyType,
          m.smtputf8 ? 1 : 0,
          m.dsnRet,
          m.dsnEnvid,
          m.size,
          m.blobRef,
          m.receivedAt,
          JSON.stringify(m.client ?? {}),
        );
        if (r.changes === 0) throw new StoreConflictError(`message ${m.id} already exists`);
        for (const rcpt of m.recipients) {
          const notify = rcpt.notify === null ? null : JSON.stringify(rcpt.notify);
          const state = m.holdReason ? 'held' : 'queued';
          insertRecipient.run(
            m.id,
            rcpt.address,
            rcpt.orcpt,
            notify,
            state,
            m.notBefore ?? m.receivedAt,
            m.receivedAt,
            m.holdReason ?? null,
          );
        }
        insertEvent.run(m.receivedAt, m.id, JSON.stringify(receivedDetail(m)));
      }
    });
  }

  /** An inline body, or null. */
  readBody(id: string): Buffer | null {
    const row = this.db.stmt('SELECT data FROM blobs WHERE id = ?').get(id) as { data: Buffer } | undefined;
    return row?.data ?? null;
  }

  /** Delete an inline body within the caller's transaction; true when there was one. */
  dropBody(id: string): boolean {
    return this.db.stmt('DELETE FROM blobs WHERE id = ?').run(id).changes > 0;
  }

  /** Delete an inline body; relaxed, since clean-up redoes it if lost. */
  deleteBody(id: string): boolean {
    return this.db.relaxedWrite(() => this.db.stmt('DELETE FROM blobs WHERE id = ?').run(id).changes > 0);
  }

  get(id: string): Message | null {
    const row = this.db.stmt('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | undefined;
    return row ? toMessage(row) : null;
  }

  /** Recipients of a message in the order they were given. */
  recipients(messageId: string): Recipient[] {
    const rows = this.db.stmt('SELECT * FROM recipients WHERE message_id = ? ORDER BY id').all(messageId);
    return (rows as RecipientRow[]).map(toRecipient);
  }

  /**
   * Delete messages whose recipients are all final and return their blob refs, for the caller
   * to remove once no one else uses them. Messages with work left (or unknown) are skipped.
   * One transaction for the batch; relaxed, since clean-up finds and redoes anything lost.
   */
  deleteMany(ids: readonly string[]): { id: string; blobRef: string }[] {
    const select = this.db.stmt('SELECT blob_ref FROM messages WHERE id = ?');
    const pending = this.db.stmt(
      `SELECT 1 FROM recipients WHERE message_id = ? AND state NOT IN (${FINAL_SQL}) LIMIT 1`,
    );
    const delRecipients = this.db.stmt('DELETE FROM recipients WHERE message_id = ?');
    const delMessage = this.db.stmt('DELETE FROM messages WHERE id = ?');
    return this.db.relaxedWrite(() => {
      const out: { id: string; blobRef: string }[] = [];
      for (const id of ids) {
        const row = select.get(id) as { blob_ref: string } | undefined;
        if (!row || pending.get(id)) continue;
        delRecipients.run(id);
        delMessage.run(id);
        out.push({ id, blobRef: row.blob_ref });
      }
      return out;
    });
  }

  /** Ids of messages with no recipient left to work on, oldest first. */
  finished(limit: number): string[] {
    if (limit <= 0) return [];
    const rows = this.db
      .stmt(
        `SELECT m.id FROM messages m
         WHERE NOT EXISTS (
           SELECT 1 FROM recipients r WHERE r.message_id = m.id AND r.state NOT IN (${FINAL_SQL}))
         ORDER BY m.received_at, m.id
         LIMIT ?`,
      )
      .all(limit) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Whether a queued message still points at the blob. */
  referencesBlob(blobRef: string): boolean {
    return this.db.stmt('SELECT 1 FROM messages WHERE blob_ref = ? LIMIT 1').get(blobRef) !== undefined;
  }
}

/** The timeline's first entry, written with the message so a crash can never separate them. */
export function receivedDetail(m: NewMessage): Record<string, unknown> {
  return {
    ...m.client,
    from: m.mailFrom,
    recipients: m.recipients.map((r) => r.address),
    size: m.size,
    ...(m.holdReason ? { held: m.holdReason } : {}),
  };
}
