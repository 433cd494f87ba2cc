import type { Suppression, SuppressionReason } from '../types.js';
import { type Db, jsonList } from './db.js';

interface SuppressionRow {
  address: string;
  reason: string;
  detail: string | null;
  message_id: string | null;
  created_at: number;
}

function toSuppression(r: SuppressionRow): Suppression {
  return {
    address: r.address,
    reason: r.reason as SuppressionReason,
    detail: r.detail,
    messageId: r.message_id,
    createdAt: r.created_at,
  };
}

/** Addresses mail is not sent to. */
export class Suppressions {
  constructor(private readonly db: Db) {}

  async add(s: Suppression): Promise<Suppression> {
    const row = { ...s, address: s.address.toLowerCase() };
    const stmt = this.db.stmt(
      `INSERT INTO suppressions (address, reason, detail, message_id, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (address) DO UPDATE SET reason = excluded.reason, detail = excluded.detail,
         message_id = excluded.message_id, created_at = excluded.created_at`,
    );
    await this.db.durableWrite(() => stmt.run(row.address, row.reason, row.detail, row.messageId, row.createdAt));
    return row;
  }

  find(addresses: readonly string[]): Suppression[] {
    if (addresses.length === 0) return [];
    const rows = this.db
      .stmt('SELECT * FROM suppressions WHERE address IN (SELECT value FROM json_each(?))')
      .all(jsonList(addresses.map((a) => a.toLowerCase()))) as SuppressionRow[];
    return rows.map(toSuppression);
  }

  list(limit: number, after?: string): Suppression[] {
    const rows = (
      after === undefined
        ? this.db.stmt('SELECT * FROM suppressions ORDER BY address LIMIT ?').all(limit)
        : this.db.stmt('SELECT * FROM suppressions WHERE address > ? ORDER BY address LIMIT ?').all(after, limit)
    ) as SuppressionRow[];
    return rows.map(toSuppression);
  }

  async remove(address: string): Promise<boolean> {
    const stmt = this.db.stmt('DELETE FROM suppressions WHERE address = ?');
    return (await this.db.durableWrite(() => stmt.run(address.toLowerCase()).changes)) > 0;
  }
}
