import type { Logger } from 'pino';
import type { MailboxService } from '../mailbox/index.js';
import type { Store } from '../store/index.js';
import { structureOf } from './content.js';

/** Messages waiting beyond this are left to be parsed on first use instead. */
const MAX_WAITING = 10_000;

/**
 * Computes the MIME structure (BODYSTRUCTURE, ENVELOPE, part offsets) of each new message in the
 * background right after delivery, one at a time, and stores it with the message, so FETCH and
 * SEARCH never parse a body. Anything missed (a full queue, a restart) is parsed on first use.
 */
export class StructureIndexer {
  private readonly waiting: { mailboxId: number; uid: number }[] = [];
  private running = false;
  private readonly stop: () => void;

  constructor(
    private readonly mailboxes: MailboxService,
    private readonly store: Store,
    private readonly logger: Logger,
  ) {
    this.stop = mailboxes.notifier.subscribeAll((change) => {
      if (change.type !== 'exists') return;
      for (const m of change.messages) {
        if (m.structure === null && this.waiting.length < MAX_WAITING) {
          this.waiting.push({ mailboxId: m.mailboxId, uid: m.uid });
        }
      }
      void this.run();
    });
  }

  /** Stop listening and finish the message being parsed; those still waiting are parsed on first use. */
  async close(): Promise<void> {
    this.stop();
    this.waiting.length = 0;
    await this.idle();
  }

  /** Resolves when nothing is waiting (tests). */
  async idle(): Promise<void> {
    while (this.running || this.waiting.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      // Yield first, so that APPEND can store the structure it already has before we look.
      await new Promise((r) => setImmediate(r));
      while (this.waiting.length > 0) {
        const next = this.waiting.shift()!;
        try {
          const [msg] = await this.store.getMailboxMessages(next.mailboxId, [next.uid]);
          if (msg && msg.structure === null) await structureOf(this.mailboxes, msg);
        } catch (err) {
          this.logger.warn({ err, mailboxId: next.mailboxId, uid: next.uid }, 'indexing a message failed');
        }
      }
    } finally {
      this.running = false;
    }
  }
}
