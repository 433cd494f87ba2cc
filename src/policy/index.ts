export type { ThrottleDecision } from './auth-throttle.js';
export { AuthThrottle } from './auth-throttle.js';
export type { ClientIdentity, RecipientVerdict } from './relay.js';
export { RecipientPolicy } from './relay.js';
export type { ScanInput, ScanVerdict } from './scanners/index.js';
export { applyEdits, ContentScanner, scannersFromConfig } from './scanners/index.js';
export type { SenderVerdict } from './sender.js';
export { SenderPolicy } from './sender.js';
