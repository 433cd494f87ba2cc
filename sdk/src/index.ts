export { Mailroom, type MailroomOptions, type MessageList, type SendOptions, type WaitOptions } from './client.js';
export { MailroomError } from './errors.js';
export { ROUTES, type RouteName } from './routes.js';
export type * from './types.js';
export {
  signWebhook,
  type VerifyOptions,
  verifyWebhook,
  type WebhookHeaders,
  WebhookVerificationError,
} from './webhook.js';
