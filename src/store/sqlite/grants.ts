import { aliasSource } from '../address.js';
import { StoreNotFoundError } from '../errors.js';
import { tryUserKey } from './accounts.js';
import type { Db } from './db.js';

/** Sender grants: extra addresses (`local@domain` or `@domain`) a user may send as. */
export class Grants {
  constructor(private readonly db: Db) {}

  /** Grant `address` to `user`; granting it again changes nothing. Throws StoreNotFoundError for an unknown user. */
  add(user: string, address: string, now = Date.now()): void {
    const grant = grantKey(address);
    this.db.write(() => {
      const id = this.userId(user);
      if (id === null) throw new StoreNotFoundError(`user ${user} does not exist`);
      this.db
        .stmt('INSERT INTO sender_grants (user_id, address, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
        .run(id, grant, now);
    });
  }

  /** True when the grant existed. */
  remove(user: string, address: string): boolean {
    const grant = tryGrantKey(address);
    const key = tryUserKey(user);
    if (grant === null || key === null) return false;
    const r = this.db
      .stmt(
        `DELETE FROM sender_grants
         WHERE user_id = (SELECT id FROM users WHERE address_key = ?) AND address = ?`,
      )
      .run(key, grant);
    return r.changes > 0;
  }

  /** Granted addresses, lower-case and sorted; empty for an unknown user. */
  list(user: string): string[] {
    const key = tryUserKey(user);
    if (key === null) return [];
    const rows = this.db
      .stmt(
        `SELECT g.address FROM sender_grants g JOIN users u ON u.id = g.user_id
         WHERE u.address_key = ? ORDER BY g.address`,
      )
      .all(key) as { address: string }[];
    return rows.map((r) => r.address);
  }

  private userId(user: string): number | null {
    const key = tryUserKey(user);
    if (key === null) return null;
    const row = this.db.stmt('SELECT id FROM users WHERE address_key = ?').get(key) as { id: number } | undefined;
    return row?.id ?? null;
  }
}

/** The stored form of a grant: `local@domain` or `@domain`, lower-cased (as alias sources are). */
function grantKey(address: string): string {
  return aliasSource(address).key;
}

function tryGrantKey(address: string): string | null {
  try {
    return grantKey(address);
  } catch {
    return null;
  }
}
