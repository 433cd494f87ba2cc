import type { Logger } from 'pino';
import type { NewEvent, Store } from '../store/index.js';
import type { EventSink, MailEvent } from './bus.js';

/** Log sink: one pino line per event, with the queue id. */
export function logSink(logger: Logger): EventSink {
  return (e: MailEvent) => {
    logger.info({ event: e.type, queueId: e.messageId, recipient: e.recipient ?? undefined, ...e.detail }, e.type);
  };
}

/**
 * Timeline sink: events with a message id go to the store in batches, so a burst of
 * deliveries costs one write. `flush()` waits for everything emitted so far.
 */
export class TimelineSink {
  private pending: NewEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly onError: (err: unknown) => void,
    private readonly delayMs = 50,
  ) {}

  readonly sink: EventSink = (e) => {
    // `received` is written by the store with the message itself (see Store.commitMessages).
    if (!e.messageId || e.type === 'received') return;
    this.pending.push({
      at: e.at,
      messageId: e.messageId,
      recipient: e.recipient ?? null,
      type: e.type,
      detail: e.detail,
    });
    this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
  };

  /** Write what is pending. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return this.writing;
    this.writing = this.writing.then(() => this.store.appendEvents(batch).catch(this.onError));
    return this.writing;
  }
}
