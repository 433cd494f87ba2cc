export type { ClientIdentity, RecipientVerdict } from './relay.js';
export { RecipientPolicy } from './relay.js';
