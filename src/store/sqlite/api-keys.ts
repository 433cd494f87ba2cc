import type { ApiKey, IdempotencyRecord } from '../types.js';
import type { Db } from './db.js';

interface ApiKeyRow {
  id: string;
  name: string;
  hash: string;
  scopes: string;
  domain: string | null;
  rate_limit: string | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

function toApiKey(r: ApiKeyRow): ApiKey {
  return {
    id: r.id,
    name: r.name,
    hash: r.hash,
    scopes: JSON.parse(r.scopes) as string[],
    domain: r.domain,
    rateLimit: r.rate_limit,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}

/** HTTP API keys and the responses remembered for their Idempotency-Keys. */
export class ApiKeys {
  constructor(private readonly db: Db) {}

  async add(key: Omit<ApiKey, 'lastUsedAt' | 'revokedAt'>): Promise<ApiKey> {
    const insert = this.db.stmt(
      `INSERT INTO api_keys (id, name, hash, scopes, domain, rate_limit, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    await this.db.durableWrite(() =>
      insert.run(key.id, key.name, key.hash, JSON.stringify(key.scopes), key.domain, key.rateLimit, key.createdAt),
    );
    return { ...key, lastUsedAt: null, revokedAt: null };
  }

  byHash(hash: string): ApiKey | null {
    const row = this.db.stmt('SELECT * FROM api_keys WHERE hash = ?').get(hash) as ApiKeyRow | undefined;
    return row ? toApiKey(row) : null;
  }

  list(): ApiKey[] {
    return (this.db.stmt('SELECT * FROM api_keys ORDER BY created_at, id').all() as ApiKeyRow[]).map(toApiKey);
  }

  async revoke(idOrName: string, now: number): Promise<boolean> {
    const stmt = this.db.stmt('UPDATE api_keys SET revoked_at = ? WHERE (id = ? OR name = ?) AND revoked_at IS NULL');
    return (await this.db.durableWrite(() => stmt.run(now, idOrName, idOrName).changes)) > 0;
  }

  touch(id: string, now: number): void {
    // Relaxed: last use is a hint for operators, not state anything depends on.
    this.db.relaxedWrite(() => this.db.stmt('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(now, id));
  }

  getIdempotency(apiKey: string, key: string, since: number): IdempotencyRecord | null {
    const row = this.db
      .stmt('SELECT * FROM idempotency_keys WHERE api_key = ? AND idem_key = ? AND created_at >= ?')
      .get(apiKey, key, since) as
      | { api_key: string; idem_key: string; body_hash: string; status: number; response: string; created_at: number }
      | undefined;
    if (!row) return null;
    return {
      apiKey: row.api_key,
      key: row.idem_key,
      bodyHash: row.body_hash,
      status: row.status,
      response: row.response,
      createdAt: row.created_at,
    };
  }

  async putIdempotency(r: IdempotencyRecord): Promise<boolean> {
    const stmt = this.db.stmt(
      `INSERT INTO idempotency_keys (api_key, idem_key, body_hash, status, response, created_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (api_key, idem_key) DO UPDATE SET body_hash = excluded.body_hash, status = excluded.status,
         response = excluded.response, created_at = excluded.created_at
       WHERE idempotency_keys.created_at < ?`,
    );
    // A record older than 24 h is replaced; a live one is kept (the first response wins).
    const dayAgo = r.createdAt - 86_400_000;
    return (
      (await this.db.durableWrite(
        () => stmt.run(r.apiKey, r.key, r.bodyHash, r.status, r.response, r.createdAt, dayAgo).changes,
      )) > 0
    );
  }

  pruneIdempotency(before: number): number {
    return this.db.relaxedWrite(
      () => this.db.stmt('DELETE FROM idempotency_keys WHERE created_at < ?').run(before).changes,
    );
  }
}
