import type { PurgedMessage, QueuedMessage, QueueFilter, Recipient, RecipientState } from '../types.js';
import { type Db, jsonList } from './db.js';
import { type MessageRow, type RecipientRow, toMessage, toRecipient } from './rows.js';

/**
 * The recipient conditions of a QueueFilter, over a `recipients` row named `r`, with the
 * parameters from filterParams. The domain is matched as a suffix so an `@` in a quoted local
 * part cannot confuse it.
 */
export const RECIPIENT_FILTER_SQL = `(@states IS NULL OR r.state IN (SELECT value FROM json_each(@states)))
  AND (@domain IS NULL OR substr(lower(r.address), -length(@domain) - 1) = '@' || @domain)
  AND (@before IS NULL OR r.message_id IN (SELECT id FROM messages WHERE received_at < @before))`;

/** Statement parameters for RECIPIENT_FILTER_SQL. */
export function filterParams(filter: QueueFilter): {
  states: string | null;
  domain: string | null;
  before: number | null;
} {
  return {
    states: filter.states ? jsonList(filter.states) : null,
    domain: filter.domain ? filter.domain.toLowerCase() : null,
    before: filter.olderThan ?? null,
  };
}

// The states changeRecipientStates may move from, per target; the same rules as Queue.setState.
const MOVABLE: Record<'held' | 'queued', readonly RecipientState[]> = {
  held: ['queued', 'deferred'],
  queued: ['held', 'deferred'],
};

/** Operator actions on the queue: per-message listing, hold/release/retry with results, purge. */
export class QueueTools {
  constructor(private readonly db: Db) {}

  /** Messages with a matching recipient, oldest first, each with all its recipients. */
  listMessages(filter: QueueFilter = {}): QueuedMessage[] {
    const select = this.db.stmt(
      `SELECT m.* FROM messages m
       WHERE (@mid IS NULL OR m.id = @mid)
         AND (@before IS NULL OR m.received_at < @before)
         AND EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id AND ${RECIPIENT_FILTER_SQL})
       ORDER BY m.received_at, m.id
       LIMIT @limit`,
    );
    const recipients = this.db.stmt(
      `SELECT * FROM recipients WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY id`,
    );
    // One snapshot, so every message comes with the recipients it had at the moment it matched.
    return this.db.read(() => {
      const rows = select.all({
        ...filterParams(filter),
        mid: filter.messageId ?? null,
        // SQLite reads a negative LIMIT as "no limit".
        limit: filter.limit ?? -1,
      }) as MessageRow[];
      if (rows.length === 0) return [];
      const byMessage = new Map<string, Recipient[]>(rows.map((m) => [m.id, []]));
      for (const r of recipients.all(jsonList(rows.map((m) => m.id))) as RecipientRow[]) {
        byMessage.get(r.message_id)?.push(toRecipient(r));
      }
      return rows.map((m) => ({ ...toMessage(m), recipients: byMessage.get(m.id) ?? [] }));
    });
  }

  /** Move recipients in one of `from` to `to`; returns the moved ones, in id order. */
  change(ids: readonly number[], from: readonly RecipientState[], to: 'held' | 'queued', now: number): Recipient[] {
    if (to !== 'held' && to !== 'queued') throw new Error(`changeRecipientStates: cannot set state ${String(to)}`);
    const allowed = from.filter((s) => MOVABLE[to].includes(s));
    if (ids.length === 0 || allowed.length === 0) return [];
    // Only a release or retry makes the recipient due; a hold keeps next_attempt_at for the record.
    const update = this.db.stmt(
      `UPDATE recipients
       SET state = @to, updated_at = @now,
           next_attempt_at = CASE WHEN @to = 'queued' THEN @now ELSE next_attempt_at END
       WHERE id IN (SELECT value FROM json_each(@ids)) AND state IN (SELECT value FROM json_each(@from))
       RETURNING *`,
    );
    const rows = this.db.write(
      () => update.all({ ids: jsonList(ids), from: jsonList(allowed), to, now }) as RecipientRow[],
    );
    return rows.map(toRecipient).sort((a, b) => a.id - b.id);
  }

  /** Delete messages in any state but delivering; returns what went, in the order asked. */
  async purge(ids: readonly string[]): Promise<PurgedMessage[]> {
    if (ids.length === 0) return [];
    const select = this.db.stmt('SELECT blob_ref FROM messages WHERE id = ?');
    const recipients = this.db.stmt('SELECT * FROM recipients WHERE message_id = ? ORDER BY id');
    const delRecipients = this.db.stmt('DELETE FROM recipients WHERE message_id = ?');
    const delMessage = this.db.stmt('DELETE FROM messages WHERE id = ?');
    // Durable: an operator's delete (spam, a runaway loop) must not come back after a power loss.
    return this.db.durableWrite(() => {
      const out: PurgedMessage[] = [];
      for (const id of new Set(ids)) {
        const row = select.get(id) as { blob_ref: string } | undefined;
        if (!row) continue;
        const rs = (recipients.all(id) as RecipientRow[]).map(toRecipient);
        // A recipient in flight may be delivered any moment; deleting under it would lose its outcome.
        if (rs.some((r) => r.state === 'delivering')) continue;
        delRecipients.run(id);
        delMessage.run(id);
        out.push({ id, blobRef: row.blob_ref, recipients: rs });
      }
      return out;
    });
  }
}
