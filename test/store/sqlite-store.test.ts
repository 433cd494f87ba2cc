import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, SqliteStore, sqliteMigrations } from '../../src/store/index.js';
import { newMessage } from './fixtures.js';
import { describeStoreContract } from './store-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-'));
let seq = 0;
const freshPath = () => join(dir, `store-${process.pid}-${++seq}.db`);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describeStoreContract('sqlite (file)', async () => {
  const store = new SqliteStore(freshPath());
  await store.migrate();
  return store;
});

describe('SqliteStore specifics', () => {
  let path: string;
  let store: SqliteStore;
  beforeEach(async () => {
    path = freshPath();
    store = new SqliteStore(path);
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
  });

  it('runs in WAL mode with synchronous=FULL, foreign keys and a busy timeout', () => {
    expect(store.pragmas()).toEqual({ journalMode: 'wal', synchronous: 2, foreignKeys: true, busyTimeout: 5000 });
  });

  it('applies migrations once; migrating again changes nothing', async () => {
    const latest = sqliteMigrations.map((m) => m.version);
    expect(await store.schemaVersions()).toEqual(latest);
    await store.addDomain('example.com', 'mailbox');
    await store.migrate();
    await store.migrate();
    expect(await store.schemaVersions()).toEqual(latest);
    expect(await store.listDomains()).toHaveLength(1);
  });

  it('checkpoints the WAL in the background while mail is committed, and closes cleanly', async () => {
    const body = Buffer.alloc(10_000, 0x61);
    for (let i = 0; i < 20; i++) {
      await store.commitMessages([{ ...newMessage(`CK${i}`, ['a@example.com'], { blobRef: `db:CK${i}` }), body }]);
    }
    // The writer's own checkpoint waits for thousands of pages; the database file grows now only
    // if the background connection copied the WAL into it.
    let size = 0;
    for (let tries = 0; tries < 100 && size < 20 * body.length; tries++) {
      await new Promise((r) => setTimeout(r, 50));
      size = statSync(path).size;
    }
    expect(size).toBeGreaterThanOrEqual(20 * body.length);
    await store.close();
    // The writer was the last connection: SQLite folded the WAL in and removed it.
    expect(existsSync(`${path}-wal`)).toBe(false);
    store = new SqliteStore(path);
    await store.migrate();
    expect(await store.readInlineBody('CK19')).toEqual(body);
  });

  it('keeps data across close and reopen', async () => {
    await store.addDomain('example.com', 'mailbox');
    const u = await store.addUser('Keep@Example.com', 'h');
    const box = await store.ensureMailbox(u.id, 'INBOX');
    await store.appendMailboxMessage(box.id, { blobRef: 'fs:aa/Xaa', size: 1, flags: [], internalDate: 1 });
    await store.commitMessages([newMessage('KEEP', ['a@example.com'])]);
    await store.close();

    store = new SqliteStore(path);
    await store.migrate();
    expect(await store.getDomain('example.com')).not.toBeNull();
    expect((await store.getUser('keep@example.com'))?.address).toBe('Keep@example.com');
    expect(await store.getMailbox(u.id, 'INBOX')).toMatchObject({ uidNext: 2, uidValidity: box.uidValidity });
    expect((await store.getRecipients('KEEP'))[0]?.state).toBe('queued');
  });

  it('upgrades a version 2 database: users keep their passwords and get no SCRAM or CRAM secret yet', async () => {
    const oldPath = freshPath();
    const raw = new Database(oldPath);
    raw.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER)');
    for (const m of sqliteMigrations.filter((x) => x.version <= 2)) {
      raw.exec(m.sql);
      raw.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
    }
    raw
      .prepare(
        `INSERT INTO users (address, address_key, domain, password_hash, disabled, quota_bytes, created_at)
         VALUES ('Old@example.com', 'old@example.com', 'example.com', 'scrypt$old', 1, 10, 5)`,
      )
      .run();
    raw.close();

    const upgraded = new SqliteStore(oldPath);
    try {
      await upgraded.migrate();
      expect(await upgraded.schemaVersions()).toEqual(sqliteMigrations.map((m) => m.version));
      const u = await upgraded.getUser('old@example.com');
      expect(u).toMatchObject({
        address: 'Old@example.com',
        passwordHash: 'scrypt$old',
        scram: null,
        cramSecret: null,
        disabled: true,
        quotaBytes: 10,
        createdAt: 5,
      });
      await upgraded.addSenderGrant('old@example.com', 'sales@example.com');
      expect(await upgraded.listSenderGrants('old@example.com')).toEqual(['sales@example.com']);
    } finally {
      await upgraded.close();
    }
  });

  it('keeps at most one active DKIM key per domain in the schema itself', async () => {
    await store.addDkimKey({
      domain: 'example.com',
      selector: 'a',
      algorithm: 'ed25519',
      privateKey: 'k',
      publicKey: 'p',
    });
    await store.addDkimKey({
      domain: 'example.com',
      selector: 'b',
      algorithm: 'ed25519',
      privateKey: 'k',
      publicKey: 'p',
    });
    await store.close();
    const raw = new Database(path);
    try {
      expect(() => raw.prepare("UPDATE dkim_keys SET active = 1 WHERE selector = 'b'").run()).toThrow(/UNIQUE/);
    } finally {
      raw.close();
    }
    store = new SqliteStore(path);
  });

  it('refuses a database from a newer mailroom', async () => {
    await store.close();
    const raw = new Database(path);
    raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)').run('future');
    raw.close();
    store = new SqliteStore(path);
    await expect(store.migrate()).rejects.toThrow(/newer/);
  });

  it('never leases one recipient to two connections on the same file', async () => {
    const other = new SqliteStore(path);
    try {
      await other.migrate();
      await store.commitMessages([
        newMessage(
          'M',
          Array.from({ length: 30 }, (_, i) => `r${i}@example.com`),
        ),
      ]);
      const batches = await Promise.all(
        Array.from({ length: 6 }, (_, i) => (i % 2 ? other : store).claimDue(`node-${i}`, 7, 5_000, 60_000)),
      );
      const ids = batches.flat().map((r) => r.id);
      expect(ids).toHaveLength(30);
      expect(new Set(ids).size).toBe(30);
      const stolen = await other.completeDeliveries(
        [{ recipientId: batches[0]![0]!.id, leaseOwner: 'node-1', state: 'delivered', reply: '250' }],
        6_000,
      );
      expect(stolen).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('works in memory', async () => {
    const mem = new SqliteStore(':memory:');
    await mem.migrate();
    await mem.addDomain('example.com', 'discard');
    expect((await mem.listDomains())[0]?.transport).toBe('discard');
    await mem.close();
  });

  it('close is idempotent', async () => {
    await store.close();
    await store.close();
    await expect(store.listDomains()).rejects.toThrow();
  });
});

describe('openStore', () => {
  it('opens and migrates a sqlite store', async () => {
    const s = await openStore({ driver: 'sqlite', path: freshPath() });
    expect(s.driver).toBe('sqlite');
    await s.addDomain('example.com', 'mailbox');
    expect(await s.listDomains()).toHaveLength(1);
    await s.close();
  });

  it('explains that postgres is not available', async () => {
    await expect(openStore({ driver: 'postgres', url: 'postgres://127.0.0.1/mailroom' })).rejects.toThrow(
      'the postgres store is not available in this version; use store.driver: sqlite',
    );
  });
});
