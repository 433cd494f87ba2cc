export { type BuiltDsn, buildDsn, DEFAULT_MAX_FULL_SIZE } from './build.js';
export { shouldSendDsn } from './notify.js';
export type { DsnAction, DsnInput, DsnKind, DsnNotifyValue, DsnRecipient } from './types.js';
export { dsnKind } from './types.js';
