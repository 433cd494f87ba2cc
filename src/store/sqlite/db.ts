import fs from 'node:fs';
import Database from 'better-sqlite3';
import { SharedSync } from '../shared-sync.js';
import { Checkpointer } from './checkpointer.js';

/** SQLite's own automatic checkpoint threshold (pages), used when no background checkpointer runs. */
const AUTO_CHECKPOINT_PAGES = 1000;
/** While the background checkpointer runs: the writer checkpoints only if it falls far behind. */
const FALLBACK_CHECKPOINT_PAGES = 10_000;

export type Statement = Database.Statement<unknown[], unknown>;

/** A better-sqlite3 connection with mailroom's pragmas, a statement cache and transaction helpers. */
export class Db {
  readonly raw: Database.Database;
  private readonly statements = new Map<string, Statement>();
  private walFd: number | null = null;
  /** One fdatasync of the WAL serves every commit that finished before it started. */
  private readonly wal: SharedSync;
  private checkpointer: Checkpointer | null = null;
  private checkpointsStopped = false;

  /** Open (creating if needed) the database at `path`; ':memory:' for a private in-memory one. */
  constructor(readonly path: string) {
    this.raw = new Database(path);
    this.wal = new SharedSync(`${path}-wal`, (file) => this.fdatasyncWal(file));
    // WAL lets readers run beside the single writer; FULL makes every COMMIT survive power loss,
    // which the spool relies on before it answers 250.
    this.raw.pragma('journal_mode = WAL');
    this.raw.pragma('synchronous = FULL');
    this.raw.pragma('foreign_keys = ON');
    // Another process (a second node, or the CLI) may hold the write lock for a moment.
    this.raw.pragma('busy_timeout = 5000');
  }

  /** A prepared statement, compiled once per SQL text and reused. */
  stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.raw.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /**
   * Run `fn` in a BEGIN IMMEDIATE transaction. Taking the write lock up front means a
   * read-then-write never has to upgrade its lock, which in WAL mode fails with SQLITE_BUSY
   * instead of waiting on busy_timeout.
   */
  write<T>(fn: () => T): T {
    return this.inTransaction('BEGIN IMMEDIATE', fn);
  }

  /**
   * Like write(), but the COMMIT is not fsync'd (synchronous=NORMAL for this transaction).
   * For writes that may be lost on power failure because they are redone or harmless: leases
   * (recovered at start), timeline events, clean-up, idempotent mailbox appends. The WAL is
   * append-only, so the next FULL commit's fsync makes these durable too; a process crash
   * (SIGKILL) loses nothing either way, since the data is already in the OS.
   */
  relaxedWrite<T>(fn: () => T): T {
    // Inside an open transaction it joins that one (the safety level cannot change there).
    if (this.raw.inTransaction) return fn();
    this.stmt('PRAGMA synchronous = NORMAL').run();
    try {
      return this.inTransaction('BEGIN IMMEDIATE', fn);
    } finally {
      this.stmt('PRAGMA synchronous = FULL').run();
    }
  }

  /**
   * A write whose COMMIT is durable when the promise resolves, without blocking the event loop
   * on fsync: the transaction commits with synchronous=NORMAL, then the WAL file is fsync'd
   * in the thread pool. Concurrent callers share one fsync that starts after their commit,
   * so a burst of transactions costs one or two fsyncs (group commit).
   */
  async durableWrite<T>(fn: () => T): Promise<T> {
    this.startCheckpoints();
    const result = this.relaxedWrite(fn);
    if (this.path !== ':memory:') await this.wal.sync();
    return result;
  }

  /**
   * Hand WAL checkpoints to a worker thread, from the first durable write on (a process that
   * makes mail durable is a server under load; short CLI commands keep SQLite's own).
   */
  private startCheckpoints(): void {
    if (this.checkpointer || this.checkpointsStopped || this.path === ':memory:' || !this.raw.open) return;
    this.checkpointer = new Checkpointer(this.path, () => {
      if (this.raw.open) this.raw.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
    });
    this.raw.pragma(`wal_autocheckpoint = ${FALLBACK_CHECKPOINT_PAGES}`);
  }

  /** Stop the background checkpointer, so this connection is the last one and close() cleans up. */
  async stopCheckpoints(): Promise<void> {
    this.checkpointsStopped = true;
    const c = this.checkpointer;
    this.checkpointer = null;
    if (!c) return;
    await c.close();
    if (this.raw.open) this.raw.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
  }

  private fdatasyncWal(file: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // The -wal file lives as long as this connection (SQLite removes it only at the last close).
      this.walFd ??= fs.openSync(file, 'r+');
      fs.fdatasync(this.walFd, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Run `fn` in a read transaction, so several SELECTs see one snapshot. */
  read<T>(fn: () => T): T {
    return this.inTransaction('BEGIN DEFERRED', fn);
  }

  /**
   * BEGIN, run, COMMIT (ROLLBACK on throw) with cached statements: better-sqlite3's
   * transaction() builds a new wrapper per call, which shows up on the intake hot path.
   * A call inside an open transaction joins it.
   */
  private inTransaction<T>(begin: 'BEGIN IMMEDIATE' | 'BEGIN DEFERRED', fn: () => T): T {
    if (this.raw.inTransaction) return fn();
    this.stmt(begin).run();
    try {
      const result = fn();
      this.stmt('COMMIT').run();
      return result;
    } catch (err) {
      if (this.raw.inTransaction) this.stmt('ROLLBACK').run();
      throw err;
    }
  }

  get open(): boolean {
    return this.raw.open;
  }

  close(): void {
    this.statements.clear();
    if (this.walFd !== null) fs.closeSync(this.walFd);
    this.walFd = null;
    if (this.raw.open) this.raw.close();
  }
}

/** Turn a list into a JSON array parameter, read back in SQL with json_each(?). */
export function jsonList(values: readonly (string | number)[]): string {
  return JSON.stringify(values);
}
