import { EventEmitter } from 'node:events';
import type { MailboxMessage } from '../store/index.js';

/** Something that happened to a mailbox, for the other sessions that have it open. */
export type MailboxChange =
  | { type: 'exists'; mailboxId: number; messages: MailboxMessage[]; origin?: unknown }
  | { type: 'flags'; mailboxId: number; messages: MailboxMessage[]; origin?: unknown }
  | { type: 'expunge'; mailboxId: number; uids: number[]; modseq: number; origin?: unknown };

/** Called with each change of a mailbox a session listens to. */
export type MailboxListener = (change: MailboxChange) => void;

/**
 * In-process fan-out of mailbox changes, keyed by mailbox id: deliveries, IMAP and POP3
 * sessions publish, sessions with the mailbox open (and IDLE clients) subscribe. `origin` lets
 * a session recognise its own changes.
 */
export class MailboxNotifier {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per open session: thousands are normal, not a leak.
    this.emitter.setMaxListeners(0);
  }

  /** Listen to one mailbox; returns the function that stops listening. */
  subscribe(mailboxId: number, listener: MailboxListener): () => void {
    const key = String(mailboxId);
    this.emitter.on(key, listener);
    return () => {
      this.emitter.off(key, listener);
    };
  }

  /** Tell every listener of the mailbox; a listener that throws does not stop the others. */
  publish(change: MailboxChange): void {
    for (const l of this.emitter.listeners(String(change.mailboxId)) as MailboxListener[]) {
      try {
        l(change);
      } catch {
        // A broken session must not break delivery or another session.
      }
    }
  }

  /** How many sessions listen to a mailbox. */
  listeners(mailboxId: number): number {
    return this.emitter.listenerCount(String(mailboxId));
  }
}
