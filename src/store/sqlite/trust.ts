import type { GreylistEntry, RateDecision } from '../types.js';
import type { Db } from './db.js';

interface GreylistRow {
  key: string;
  client: string;
  first_seen: number;
  last_seen: number;
  passed_at: number | null;
}

interface RateRow {
  window_start: number;
  window_ms: number;
  current: number;
  previous: number;
}

/**
 * Greylisting triplets and rate counters. Both are written with relaxedWrite: losing the last
 * moments of either to a power failure only greylists or counts a sender once more.
 */
export class TrustState {
  constructor(private readonly db: Db) {}

  /** The triplet, or null. */
  getGreylist(key: string): GreylistEntry | null {
    const row = this.db.stmt('SELECT * FROM greylist WHERE key = ?').get(key) as GreylistRow | undefined;
    return row
      ? {
          key: row.key,
          client: row.client,
          firstSeen: row.first_seen,
          lastSeen: row.last_seen,
          passedAt: row.passed_at,
        }
      : null;
  }

  /** Insert or replace a triplet. */
  saveGreylist(e: GreylistEntry): void {
    this.db.relaxedWrite(() =>
      this.db
        .stmt(
          `INSERT INTO greylist (key, client, first_seen, last_seen, passed_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET client = excluded.client, first_seen = excluded.first_seen,
             last_seen = excluded.last_seen, passed_at = excluded.passed_at`,
        )
        .run(e.key, e.client, e.firstSeen, e.lastSeen, e.passedAt),
    );
  }

  /** Passed triplets of a client network since `since`. */
  countGreylistPasses(client: string, since: number): number {
    const row = this.db
      .stmt('SELECT count(*) AS n FROM greylist WHERE client = ? AND passed_at IS NOT NULL AND passed_at >= ?')
      .get(client, since) as { n: number };
    return row.n;
  }

  /** Drop triplets last seen before `before`. */
  pruneGreylist(before: number): number {
    return this.db.relaxedWrite(() => this.db.stmt('DELETE FROM greylist WHERE last_seen < ?').run(before).changes);
  }

  /** One hit on a sliding-window counter, refused (and not counted) past the limit. */
  takeRate(key: string, now: number, windowMs: number, limit: number): RateDecision {
    return this.db.relaxedWrite(() => {
      const row = this.db
        .stmt('SELECT window_start, window_ms, current, previous FROM rate_counters WHERE key = ?')
        .get(key) as RateRow | undefined;
      const start = Math.floor(now / windowMs) * windowMs;
      let current = 0;
      let previous = 0;
      if (row && row.window_ms === windowMs) {
        if (row.window_start === start) {
          current = row.current;
          previous = row.previous;
        } else if (row.window_start === start - windowMs) {
          previous = row.current;
        }
      }
      const decision = slide(now, start, windowMs, current, previous, limit);
      if (decision.allowed) current++;
      this.db
        .stmt(
          `INSERT INTO rate_counters (key, window_start, window_ms, current, previous, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET window_start = excluded.window_start, window_ms = excluded.window_ms,
             current = excluded.current, previous = excluded.previous, updated_at = excluded.updated_at`,
        )
        .run(key, start, windowMs, current, previous, now);
      return decision;
    });
  }

  /** Drop counters untouched since `before`. */
  pruneRates(before: number): number {
    return this.db.relaxedWrite(
      () => this.db.stmt('DELETE FROM rate_counters WHERE updated_at < ?').run(before).changes,
    );
  }
}

/**
 * The sliding-window estimate: the previous window's count weighted by the share of it that
 * the last `windowMs` still covers, plus the current window's count.
 */
function slide(
  now: number,
  start: number,
  windowMs: number,
  current: number,
  previous: number,
  limit: number,
): RateDecision {
  const elapsed = now - start;
  const estimate = previous * (1 - elapsed / windowMs) + current;
  if (estimate + 1 <= limit) return { allowed: true, count: estimate + 1, retryAfter: 0 };
  // Refused: wait until the previous window's weight has fallen far enough, or for the next window.
  let retryAfter = start + windowMs - now;
  if (current + 1 <= limit && previous > 0) {
    const t = windowMs * (1 - (limit - current - 1) / previous);
    retryAfter = Math.max(1, Math.ceil(t - elapsed));
  } else if (current + 1 > limit) {
    // The next window still carries this one's count, weighted; wait until it is light enough.
    const t = windowMs * (1 - (limit - 1) / current);
    retryAfter = Math.max(1, Math.ceil(start + windowMs + t - now));
  }
  return { allowed: false, count: estimate, retryAfter };
}
