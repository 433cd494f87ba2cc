/**
 * One POP3 session per mailbox at a time (RFC 1939 section 8 leaves it to the server; two
 * sessions deleting by message number from their own snapshots would delete the wrong mail).
 */
export class MaildropLocks {
  private readonly held = new Set<number>();

  /** Take the lock of a mailbox; false when another session holds it. */
  acquire(mailboxId: number): boolean {
    if (this.held.has(mailboxId)) return false;
    this.held.add(mailboxId);
    return true;
  }

  release(mailboxId: number): void {
    this.held.delete(mailboxId);
  }

  /** Whether a session holds the mailbox now. */
  isHeld(mailboxId: number): boolean {
    return this.held.has(mailboxId);
  }
}
