import { SqliteStore } from './sqlite/index.js';
import type { Store } from './types.js';

export { aliasSource, normalizeDomain, splitAddress, userAddress } from './address.js';
export { blobSubdir, CompositeBlobStore, cleanupTemp, FsBlobStore } from './blob/index.js';
export { StoreConflictError, StoreNotFoundError } from './errors.js';
export type { Migration } from './migrations/sqlite.js';
export { sqliteMigrations } from './migrations/sqlite.js';
export type { SqlitePragmas } from './sqlite/index.js';
export { SqliteStore } from './sqlite/index.js';
export type * from './types.js';

/** Which store to open; mirrors the `store` key of the config (with the sqlite path resolved). */
export type StoreOptions = { driver: 'sqlite'; path: string } | { driver: 'postgres'; url: string };

/** Open the configured store and bring its schema up to date. */
export async function openStore(opts: StoreOptions): Promise<Store> {
  if (opts.driver === 'postgres') {
    throw new Error('the postgres store is not available in this version; use store.driver: sqlite');
  }
  if (opts.driver !== 'sqlite') {
    throw new Error(`unknown store driver: ${String((opts as { driver: unknown }).driver)}`);
  }
  const store = new SqliteStore(opts.path);
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
