export { ConnectionCache, type ConnectionCacheOptions } from './connection-cache.js';
export { type Admission, DestinationLimits, type Feedback, type Slot } from './destination-limits.js';
export { DiscardTransport, UnavailableTransport } from './discard.js';
export { MailboxTransport } from './mailbox.js';
export { MaildirTransport } from './maildir.js';
export { RelayTransport, RemoteTransport } from './remote.js';
export type { BatchContext, DeliveryContext, DeliveryOutcome, Transport } from './types.js';
