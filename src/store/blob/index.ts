export { fsyncDir, SharedSync } from '../shared-sync.js';
export { CompositeBlobStore } from './composite.js';
export { blobSubdir, cleanupTemp, FsBlobStore } from './fs.js';
