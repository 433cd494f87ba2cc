import type { AuthFailureCount, AuthFailureEntry } from '../types.js';
import type { Db } from './db.js';

type Kind = 'ip' | 'user';

interface FailureRow {
  kind: string;
  key: string;
  count: number;
  first_at: number;
  last_at: number;
}

const NONE: AuthFailureCount = { count: 0, firstAt: null, lastAt: null };

/**
 * Failed-login counters for brute-force protection, one row per IP or user holding the current
 * window. They are written with relaxedWrite: a counter lost to a power failure only gives an
 * attacker a few more tries, and is counted again.
 */
export class AuthFailures {
  constructor(private readonly db: Db) {}

  /** Count one failure; a window that has run out (now - first_at >= windowMs) starts over at this one. */
  record(kind: Kind, key: string, now: number, windowMs: number): AuthFailureCount {
    // Every SET expression sees the old row, so first_at in the CASEs is the window being replaced.
    const row = this.db.relaxedWrite(
      () =>
        this.db
          .stmt(
            `INSERT INTO auth_failures (kind, key, count, first_at, last_at) VALUES (?, ?, 1, ?, ?)
             ON CONFLICT (kind, key) DO UPDATE SET
               count = CASE WHEN excluded.last_at - first_at >= ? THEN 1 ELSE count + 1 END,
               first_at = CASE WHEN excluded.last_at - first_at >= ? THEN excluded.first_at ELSE first_at END,
               last_at = CASE WHEN excluded.last_at - first_at >= ? THEN excluded.last_at
                              ELSE max(last_at, excluded.last_at) END
             RETURNING count, first_at, last_at`,
          )
          .get(kind, failureKey(key), now, now, windowMs, windowMs, windowMs) as FailureRow,
    );
    return { count: row.count, firstAt: row.first_at, lastAt: row.last_at };
  }

  /** The failures of the current window; zeros when there are none or the window has run out. */
  get(kind: Kind, key: string, now: number, windowMs: number): AuthFailureCount {
    const row = this.db
      .stmt('SELECT count, first_at, last_at FROM auth_failures WHERE kind = ? AND key = ?')
      .get(kind, failureKey(key)) as FailureRow | undefined;
    if (!row || now - row.first_at >= windowMs) return { ...NONE };
    return { count: row.count, firstAt: row.first_at, lastAt: row.last_at };
  }

  /** Drop counters whose last failure is older than `before`; returns how many. */
  prune(before: number): number {
    return this.db.relaxedWrite(() => this.db.stmt('DELETE FROM auth_failures WHERE last_at < ?').run(before).changes);
  }

  /** True when there was anything to forget. */
  clear(kind: Kind, key: string): boolean {
    return this.db.relaxedWrite(
      () => this.db.stmt('DELETE FROM auth_failures WHERE kind = ? AND key = ?').run(kind, failureKey(key)).changes > 0,
    );
  }

  /** Every counter whose last failure is at or after `since`, most recent first. */
  list(since: number): AuthFailureEntry[] {
    const rows = this.db
      .stmt('SELECT * FROM auth_failures WHERE last_at >= ? ORDER BY last_at DESC, kind, key')
      .all(since) as FailureRow[];
    return rows.map((r) => ({
      kind: r.kind as Kind,
      key: r.key,
      count: r.count,
      firstAt: r.first_at,
      lastAt: r.last_at,
    }));
  }
}

/**
 * IPs and user names are counted case-insensitively: a login succeeds in any case of the address
 * (getUser ignores case), so `Alice@` and `alice@` must share one counter.
 */
function failureKey(key: string): string {
  return key.trim().toLowerCase();
}
