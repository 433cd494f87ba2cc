import { EventEmitter } from 'node:events';
import type { MailboxMessage } from '../store/index.js';

/** Something that happened to a mailbox, for the other sessions that have it open. */
export type MailboxChange =
  | { type: 'exists'; mailboxId: number; messages: MailboxMessage[]; origin?: unknown }
  | { type: 'flags'; mailboxId: number; messages: MailboxMessage[]; origin?: unknown }
  | { type: 'expunge'; mailboxId: number; uids: number[]; modseq: number; origin?: unknown };

/** The emitter key of listeners to every mailbox (mailbox ids are numbers, so it cannot clash). */
const ALL = 'all';

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

  /** Listen to every mailbox (background work such as indexing); returns the function that stops listening. */
  subscribeAll(listener: MailboxListener): () => void {
    this.emitter.on(ALL, listener);
    return () => {
      this.emitter.off(ALL, listener);
    };
  }

  /** Tell every listener of the mailbox; a listener that throws does not stop the others. */
  publish(change: MailboxChange): void {
    const listeners = [...this.emitter.listeners(String(change.mailboxId)), ...this.emitter.listeners(ALL)];
    for (const l of listeners as MailboxListener[]) {
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
