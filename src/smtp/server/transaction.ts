import type { Intake } from '../../spool/index.js';
import type { NewRecipient } from '../../store/index.js';
import type { Reply } from '../reply.js';
import type { MessageBody } from './message-body.js';
import type { MailParams, RcptParams } from './params.js';

/** One mail transaction: from MAIL FROM to the end of the message (or RSET). */
export class Transaction {
  readonly recipients: NewRecipient[] = [];
  /** Addresses as the client gave them, for the log and the Received: `for` clause. */
  readonly given: string[] = [];
  /** Lower-cased final addresses already in `recipients`, to deliver each once. */
  private readonly seen = new Set<string>();
  intake: Intake | null = null;
  /** Where body bytes go once DATA or BDAT has started. */
  body: MessageBody | null = null;
  bdatFailed: Reply | null = null;

  constructor(
    readonly from: string,
    readonly params: MailParams,
  ) {}

  /**
   * Add an accepted RCPT and the final addresses it expands to. An address reached twice is
   * delivered once; an expanded one remembers what the client asked for as its ORCPT.
   */
  addRecipient(given: string, finals: string[], rcpt: RcptParams): void {
    for (const address of finals) {
      const key = address.toLowerCase();
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      const expanded = key !== given.toLowerCase();
      this.recipients.push({
        address,
        orcpt: rcpt.orcpt ?? (expanded ? `rfc822;${given}` : null),
        notify: rcpt.notify,
      });
    }
    this.given.push(given);
  }

  /** Drop the message being received, if any. */
  async abort(): Promise<void> {
    const intake = this.intake;
    this.intake = null;
    this.body = null;
    if (intake) await intake.abort();
  }
}
