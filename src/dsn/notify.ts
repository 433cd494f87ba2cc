import type { DsnKind, DsnNotifyValue } from './types.js';

const WANTS: Record<DsnKind, DsnNotifyValue> = { failure: 'FAILURE', delay: 'DELAY', success: 'SUCCESS' };

/** Whether a DSN of `kind` is due under RFC 3461 NOTIFY for a message from `mailFrom` (`''` for the null path). */
export function shouldSendDsn(kind: DsnKind, notify: DsnNotifyValue[] | null, mailFrom: string): boolean {
  const from = mailFrom.trim();
  // A DSN to the null reverse-path could answer another DSN, and so on forever (RFC 5321 4.5.5).
  if (from === '' || from === '<>') return false;
  // Not asked (an empty list too, as a store may keep it): failures, and delays since 4.1 leaves those to us.
  if (notify === null || notify.length === 0) return kind !== 'success';
  if (notify.includes('NEVER')) return false;
  return notify.includes(WANTS[kind]);
}
