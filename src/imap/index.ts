export { StructureIndexer } from './indexer.js';
export { ImapListener, type ImapListenerOptions } from './listener.js';
export { type ImapDeps, ImapSession } from './session.js';
