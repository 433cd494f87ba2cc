import type { Migration } from '../migrations/sqlite.js';
import type { Db } from './db.js';

/**
 * Apply every migration newer than the database, all in one transaction: a crash or a bad
 * migration leaves the schema exactly as it was. Returns the versions applied.
 */
export function runMigrations(db: Db, migrations: readonly Migration[], now = Date.now()): number[] {
  assertOrdered(migrations);
  return db.write(() => {
    db.raw.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version     INTEGER PRIMARY KEY,
      name        TEXT NOT NULL,
      applied_at  INTEGER NOT NULL
    )`);
    const row = db.raw.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
    const current = row.v ?? 0;
    const latest = migrations.at(-1)?.version ?? 0;
    if (current > latest) {
      // Running an older mailroom on a newer database would silently miss columns it never knew.
      throw new Error(`database schema version ${current} is newer than this mailroom supports (${latest})`);
    }
    const applied: number[] = [];
    const record = db.raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of migrations) {
      if (m.version <= current) continue;
      db.raw.exec(m.sql);
      record.run(m.version, m.name, now);
      applied.push(m.version);
    }
    return applied;
  });
}

/** The versions recorded as applied, ascending. */
export function appliedVersions(db: Db): number[] {
  const exists = db.raw
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (!exists) return [];
  const rows = db.raw.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
  return rows.map((r) => r.version);
}

function assertOrdered(migrations: readonly Migration[]): void {
  let prev = 0;
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version <= prev) {
      throw new Error(`migrations must have strictly increasing integer versions (at ${m.version} ${m.name})`);
    }
    prev = m.version;
  }
}
