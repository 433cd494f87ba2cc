import path from 'node:path';
import type { Config } from '../config/index.js';
import type { Resources } from '../server/resources.js';
import type { Domain, Store } from '../store/types.js';
import { CliError } from './output.js';

/** Open the store and blob store named by the config, run `fn`, and always close the store again. */
export async function withResources<T>(config: Config, fn: (res: Resources) => Promise<T>): Promise<T> {
  // Loaded on demand so `check-config` and `--help` work without touching the native SQLite module.
  const { openResources } = await import('../server/resources.js');
  let res: Resources;
  try {
    res = await openResources(config);
  } catch (err) {
    throw new CliError(
      `cannot open the store in ${path.resolve(config.dataDir)} (${(err as Error).message}); ` +
        'check dataDir and store in the configuration and that this user may write there',
    );
  }
  try {
    return await fn(res);
  } finally {
    await res.store.close();
  }
}

/** Open the store named by the config, run `fn`, and always close the store again. */
export function withStore<T>(config: Config, fn: (store: Store) => Promise<T>): Promise<T> {
  return withResources(config, (res) => fn(res.store));
}

export interface LocalDomain {
  name: string;
  transport: string;
  /** `config` for domains listed in the configuration file, `store` for ones added with the CLI. */
  source: 'config' | 'store';
  createdAt: number | null;
}

/** Every local domain: the configuration's `domains` plus those in the store. */
export async function listLocalDomains(config: Config, store: Store): Promise<LocalDomain[]> {
  const fromConfig = config.domains.map(
    (d): LocalDomain => ({ name: d.name, transport: d.transport, source: 'config', createdAt: null }),
  );
  const names = new Set(fromConfig.map((d) => d.name));
  const fromStore = (await store.listDomains())
    .filter((d) => !names.has(d.name))
    .map(
      (d: Domain): LocalDomain => ({ name: d.name, transport: d.transport, source: 'store', createdAt: d.createdAt }),
    );
  return [...fromConfig, ...fromStore].sort((a, b) => a.name.localeCompare(b.name));
}

/** Fail with the next step to take unless `domain` is local (in the configuration or the store). */
export async function requireLocalDomain(config: Config, store: Store, domain: string): Promise<void> {
  if (config.domains.some((d) => d.name === domain)) return;
  if (await store.getDomain(domain)) return;
  throw new CliError(`domain ${domain} is not local; add it first with \`mailroom domain add ${domain}\``);
}
