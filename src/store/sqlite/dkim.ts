import { normalizeDomain } from '../address.js';
import { StoreConflictError } from '../errors.js';
import type { DkimAlgorithm, DkimKey } from '../types.js';
import type { Db } from './db.js';

interface DkimRow {
  domain: string;
  selector: string;
  algorithm: string;
  private_key: string;
  public_key: string;
  active: number;
  created_at: number;
}

export type NewDkimKey = Omit<DkimKey, 'active' | 'createdAt'> & { active?: boolean };

/** DKIM signing keys: several selectors per domain (rotation), at most one of them active. */
export class DkimKeys {
  constructor(private readonly db: Db) {}

  /**
   * Store a key; throws StoreConflictError when the domain already has the selector. It becomes
   * active when asked to (the others are deactivated in the same transaction), or when it is the
   * domain's first key and `active` is not false.
   */
  add(key: NewDkimKey, now = Date.now()): DkimKey {
    const domain = normalizeDomain(key.domain);
    const selector = normalizeSelector(key.selector);
    if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(selector)) {
      throw new Error(`not a DKIM selector: ${JSON.stringify(key.selector)}`);
    }
    return this.db.write(() => {
      const exists = this.db.stmt('SELECT 1 FROM dkim_keys WHERE domain = ? AND selector = ?').get(domain, selector);
      if (exists) throw new StoreConflictError(`DKIM selector ${selector} of ${domain} already exists`);
      const first = !this.db.stmt('SELECT 1 FROM dkim_keys WHERE domain = ? LIMIT 1').get(domain);
      const active = key.active ?? first;
      if (active) this.db.stmt('UPDATE dkim_keys SET active = 0 WHERE domain = ? AND active = 1').run(domain);
      this.db
        .stmt(
          `INSERT INTO dkim_keys (domain, selector, algorithm, private_key, public_key, active, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(domain, selector, key.algorithm, key.privateKey, key.publicKey, active ? 1 : 0, now);
      return {
        domain,
        selector,
        algorithm: key.algorithm,
        privateKey: key.privateKey,
        publicKey: key.publicKey,
        active,
        createdAt: now,
      };
    });
  }

  /** Keys of one domain or of all, by domain, then oldest first. */
  list(domain?: string): DkimKey[] {
    const order = 'ORDER BY domain, created_at, selector';
    const rows =
      domain === undefined
        ? this.db.stmt(`SELECT * FROM dkim_keys ${order}`).all()
        : this.db.stmt(`SELECT * FROM dkim_keys WHERE domain = ? ${order}`).all(normalizeDomain(domain));
    return (rows as DkimRow[]).map(toKey);
  }

  active(domain: string): DkimKey | null {
    const d = tryDomain(domain);
    if (d === null) return null;
    const row = this.db.stmt('SELECT * FROM dkim_keys WHERE domain = ? AND active = 1').get(d) as DkimRow | undefined;
    return row ? toKey(row) : null;
  }

  /** Make `selector` the domain's signing key; false when the domain has no such selector. */
  activate(domain: string, selector: string): boolean {
    const d = tryDomain(domain);
    if (d === null) return false;
    const s = normalizeSelector(selector);
    return this.db.write(() => {
      if (!this.db.stmt('SELECT 1 FROM dkim_keys WHERE domain = ? AND selector = ?').get(d, s)) return false;
      // Deactivate first: the partial unique index allows one active key per domain at any moment.
      this.db.stmt('UPDATE dkim_keys SET active = 0 WHERE domain = ? AND active = 1 AND selector <> ?').run(d, s);
      this.db.stmt('UPDATE dkim_keys SET active = 1 WHERE domain = ? AND selector = ?').run(d, s);
      return true;
    });
  }

  /** Remove a key; removing the active one leaves the domain without a signing key. */
  remove(domain: string, selector: string): boolean {
    const d = tryDomain(domain);
    if (d === null) return false;
    const r = this.db
      .stmt('DELETE FROM dkim_keys WHERE domain = ? AND selector = ?')
      .run(d, normalizeSelector(selector));
    return r.changes > 0;
  }
}

/** Selectors are DNS labels, so they compare case-insensitively; the store keeps them lower-case. */
function normalizeSelector(selector: string): string {
  return selector.trim().toLowerCase();
}

function tryDomain(domain: string): string | null {
  try {
    return normalizeDomain(domain);
  } catch {
    return null;
  }
}

function toKey(r: DkimRow): DkimKey {
  return {
    domain: r.domain,
    selector: r.selector,
    algorithm: r.algorithm as DkimAlgorithm,
    privateKey: r.private_key,
    publicKey: r.public_key,
    active: r.active !== 0,
    createdAt: r.created_at,
  };
}
