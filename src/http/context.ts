import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { EventBus } from '../events/index.js';
import type { IntakeDeps } from '../intake/index.js';
import type { BlobStore, Store } from '../store/index.js';
import type { Metrics } from './metrics.js';
import type { WebhookService } from './webhooks/index.js';

/** Everything the API's handlers need, handed in by the server. */
export interface ApiDeps {
  config: Config;
  store: Store;
  blobs: BlobStore;
  events: EventBus;
  intake: IntakeDeps;
  metrics: Metrics;
  logger: Logger;
  /** Wake the queue after operations that make recipients due. */
  wakeQueue: () => void;
  now?: () => number;
  /** Webhook deliveries; told when endpoints change. */
  webhooks?: WebhookService;
}
