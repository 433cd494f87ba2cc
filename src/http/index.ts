export { buildApp, defaultBodyLimit } from './app.js';
export type { ApiDeps } from './context.js';
export { generateApiKey, hashApiKey, SCOPES, type Scope } from './keys.js';
export { HttpListener } from './listener.js';
export { Metrics } from './metrics.js';
export { parseRate, RateLimiter } from './rate-limit.js';
export * as apiSchemas from './schemas.js';
export { WebhookService, type WebhookSettings } from './webhooks/index.js';
