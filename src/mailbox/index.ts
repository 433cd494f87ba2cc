export { MailboxError, type MailboxErrorCode, QuotaExceededError } from './errors.js';
export { DEFAULT_MAILBOXES, DELIMITER, isWithin, normalizeFlags, normalizeMailboxName, parentNames } from './names.js';
export { type MailboxChange, type MailboxListener, MailboxNotifier } from './notifier.js';
export {
  type ChangeOrigin,
  MailboxService,
  type MailboxServiceOptions,
  type MailboxStatus,
  type QuotaInfo,
} from './service.js';
