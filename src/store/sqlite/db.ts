import Database from 'better-sqlite3';

export type Statement = Database.Statement<unknown[], unknown>;

/** A better-sqlite3 connection with mailroom's pragmas, a statement cache and transaction helpers. */
export class Db {
  readonly raw: Database.Database;
  private readonly statements = new Map<string, Statement>();

  /** Open (creating if needed) the database at `path`; ':memory:' for a private in-memory one. */
  constructor(path: string) {
    this.raw = new Database(path);
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
    return this.raw.transaction(fn).immediate();
  }

  /** Run `fn` in a read transaction, so several SELECTs see one snapshot. */
  read<T>(fn: () => T): T {
    return this.raw.transaction(fn).deferred();
  }

  get open(): boolean {
    return this.raw.open;
  }

  close(): void {
    this.statements.clear();
    if (this.raw.open) this.raw.close();
  }
}

/** Turn a list into a JSON array parameter, read back in SQL with json_each(?). */
export function jsonList(values: readonly (string | number)[]): string {
  return JSON.stringify(values);
}
