export { CompositeBlobStore } from './composite.js';
export { DirSyncer, fsyncDir } from './dir-sync.js';
export { blobSubdir, cleanupTemp, FsBlobStore } from './fs.js';
