/**
 * Why a mailbox operation was refused, named after the IMAP response codes of RFC 5530 so the
 * IMAP server can put the code in its NO reply as it is.
 */
export type MailboxErrorCode = 'NONEXISTENT' | 'ALREADYEXISTS' | 'CANNOT' | 'OVERQUOTA' | 'LIMIT';

/** A mailbox operation refused for a reason the client can be told. */
export class MailboxError extends Error {
  override readonly name: string = 'MailboxError';
  constructor(
    readonly code: MailboxErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Adding the message would take the user over their quota. */
export class QuotaExceededError extends MailboxError {
  override readonly name = 'QuotaExceededError';
  constructor(
    /** Bytes in use now. */
    readonly used: number,
    /** The user's quota in bytes. */
    readonly limit: number,
    /** Bytes the refused operation would have added. */
    readonly needed: number,
  ) {
    super('OVERQUOTA', 'Quota exceeded');
  }
}
