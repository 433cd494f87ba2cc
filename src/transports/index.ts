export { DiscardTransport, UnavailableTransport } from './discard.js';
export { MailboxTransport } from './mailbox.js';
export { MaildirTransport } from './maildir.js';
export { RelayTransport, RemoteTransport } from './remote.js';
export type { BatchContext, DeliveryContext, DeliveryOutcome, Transport } from './types.js';
