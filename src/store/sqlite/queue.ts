import type { DeliveryResult, QueueFilter, QueueSummary, Recipient, RecipientState } from '../types.js';
import { type Db, jsonList } from './db.js';
import { filterParams, RECIPIENT_FILTER_SQL } from './queue-tools.js';
import { type RecipientRow, toRecipient } from './rows.js';

const RESULT_STATES = new Set<DeliveryResult['state']>(['delivered', 'deferred', 'bounced', 'expired']);

/** The delivery queue: leasing due recipients to a node and recording outcomes. */
export class Queue {
  constructor(private readonly db: Db) {}

  /**
   * Lease up to `limit` due recipients to `node`. The pick and the update run in one
   * IMMEDIATE transaction, so two nodes (or processes) never lease the same recipient; a
   * lease that ran out is taken over, since its node is presumed dead.
   */
  claimDue(node: string, limit: number, now: number, leaseMs: number): Recipient[] {
    if (limit <= 0) return [];
    // UNION ALL instead of one OR so each branch walks its own index, and each branch is cut to
    // `limit` in index order, so a large backlog is never sorted as a whole.
    const claim = this.db.stmt(
      `UPDATE recipients
       SET state = 'delivering', lease_owner = @node, lease_until = @until, attempts = attempts + 1,
           updated_at = @now
       WHERE id IN (
         SELECT id FROM (
           SELECT * FROM (SELECT id, next_attempt_at FROM recipients
             WHERE state = 'queued' AND next_attempt_at <= @now ORDER BY next_attempt_at, id LIMIT @limit)
           UNION ALL
           SELECT * FROM (SELECT id, next_attempt_at FROM recipients
             WHERE state = 'deferred' AND next_attempt_at <= @now ORDER BY next_attempt_at, id LIMIT @limit)
           UNION ALL
           SELECT * FROM (SELECT id, next_attempt_at FROM recipients
             WHERE state = 'delivering' AND lease_until < @now ORDER BY next_attempt_at, id LIMIT @limit)
         )
         ORDER BY next_attempt_at, id
         LIMIT @limit)
       RETURNING *`,
    );
    // Relaxed: a lost lease only means the recipient is claimed again (recoverLeases at start).
    const rows = this.db.relaxedWrite(() => claim.all({ node, until: now + leaseMs, now, limit }) as RecipientRow[]);
    // RETURNING gives no order guarantee; callers expect the most overdue first.
    return rows.map(toRecipient).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.id - b.id);
  }

  /** Make every leased recipient due again now; returns how many. */
  recoverLeases(now: number): number {
    const recover = this.db.stmt(
      `UPDATE recipients SET state = 'queued', lease_owner = NULL, lease_until = NULL, next_attempt_at = @now,
         updated_at = @now
       WHERE state = 'delivering'`,
    );
    return this.db.write(() => recover.run({ now }).changes);
  }

  /** Extend leases `node` still holds; returns those ids, ascending. */
  renewLeases(node: string, ids: readonly number[], until: number): number[] {
    if (ids.length === 0) return [];
    const renew = this.db.stmt(
      `UPDATE recipients SET lease_until = @until
       WHERE id IN (SELECT value FROM json_each(@ids)) AND lease_owner = @node AND state = 'delivering'
       RETURNING id`,
    );
    const rows = this.db.relaxedWrite(() => renew.all({ node, ids: jsonList(ids), until }) as { id: number }[]);
    return rows.map((r) => r.id).sort((a, b) => a - b);
  }

  /**
   * Record delivery outcomes in one transaction. Each applies only while the reporting node
   * still holds the lease: if the lease expired and another node took the recipient over,
   * that node's result is the one that counts. Returns how many applied.
   */
  async complete(results: readonly DeliveryResult[], now: number, durable = true): Promise<number> {
    if (results.length === 0) return 0;
    for (const r of results) {
      if (!RESULT_STATES.has(r.state)) throw new Error(`invalid delivery result state: ${r.state}`);
    }
    const update = this.db.stmt(
      `UPDATE recipients
       SET state = @state, last_reply = @reply, next_attempt_at = coalesce(@next, next_attempt_at),
           lease_owner = NULL, lease_until = NULL, updated_at = @now,
           delay_notified_at = CASE WHEN @delay THEN coalesce(delay_notified_at, @now) ELSE delay_notified_at END
       WHERE id = @id AND lease_owner = @owner AND state = 'delivering'`,
    );
    const apply = () => {
      let applied = 0;
      for (const r of results) {
        applied += update.run({
          id: r.recipientId,
          owner: r.leaseOwner,
          state: r.state,
          reply: r.reply,
          next: r.nextAttemptAt ?? null,
          delay: r.delayNotified === true ? 1 : 0,
          now,
        }).changes;
      }
      return applied;
    };
    return durable ? this.db.durableWrite(apply) : this.db.relaxedWrite(apply);
  }

  /**
   * When claimDue next has something: the earliest next_attempt_at of a waiting recipient,
   * or the moment a lease expires (lease_until + 1, since claimDue takes over only when
   * lease_until < now). Null when nothing waits.
   */
  nextDueAt(): number | null {
    // Separate per-state minimums so each is a single index lookup.
    const row = this.db
      .stmt(
        `SELECT min(t) AS t FROM (
           SELECT min(next_attempt_at) AS t FROM recipients WHERE state = 'queued'
           UNION ALL SELECT min(next_attempt_at) FROM recipients WHERE state = 'deferred'
           UNION ALL SELECT min(lease_until) + 1 FROM recipients WHERE state = 'delivering')`,
      )
      .get() as { t: number | null };
    return row.t;
  }

  /** Recipients matching the filter, most overdue first. */
  list(filter: QueueFilter = {}): Recipient[] {
    const rows = this.db
      .stmt(
        `SELECT * FROM recipients r
         WHERE ${RECIPIENT_FILTER_SQL}
           AND (@mid IS NULL OR message_id = @mid)
         ORDER BY next_attempt_at, id
         LIMIT @limit`,
      )
      .all({
        ...filterParams(filter),
        mid: filter.messageId ?? null,
        // SQLite reads a negative LIMIT as "no limit".
        limit: filter.limit ?? -1,
      }) as RecipientRow[];
    return rows.map(toRecipient);
  }

  summary(): QueueSummary {
    const rows = this.db.stmt('SELECT state, count(*) AS n FROM recipients GROUP BY state').all() as {
      state: RecipientState;
      n: number;
    }[];
    const byState: QueueSummary['byState'] = {};
    let total = 0;
    for (const r of rows) {
      byState[r.state] = r.n;
      total += r.n;
    }
    return { byState, total };
  }

  /**
   * Hold (from queued/deferred) or release / retry now (from held/deferred, due at `now`).
   * Recipients being delivered or already final are left alone. Returns how many changed.
   */
  setState(ids: readonly number[], state: 'held' | 'queued', now: number): number {
    if (ids.length === 0) return 0;
    let sql: string;
    if (state === 'held') {
      sql = `UPDATE recipients SET state = 'held', updated_at = @now
             WHERE id IN (SELECT value FROM json_each(@ids)) AND state IN ('queued', 'deferred')`;
    } else if (state === 'queued') {
      sql = `UPDATE recipients SET state = 'queued', next_attempt_at = @now, updated_at = @now
             WHERE id IN (SELECT value FROM json_each(@ids)) AND state IN ('held', 'deferred')`;
    } else {
      throw new Error(`setRecipientState: cannot set state ${String(state)}`);
    }
    const stmt = this.db.stmt(sql);
    return this.db.write(() => stmt.run({ ids: jsonList(ids), now }).changes);
  }
}
