import { aliasSource, normalizeDomain, uniqueAddresses, userAddress } from '../address.js';
import { StoreConflictError } from '../errors.js';
import type { Alias, Credentials, Domain, DomainTransport, User } from '../types.js';
import type { Db } from './db.js';

interface DomainRow {
  name: string;
  transport: string;
  created_at: number;
}

interface UserRow {
  id: number;
  address: string;
  password_hash: string;
  scram: string | null;
  cram_secret: string | null;
  disabled: number;
  quota_bytes: number | null;
  created_at: number;
}

interface AliasRow {
  source: string;
  destinations: string;
  created_at: number;
}

const USER_COLS = 'id, address, password_hash, scram, cram_secret, disabled, quota_bytes, created_at';

/** What addUser stores besides the address and password hash. */
export interface NewUserOptions {
  quotaBytes?: number | null;
  scram?: string | null;
  cramSecret?: string | null;
}

/** Domains, users and aliases: the directory the router and auth read. */
export class Accounts {
  constructor(private readonly db: Db) {}

  /** Add a local domain; throws StoreConflictError when it exists. */
  addDomain(name: string, transport: DomainTransport, now = Date.now()): Domain {
    const n = normalizeDomain(name);
    const r = this.db.stmt('INSERT INTO domains (name, transport, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
    if (r.run(n, transport, now).changes === 0) throw new StoreConflictError(`domain ${n} already exists`);
    return { name: n, transport, createdAt: now };
  }

  /** The domain, looked up case-insensitively. */
  getDomain(name: string): Domain | null {
    const row = this.db.stmt('SELECT * FROM domains WHERE name = ?').get(normalizeDomain(name)) as
      | DomainRow
      | undefined;
    return row ? toDomain(row) : null;
  }

  listDomains(): Domain[] {
    return (this.db.stmt('SELECT * FROM domains ORDER BY name').all() as DomainRow[]).map(toDomain);
  }

  removeDomain(name: string): boolean {
    return this.db.stmt('DELETE FROM domains WHERE name = ?').run(normalizeDomain(name)).changes > 0;
  }

  /** Add a user; throws StoreConflictError when the address (in any case) exists. */
  addUser(address: string, passwordHash: string, opts: NewUserOptions = {}, now = Date.now()): User {
    const a = userAddress(address);
    const quotaBytes = opts.quotaBytes ?? null;
    const scram = opts.scram ?? null;
    const cramSecret = opts.cramSecret ?? null;
    const r = this.db
      .stmt(
        `INSERT INTO users
           (address, address_key, domain, password_hash, scram, cram_secret, disabled, quota_bytes, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT DO NOTHING`,
      )
      .run(a.address, a.key, a.domain, passwordHash, scram, cramSecret, quotaBytes, now);
    if (r.changes === 0) throw new StoreConflictError(`user ${a.address} already exists`);
    return {
      id: Number(r.lastInsertRowid),
      address: a.address,
      passwordHash,
      scram,
      cramSecret,
      disabled: false,
      quotaBytes,
      createdAt: now,
    };
  }

  getUser(address: string): User | null {
    const key = tryUserKey(address);
    if (key === null) return null;
    const row = this.db.stmt(`SELECT ${USER_COLS} FROM users WHERE address_key = ?`).get(key) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  getUserById(id: number): User | null {
    const row = this.db.stmt(`SELECT ${USER_COLS} FROM users WHERE id = ?`).get(id) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  listUsers(domain?: string): User[] {
    const rows =
      domain === undefined
        ? this.db.stmt(`SELECT ${USER_COLS} FROM users ORDER BY address_key`).all()
        : this.db
            .stmt(`SELECT ${USER_COLS} FROM users WHERE domain = ? ORDER BY address_key`)
            .all(normalizeDomain(domain));
    return (rows as UserRow[]).map(toUser);
  }

  setPassword(address: string, passwordHash: string): boolean {
    const key = tryUserKey(address);
    if (key === null) return false;
    return this.db.stmt('UPDATE users SET password_hash = ? WHERE address_key = ?').run(passwordHash, key).changes > 0;
  }

  /** Replace every login secret in one statement, so no mechanism is left with the old password. */
  setCredentials(address: string, credentials: Credentials): boolean {
    const key = tryUserKey(address);
    if (key === null) return false;
    const r = this.db
      .stmt('UPDATE users SET password_hash = ?, scram = ?, cram_secret = ? WHERE address_key = ?')
      .run(credentials.passwordHash, credentials.scram, credentials.cramSecret, key);
    return r.changes > 0;
  }

  setUserDisabled(address: string, disabled: boolean): boolean {
    const key = tryUserKey(address);
    if (key === null) return false;
    return this.db.stmt('UPDATE users SET disabled = ? WHERE address_key = ?').run(disabled ? 1 : 0, key).changes > 0;
  }

  /** Set (or with null, clear) a user's quota in bytes. */
  setUserQuota(address: string, quotaBytes: number | null): boolean {
    const key = tryUserKey(address);
    if (key === null) return false;
    return this.db.stmt('UPDATE users SET quota_bytes = ? WHERE address_key = ?').run(quotaBytes, key).changes > 0;
  }

  /** Remove a user; their mailboxes and mailbox messages go with them (blobs are left to GC). */
  removeUser(address: string): boolean {
    const key = tryUserKey(address);
    if (key === null) return false;
    return this.db.stmt('DELETE FROM users WHERE address_key = ?').run(key).changes > 0;
  }

  /** Create an alias, or add destinations to an existing one. */
  addAlias(source: string, destinations: string[], now = Date.now()): Alias {
    const s = aliasSource(source);
    const add = uniqueAddresses(destinations);
    if (add.length === 0) throw new Error(`alias ${s.key} needs at least one destination`);
    return this.db.write(() => {
      const existing = this.aliasRow(s.key);
      if (existing) {
        const merged = uniqueAddresses([...parseList(existing.destinations), ...add]);
        this.db.stmt('UPDATE aliases SET destinations = ? WHERE source = ?').run(JSON.stringify(merged), s.key);
        return { source: s.key, destinations: merged, createdAt: existing.created_at };
      }
      this.db
        .stmt('INSERT INTO aliases (source, domain, destinations, created_at) VALUES (?, ?, ?, ?)')
        .run(s.key, s.domain, JSON.stringify(add), now);
      return { source: s.key, destinations: add, createdAt: now };
    });
  }

  getAlias(source: string): Alias | null {
    const key = tryAliasKey(source);
    if (key === null) return null;
    const row = this.aliasRow(key);
    return row ? toAlias(row) : null;
  }

  listAliases(domain?: string): Alias[] {
    const rows =
      domain === undefined
        ? this.db.stmt('SELECT * FROM aliases ORDER BY source').all()
        : this.db.stmt('SELECT * FROM aliases WHERE domain = ? ORDER BY source').all(normalizeDomain(domain));
    return (rows as AliasRow[]).map(toAlias);
  }

  /** Remove the alias, or only some destinations; an alias left with none is deleted. True when anything changed. */
  removeAlias(source: string, destinations?: string[]): boolean {
    const key = tryAliasKey(source);
    if (key === null) return false;
    return this.db.write(() => {
      const row = this.aliasRow(key);
      if (!row) return false;
      if (destinations === undefined) {
        this.db.stmt('DELETE FROM aliases WHERE source = ?').run(key);
        return true;
      }
      const drop = new Set(destinations.map((d) => d.trim().toLowerCase()));
      const current = parseList(row.destinations);
      const kept = current.filter((d) => !drop.has(d.toLowerCase()));
      if (kept.length === current.length) return false;
      if (kept.length === 0) this.db.stmt('DELETE FROM aliases WHERE source = ?').run(key);
      else this.db.stmt('UPDATE aliases SET destinations = ? WHERE source = ?').run(JSON.stringify(kept), key);
      return true;
    });
  }

  private aliasRow(key: string): AliasRow | undefined {
    return this.db.stmt('SELECT * FROM aliases WHERE source = ?').get(key) as AliasRow | undefined;
  }
}

// Lookups of something that is not an address find nothing rather than throwing: the caller
// is usually answering RCPT TO or a login, where "no such user" is the right answer.
export function tryUserKey(address: string): string | null {
  try {
    return userAddress(address).key;
  } catch {
    return null;
  }
}

function tryAliasKey(source: string): string | null {
  try {
    return aliasSource(source).key;
  } catch {
    return null;
  }
}

function parseList(json: string): string[] {
  return JSON.parse(json) as string[];
}

function toDomain(r: DomainRow): Domain {
  return { name: r.name, transport: r.transport as DomainTransport, createdAt: r.created_at };
}

function toUser(r: UserRow): User {
  return {
    id: r.id,
    address: r.address,
    passwordHash: r.password_hash,
    scram: r.scram,
    cramSecret: r.cram_secret,
    disabled: r.disabled !== 0,
    quotaBytes: r.quota_bytes,
    createdAt: r.created_at,
  };
}

function toAlias(r: AliasRow): Alias {
  return { source: r.source, destinations: parseList(r.destinations), createdAt: r.created_at };
}
