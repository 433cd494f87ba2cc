import type { NewEvent, StoredEvent } from '../types.js';
import type { Db } from './db.js';

interface EventRow {
  id: number;
  at: number;
  message_id: string | null;
  recipient: string | null;
  type: string;
  detail: string;
}

/** The per-message timeline. */
export class Events {
  constructor(private readonly db: Db) {}

  /** Insert a batch in one transaction, so a burst of events costs one commit. */
  append(events: readonly NewEvent[]): void {
    if (events.length === 0) return;
    const insert = this.db.stmt('INSERT INTO events (at, message_id, recipient, type, detail) VALUES (?, ?, ?, ?, ?)');
    // The timeline is history, not mail: it rides on the next durable commit.
    this.db.relaxedWrite(() => {
      for (const e of events) {
        insert.run(e.at, e.messageId, e.recipient ?? null, e.type, JSON.stringify(e.detail ?? {}));
      }
    });
  }

  /** A message's events in the order they were recorded. */
  list(messageId: string): StoredEvent[] {
    const rows = this.db.stmt('SELECT * FROM events WHERE message_id = ? ORDER BY id').all(messageId) as EventRow[];
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      messageId: r.message_id,
      recipient: r.recipient,
      type: r.type,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
    }));
  }
}
