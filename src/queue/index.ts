export { nextAttempt } from './backoff.js';
export type { QueueWorkerOptions } from './worker.js';
export { QueueWorker } from './worker.js';
