/** Event types every step emits (DESIGN.md "Events"). */
export type EventType =
  | 'received'
  | 'rejected'
  | 'queued'
  | 'deferred'
  | 'delivered'
  | 'bounced'
  | 'expired'
  | 'held'
  | 'released'
  | 'deleted'
  | 'opened'
  | 'clicked'
  | 'complained'
  | 'webhook_failed'
  /** A content scanner asked to drop the message: the client got 250, nothing was stored. */
  | 'discarded';

export interface MailEvent {
  at: number;
  type: EventType;
  messageId: string | null;
  recipient?: string | null;
  detail: Record<string, unknown>;
}

/** A consumer of events: the log, the timeline, metrics, webhooks. */
export type EventSink = (event: MailEvent) => void;

/**
 * One typed stream of events. Sinks are called synchronously in order and must not throw;
 * a sink that needs I/O buffers and flushes on its own.
 */
export class EventBus {
  private readonly sinks: EventSink[] = [];

  /** Add a sink; returns a function that removes it. */
  subscribe(sink: EventSink): () => void {
    this.sinks.push(sink);
    return () => {
      const i = this.sinks.indexOf(sink);
      if (i >= 0) this.sinks.splice(i, 1);
    };
  }

  /** Emit one event to every sink. */
  emit(type: EventType, messageId: string | null, detail: Record<string, unknown> = {}, recipient?: string): void {
    const event: MailEvent = { at: Date.now(), type, messageId, recipient: recipient ?? null, detail };
    for (const sink of this.sinks) {
      try {
        sink(event);
      } catch {
        // A failing sink must not break mail flow; sinks report their own errors.
      }
    }
  }
}
