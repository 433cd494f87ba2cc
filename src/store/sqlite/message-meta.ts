import type { EventCount, MessageListFilter, MessageListItem, MessageMeta } from '../types.js';
import type { Db } from './db.js';

interface MetaRow {
  message_id: string;
  api_key: string | null;
  subject: string | null;
  tags: string;
  metadata: string;
  created_at: number;
}

function toMeta(r: MetaRow): MessageMeta {
  return {
    messageId: r.message_id,
    apiKey: r.api_key,
    subject: r.subject,
    tags: JSON.parse(r.tags) as string[],
    metadata: JSON.parse(r.metadata) as Record<string, string>,
    createdAt: r.created_at,
  };
}

// A recipient's current state: its row while the message is queued, else the last delivery event on the timeline.
const STATUS_SQL = `(
  EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = e.message_id AND r.state = @status)
  OR EXISTS (
    SELECT 1 FROM events s WHERE s.message_id = e.message_id AND s.type = @status AND s.recipient IS NOT NULL
      AND s.id = (SELECT max(t.id) FROM events t WHERE t.message_id = s.message_id AND t.recipient = s.recipient)))`;

/** Message metadata from the API, message listings over the timeline, and event counts for stats. */
export class MessageMetas {
  constructor(private readonly db: Db) {}

  put(meta: MessageMeta): void {
    const stmt = this.db.stmt(
      `INSERT OR REPLACE INTO message_meta (message_id, api_key, subject, tags, metadata, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    // Relaxed: it is written before the message's own commit, whose fsync makes it durable too.
    this.db.relaxedWrite(() =>
      stmt.run(
        meta.messageId,
        meta.apiKey,
        meta.subject,
        JSON.stringify(meta.tags),
        JSON.stringify(meta.metadata),
        meta.createdAt,
      ),
    );
  }

  get(messageId: string): MessageMeta | null {
    const row = this.db.stmt('SELECT * FROM message_meta WHERE message_id = ?').get(messageId) as MetaRow | undefined;
    return row ? toMeta(row) : null;
  }

  list(f: MessageListFilter): MessageListItem[] {
    const where = ["e.type = 'received'", 'e.message_id IS NOT NULL'];
    const params: Record<string, unknown> = { limit: f.limit };
    if (f.before !== undefined) {
      where.push('e.id < @before');
      params.before = f.before;
    }
    if (f.since !== undefined) {
      where.push('e.at >= @since');
      params.since = f.since;
    }
    if (f.until !== undefined) {
      where.push('e.at < @until');
      params.until = f.until;
    }
    if (f.recipient !== undefined) {
      where.push(
        "EXISTS (SELECT 1 FROM json_each(e.detail, '$.recipients') j WHERE lower(j.value) = lower(@recipient))",
      );
      params.recipient = f.recipient;
    }
    if (f.tag !== undefined) {
      where.push('EXISTS (SELECT 1 FROM json_each(m.tags) j WHERE j.value = @tag)');
      params.tag = f.tag;
    }
    if (f.status !== undefined) {
      where.push(STATUS_SQL);
      params.status = f.status;
    }
    const sql = `SELECT e.id AS position, e.message_id, e.at, e.detail, m.message_id AS meta_id, m.api_key, m.subject,
        m.tags, m.metadata, m.created_at
      FROM events e LEFT JOIN message_meta m ON m.message_id = e.message_id
      WHERE ${where.join(' AND ')}
      ORDER BY e.id DESC LIMIT @limit`;
    const rows = this.db.stmt(sql).all(params) as (MetaRow & {
      position: number;
      at: number;
      detail: string;
      meta_id: string | null;
    })[];
    return rows.map((r) => ({
      position: r.position,
      messageId: r.message_id,
      receivedAt: r.at,
      detail: JSON.parse(r.detail) as Record<string, unknown>,
      meta: r.meta_id === null ? null : toMeta(r),
    }));
  }

  countEvents(types: readonly string[], from: number, to: number, bucketMs: number): EventCount[] {
    const rows = this.db
      .stmt(
        `SELECT CAST((at - @from) / @bucket AS INTEGER) AS n, type, count(*) AS count FROM events
         WHERE type IN (SELECT value FROM json_each(@types)) AND at >= @from AND at < @to
         GROUP BY n, type ORDER BY n, type`,
      )
      .all({ from, to, bucket: bucketMs, types: JSON.stringify(types) }) as {
      n: number;
      type: string;
      count: number;
    }[];
    return rows.map((r) => ({ bucket: from + r.n * bucketMs, type: r.type, count: r.count }));
  }
}
