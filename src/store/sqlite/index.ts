export type { SqlitePragmas } from './store.js';
export { SqliteStore } from './store.js';
