import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { type BlobStore, CompositeBlobStore, FsBlobStore, openStore, type Store } from '../store/index.js';

/** The durable resources a process needs: the Store and the BlobStore. */
export interface Resources {
  store: Store;
  blobs: BlobStore;
  dataDir: string;
}

/** Where the SQLite database lives for this config. */
export function sqlitePath(config: Config): string {
  if (config.store.driver === 'sqlite' && config.store.path) return path.resolve(config.store.path);
  return path.resolve(config.dataDir, 'mailroom.db');
}

/** Open (and migrate) the store and blob store named by the config, creating the data directory. */
export async function openResources(config: Config): Promise<Resources> {
  const dataDir = path.resolve(config.dataDir);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o750 });
  if (config.store.driver !== 'sqlite') {
    throw new Error('the postgres store is not available in this version; use store: { driver: sqlite }');
  }
  const store = await openStore({ driver: 'sqlite', path: sqlitePath(config) });
  const files = new FsBlobStore(path.join(dataDir, 'blobs'));
  // A crash during intake can leave half-written temp files; they were never acknowledged.
  await files.cleanupTemp();
  const blobs = new CompositeBlobStore(store, files);
  return { store, blobs, dataDir };
}
