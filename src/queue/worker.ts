import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { EventBus } from '../events/index.js';
import type { Route, Router } from '../router/index.js';
import type { BlobStore, DeliveryResult, Message, Recipient, Store } from '../store/index.js';
import type { DeliveryOutcome, Transport } from '../transports/index.js';
import { nextAttempt } from './backoff.js';

export interface QueueWorkerOptions {
  node: string;
  store: Store;
  blobs: BlobStore;
  router: Router;
  events: EventBus;
  logger: Logger;
  queue: Config['queue'];
  /** Picks the transport for a route. */
  transportFor: (route: Route) => Transport;
  /** Injected clock, so tests can move time. */
  now?: () => number;
  /**
   * Tells the sender what happened (DSN) before the outcome is recorded, so a crash in between
   * repeats a notice rather than losing it. Throws when the notice could not be queued.
   */
  notify?: (event: DeliveryNotice) => Promise<void>;
}

/**
 * An outcome the sender may need to hear about: a final one (`failure`, `success`), or a
 * recipient still deferred after `queue.delayWarning` (`delay`, once per recipient).
 */
export interface DeliveryNotice {
  kind: 'failure' | 'success' | 'delay';
  message: Message;
  recipient: Recipient;
  outcome: DeliveryOutcome;
  /** `expired` when the queue lifetime ran out; `deferred` for a delay. */
  state: DeliveryResult['state'];
  /** For a delay: when the queue gives up on the recipient (epoch ms). */
  willRetryUntil?: number;
}

const WAKE_DELAY_MS = 5;
const CLEANUP_BATCH = 100;
/** A claim for fewer than a quarter of queue.concurrency waits at most this long for more places. */
const CLAIM_INTERVAL_MS = 20;
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Delivers what is due: claims recipients with a lease, hands each to its transport, records
 * the outcome with back-off or expiry, and removes messages once every recipient is final.
 */
export class QueueWorker {
  private inflight = 0;
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private wakeTimer: NodeJS.Timeout | null = null;
  private claimTimer: NodeJS.Timeout | null = null;
  /** performance.now() of the last claim (a real clock: this only paces work, it means nothing to the queue). */
  private lastClaimAt = Number.NEGATIVE_INFINITY;
  private ticking = false;
  private again = false;
  private stopped = true;
  private results: { result: DeliveryResult; durable: boolean; resolve: () => void }[] = [];
  private flushScheduled = false;
  private readonly now: () => number;

  constructor(private readonly opts: QueueWorkerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Begin working the queue; picks up whatever a previous run left. */
  start(): void {
    this.stopped = false;
    this.wake();
  }

  /**
   * Something new may be due (e.g. mail just committed). Wakes arriving within a few
   * milliseconds share one claim, so a burst of intake is delivered in batches.
   */
  wake(): void {
    if (this.stopped || this.wakeTimer) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      if (this.stopped) return;
      if (this.ticking) this.again = true;
      else void this.tick();
    }, WAKE_DELAY_MS);
  }

  /** Stop claiming and wait for deliveries in flight to record their outcome. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.cleanupTimer) clearTimeout(this.cleanupTimer);
    this.cleanupTimer = null;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    if (this.claimTimer) clearTimeout(this.claimTimer);
    this.claimTimer = null;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    await this.flushResults();
    await this.cleanup();
  }

  /** Deliveries in progress on this node. */
  get active(): number {
    return this.inflight;
  }

  private async tick(): Promise<void> {
    this.ticking = true;
    let postponed = false;
    try {
      do {
        this.again = false;
        const free = this.opts.queue.concurrency - this.inflight;
        if (free <= 0 || this.stopped) break;
        if (this.postponeClaim(free)) {
          postponed = true;
          break;
        }
        this.lastClaimAt = performance.now();
        const claimed = await this.opts.store.claimDue(this.opts.node, free, this.now(), this.opts.queue.lease);
        // Recipients of one message at one domain travel together (one SMTP transaction).
        const groups = new Map<string, Recipient[]>();
        for (const r of claimed) {
          const key = `${r.messageId}\n${r.address.slice(r.address.lastIndexOf('@') + 1).toLowerCase()}`;
          groups.set(key, [...(groups.get(key) ?? []), r]);
        }
        const messages = new Map<string, Promise<Message | null>>();
        for (const group of groups.values()) {
          const id = (group[0] as Recipient).messageId;
          let m = messages.get(id);
          if (!m) {
            m = this.opts.store.getMessage(id);
            messages.set(id, m);
          }
          this.launch(group, m);
        }
        if (claimed.length === free) this.again = true;
      } while (this.again && !this.stopped);
    } catch (err) {
      this.opts.logger.error({ err }, 'queue: claiming work failed');
    } finally {
      this.ticking = false;
    }
    // A postponed claim has its own timer; the due-time query can wait for it.
    if (!postponed) await this.scheduleNext();
  }

  /**
   * A claim is a write transaction whatever its size: while most places are taken, wait until a
   * quarter of queue.concurrency is free (or CLAIM_INTERVAL_MS has passed since the last claim)
   * rather than claim one recipient per finished delivery. True when this claim should wait.
   */
  private postponeClaim(free: number): boolean {
    const batch = Math.max(1, Math.floor(this.opts.queue.concurrency / 4));
    if (free >= batch) return false;
    const since = performance.now() - this.lastClaimAt;
    if (since >= CLAIM_INTERVAL_MS) return false;
    if (!this.claimTimer) {
      this.claimTimer = setTimeout(() => {
        this.claimTimer = null;
        this.wake();
      }, CLAIM_INTERVAL_MS - since);
      this.claimTimer.unref();
    }
    return true;
  }

  private launch(group: Recipient[], message: Promise<Message | null>): void {
    this.inflight += group.length;
    const p = this.deliverGroup(group, message)
      .catch((err) =>
        this.opts.logger.error({ err, queueId: group[0]?.messageId }, 'queue: delivery bookkeeping failed'),
      )
      .finally(() => {
        this.inflight -= group.length;
        this.running.delete(p);
        this.wake();
      });
    this.running.add(p);
  }

  /** Deliver recipients of one message at one domain: together when the transport can, else one by one. */
  private async deliverGroup(group: Recipient[], messagePromise: Promise<Message | null>): Promise<void> {
    const message = await messagePromise;
    if (!message) return;
    const { store, blobs } = this.opts;
    const first = group[0] as Recipient;
    if (group.length > 1) {
      const route = await this.opts.router.route(first.address);
      const t = this.opts.transportFor(route);
      if (t.deliverMany) {
        let outcomes: DeliveryOutcome[];
        try {
          outcomes = await t.deliverMany({ message, recipients: group, route, store, blobs });
        } catch (err) {
          this.opts.logger.warn({ err, queueId: first.messageId }, 'queue: delivery error');
          outcomes = group.map(() => localError(err));
        }
        await Promise.all(group.map((r, i) => this.settle(r, message, outcomes[i] ?? localError(null), t.name)));
        return;
      }
    }
    for (const r of group) {
      let outcome: DeliveryOutcome;
      let transport = 'none';
      try {
        const route = await this.opts.router.route(r.address);
        const t = this.opts.transportFor(route);
        transport = t.name;
        outcome = await t.deliver({ message, recipient: r, route, store, blobs });
      } catch (err) {
        this.opts.logger.warn({ err, queueId: r.messageId, recipient: r.address }, 'queue: delivery error');
        outcome = localError(err);
      }
      await this.settle(r, message, outcome, transport);
    }
  }

  /** Turn one recipient's outcome into its next state: back-off, expiry, notices, then record it. */
  private async settle(r: Recipient, message: Message, outcome: DeliveryOutcome, transport: string): Promise<void> {
    const now = this.now();
    let state: DeliveryResult['state'] = outcome.status;
    let nextAttemptAt: number | undefined;
    let delayNotified = false;
    if (state === 'deferred') {
      if (now - message.receivedAt >= this.opts.queue.lifetime) state = 'expired';
      else {
        nextAttemptAt = outcome.retryAt ?? nextAttempt(now, r.attempts, this.opts.queue.retry);
        delayNotified = await this.warnDelay(message, r, outcome, now);
      }
    }
    if (this.opts.notify && state !== 'deferred') {
      try {
        await this.opts.notify({
          kind: state === 'delivered' ? 'success' : 'failure',
          message,
          recipient: r,
          outcome,
          state,
        });
      } catch (err) {
        // No notice, no final state: try again later rather than fail silently.
        this.opts.logger.error({ err, queueId: r.messageId, recipient: r.address }, 'queue: could not queue the DSN');
        state = 'deferred';
        nextAttemptAt = nextAttempt(now, r.attempts, this.opts.queue.retry);
      }
    }
    const redoable = state === 'delivered' && outcome.idempotent === true;
    await this.record(
      { recipientId: r.id, leaseOwner: this.opts.node, state, reply: outcome.reply, nextAttemptAt, delayNotified },
      !redoable,
    );
    this.opts.events.emit(
      state,
      r.messageId,
      {
        transport,
        reply: outcome.reply,
        attempts: r.attempts,
        nextAttemptAt: nextAttemptAt ?? null,
        ...(outcome.remoteMta ? { remoteMta: outcome.remoteMta } : {}),
        ...(outcome.tls ? { tls: outcome.tls } : {}),
      },
      r.address,
    );
    if (state !== 'deferred') {
      this.finished.add(r.messageId);
      this.scheduleCleanup();
    }
  }

  /**
   * Send the delay warning once the recipient has waited `queue.delayWarning`, unless one was
   * already handled. True when it is handled now (queued, or not wanted under NOTIFY), to be
   * recorded with the outcome; false when not due yet, or when it could not be queued, so the
   * next deferral tries again.
   */
  private async warnDelay(message: Message, r: Recipient, outcome: DeliveryOutcome, now: number): Promise<boolean> {
    if (!this.opts.notify || r.delayNotifiedAt !== null) return false;
    if (now - message.receivedAt < this.opts.queue.delayWarning) return false;
    try {
      await this.opts.notify({
        kind: 'delay',
        message,
        recipient: r,
        outcome,
        state: 'deferred',
        willRetryUntil: message.receivedAt + this.opts.queue.lifetime,
      });
      return true;
    } catch (err) {
      this.opts.logger.error(
        { err, queueId: r.messageId, recipient: r.address },
        'queue: could not queue the delay warning, will try again',
      );
      return false;
    }
  }

  /** Outcomes finishing together are written in one transaction. */
  private record(result: DeliveryResult, durable: boolean): Promise<void> {
    return new Promise((resolve) => {
      this.results.push({ result, durable, resolve });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => void this.flushResults());
      }
    });
  }

  private async flushResults(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.results;
    this.results = [];
    if (batch.length === 0) return;
    try {
      // Only outcomes that must not be redone (a remote 250, a bounce) wait for an fsync.
      const durable = batch.some((b) => b.durable);
      await this.opts.store.completeDeliveries(
        batch.map((b) => b.result),
        this.now(),
        { durable },
      );
    } catch (err) {
      // The leases run out and the recipients are tried again: at-least-once, never lost.
      this.opts.logger.error({ err }, 'queue: recording delivery outcomes failed');
    }
    for (const b of batch) b.resolve();
  }

  private cleaning = false;
  private cleanupTimer: NodeJS.Timeout | null = null;
  /** Messages with a recipient that just became final: the likely candidates for clean-up. */
  private finished = new Set<string>();
  /** When the store was last searched for every finished message (null: not since start). */
  private lastSweep: number | null = null;

  /** Clean-up runs in batches a moment after deliveries finish, not once per delivery. */
  private scheduleCleanup(): void {
    if (this.cleanupTimer || this.stopped) return;
    this.cleanupTimer = setTimeout(() => {
      this.cleanupTimer = null;
      void this.cleanup();
    }, 250);
    this.cleanupTimer.unref();
  }

  /**
   * Drop finished messages and blobs nothing else uses. The messages this worker just finished
   * are deleted by id; a search of the whole store (for messages finished elsewhere, or before
   * a restart) runs at most once a minute, since it walks every queued message.
   */
  private async cleanup(): Promise<void> {
    if (this.cleaning) return;
    this.cleaning = true;
    try {
      while (this.finished.size > 0) {
        const ids = [...this.finished].slice(0, CLEANUP_BATCH);
        for (const id of ids) this.finished.delete(id);
        try {
          await this.deleteFinished(ids);
        } catch (err) {
          for (const id of ids) this.finished.add(id);
          throw err;
        }
      }
      if (this.lastSweep === null || this.now() - this.lastSweep >= SWEEP_INTERVAL_MS || this.stopped) {
        this.lastSweep = this.now();
        for (;;) {
          const ids = await this.opts.store.listFinishedMessages(CLEANUP_BATCH);
          if (ids.length === 0) break;
          await this.deleteFinished(ids);
          if (ids.length < CLEANUP_BATCH) break;
        }
      }
    } catch (err) {
      this.opts.logger.warn({ err }, 'queue: clean-up failed, will retry');
    } finally {
      this.cleaning = false;
    }
  }

  /** Delete those of `ids` whose recipients are all final, and their bodies (one transaction). */
  private async deleteFinished(ids: string[]): Promise<void> {
    for (const { blobRef, blobRemoved } of await this.opts.store.deleteMessages(ids)) {
      if (blobRemoved) continue;
      if (!(await this.opts.store.blobInUse(blobRef))) await this.opts.blobs.remove(blobRef);
    }
  }

  private async scheduleNext(): Promise<void> {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    let due: number | null = null;
    try {
      due = await this.opts.store.nextDueAt();
    } catch (err) {
      this.opts.logger.error({ err }, 'queue: reading the next due time failed');
      due = this.now() + 5000;
    }
    if (this.stopped) return;
    // Cap the wait: a clock jump or a row changed by another process (`mailroom queue release`)
    // is noticed within a minute, even when nothing at all is due now.
    const wait = due === null ? 60_000 : Math.min(Math.max(due - this.now(), 0), 60_000);
    this.timer = setTimeout(() => this.wake(), wait);
    this.timer.unref();
  }
}

function localError(err: unknown): DeliveryOutcome {
  const why = err instanceof Error ? err.message : 'no outcome';
  return { status: 'deferred', reply: `451 4.3.0 Local delivery error: ${why}` };
}
