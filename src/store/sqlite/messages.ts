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
  commit(messages: readonly NewMessage[]): void {
    if (messages.length === 0) return;
    const insertMessage = this.db.stmt(
      `INSERT INTO messages (id, mail_from, body_type, smtputf8, dsn_ret, dsn_envid, size, blob_ref, received_at, client)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    const insertRecipient = this.db.stmt(
      `INSERT INTO recipients (message_id, address, orcpt, notify, state, attempts, next_attempt_at, updated_at)
       VALUES (?, ?, ?, ?, 'queued', 0, ?, ?)`,
    );
    this.db.write(() => {
      for (const m of messages) {
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
          insertRecipient.run(m.id, rcpt.address, rcpt.orcpt, notify, m.receivedAt, m.receivedAt);
        }
      }
    });
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
   * Delete a message whose recipients are all final and return its blob ref, for the caller
   * to remove once no one else uses it. A message with work left is refused (null).
   */
  delete(id: string): string | null {
    return this.db.write(() => {
      const row = this.db.stmt('SELECT blob_ref FROM messages WHERE id = ?').get(id) as
        | { blob_ref: string }
        | undefined;
      if (!row) return null;
      const pending = this.db
        .stmt(`SELECT 1 FROM recipients WHERE message_id = ? AND state NOT IN (${FINAL_SQL}) LIMIT 1`)
        .get(id);
      if (pending) return null;
      this.db.stmt('DELETE FROM recipients WHERE message_id = ?').run(id);
      this.db.stmt('DELETE FROM messages WHERE id = ?').run(id);
      return row.blob_ref;
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
