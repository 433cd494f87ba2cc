export type { ThrottleDecision } from './auth-throttle.js';
export { AuthThrottle } from './auth-throttle.js';
export type { ClientIdentity, RecipientVerdict } from './relay.js';
export { RecipientPolicy } from './relay.js';
export type { SenderVerdict } from './sender.js';
export { SenderPolicy } from './sender.js';
