export { nextDelay, type RetryPolicy } from './schedule.js';
export { WebhookService, type WebhookSettings, wants, webhookPayload } from './service.js';
export { generateSecret, isValidSecret, signatureHeaders } from './signing.js';
