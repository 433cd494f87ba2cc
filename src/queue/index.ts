export { nextAttempt } from './backoff.js';
export { DsnNotifier } from './dsn-notifier.js';
export type { DeliveryNotice, QueueWorkerOptions } from './worker.js';
export { QueueWorker } from './worker.js';
