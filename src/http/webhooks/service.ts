import type { Logger } from 'pino';
import type { EventBus, EventSink, MailEvent } from '../../events/index.js';
import type { Store, WebhookDelivery, WebhookEndpoint } from '../../store/index.js';
import { newQueueId } from '../../util/id.js';
import { nextDelay, type RetryPolicy } from './schedule.js';
import { signatureHeaders } from './signing.js';

/** Settings of the sender (config `http.webhooks`). */
export interface WebhookSettings extends RetryPolicy {
  timeout: number;
  disableAfterFailures: number;
  disableAfter: number;
  poll: number;
}

/** The JSON body of a webhook: the event with snake_case keys. */
export function webhookPayload(e: MailEvent): string {
  return JSON.stringify({
    type: e.type,
    timestamp: new Date(e.at).toISOString(),
    data: { message_id: e.messageId, recipient: e.recipient ?? null, ...e.detail },
  });
}

/** Whether an endpoint wants events of `type`. */
export function wants(endpoint: WebhookEndpoint, type: string): boolean {
  return endpoint.enabled && (endpoint.events.includes('*') || endpoint.events.includes(type));
}

/**
 * Webhooks fed by the event bus: each event is written as a pending delivery row per matching
 * endpoint (so it survives a restart), then a loop POSTs due rows, retries with back-off, and
 * disables endpoints that keep failing.
 */
export class WebhookService {
  private endpoints: Promise<WebhookEndpoint[]> | null = null;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private tick: Promise<void> | null = null;
  private stopped = true;
  private lastIdAt = 0;

  constructor(
    private readonly store: Store,
    private readonly events: EventBus,
    private readonly settings: WebhookSettings,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    /** Told the result of every attempt (metrics). */
    private readonly onAttempt: (result: 'delivered' | 'retry' | 'failed') => void = () => {},
  ) {}

  /** The event bus sink: writes delivery rows, then wakes the loop. */
  readonly sink: EventSink = (e) => {
    this.writing = this.writing
      .then(async () => {
        const targets = (await this.cachedEndpoints()).filter((ep) => wants(ep, e.type));
        if (targets.length === 0) return;
        const payload = webhookPayload(e);
        const at = this.now();
        await this.store.addWebhookDeliveries(
          targets.map((ep) => ({
            id: this.nextId(at),
            endpointId: ep.id,
            payload,
            status: 'pending',
            attempts: 0,
            nextAttemptAt: at,
            lastStatus: null,
            lastError: null,
            createdAt: at,
            updatedAt: at,
          })),
        );
        this.wake();
      })
      .catch((err) => this.logger.error({ err }, 'writing webhook deliveries failed'));
  };

  /** Forget cached endpoints after one was added, removed, enabled or disabled. */
  changed(): void {
    this.endpoints = null;
  }

  /** Wait until rows for events emitted so far are written. */
  flush(): Promise<void> {
    return this.writing;
  }

  /** Start the loop; rows left pending by an earlier run are picked up. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Run the loop now instead of at the next poll. */
  wake(): void {
    if (!this.stopped && !this.tick) this.schedule(0);
  }

  /** Stop the loop; an attempt in flight finishes (bounded by the time-out). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.tick;
    await this.writing;
  }

  /** Send every due delivery once; resolves when their results are stored. */
  async runDue(): Promise<void> {
    for (;;) {
      const due = await this.store.dueWebhookDeliveries(this.now(), 20);
      if (due.length === 0) return;
      const byId = new Map((await this.store.listWebhooks()).map((ep) => [ep.id, ep]));
      // One endpoint's deliveries go in order, endpoints in parallel.
      const groups = new Map<string, WebhookDelivery[]>();
      for (const d of due) groups.set(d.endpointId, [...(groups.get(d.endpointId) ?? []), d]);
      await Promise.all(
        [...groups].map(async ([id, list]) => {
          for (const d of list) {
            const ep = byId.get(id);
            if (!ep?.enabled) return;
            await this.attempt(ep, d);
          }
        }),
      );
      if (this.stopped) return;
    }
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick = this.runDue()
        .catch((err) => this.logger.error({ err }, 'webhook loop failed'))
        .finally(() => {
          this.tick = null;
          if (!this.stopped) this.schedule(this.settings.poll);
        });
    }, delay);
    this.timer.unref();
  }

  /** Delivery ids sort in the order events were emitted, even within one millisecond. */
  private nextId(at: number): string {
    this.lastIdAt = Math.max(at, this.lastIdAt + 1);
    return `msg_${newQueueId(this.lastIdAt)}`;
  }

  private cachedEndpoints(): Promise<WebhookEndpoint[]> {
    this.endpoints ??= this.store.listWebhooks();
    return this.endpoints;
  }

  /** One POST; the result updates the delivery and the endpoint's health. */
  private async attempt(ep: WebhookEndpoint, d: WebhookDelivery): Promise<void> {
    const started = this.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(ep.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'mailroom-webhooks',
          ...signatureHeaders(ep.secret, d.id, Math.floor(started / 1000), d.payload),
        },
        body: d.payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.settings.timeout),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (status < 200 || status > 299) error = `HTTP ${status}`;
    } catch (err) {
      const e = err as Error & { cause?: Error };
      error = e.name === 'TimeoutError' ? 'timed out' : (e.cause?.message ?? e.message);
    }
    const now = this.now();
    const attempts = d.attempts + 1;
    // The endpoint's health is written before the delivery, so a log that shows the result
    // never shows stale health.
    if (error === null) {
      if (ep.failureCount > 0 || ep.failingSince !== null) {
        await this.store.setWebhookHealth(ep.id, { enabled: true, failureCount: 0, failingSince: null });
        ep.failureCount = 0;
        ep.failingSince = null;
      }
      await this.store.updateWebhookDelivery(d.id, {
        status: 'delivered',
        attempts,
        nextAttemptAt: null,
        lastStatus: status,
        lastError: null,
        updatedAt: now,
      });
      this.onAttempt('delivered');
      return;
    }
    const delay = nextDelay(attempts, this.settings);
    ep.failingSince ??= started;
    if (delay === null) ep.failureCount += 1;
    const disable =
      ep.failureCount >= this.settings.disableAfterFailures || now - ep.failingSince >= this.settings.disableAfter;
    ep.enabled = !disable;
    await this.store.setWebhookHealth(ep.id, {
      enabled: ep.enabled,
      failureCount: ep.failureCount,
      failingSince: ep.failingSince,
    });
    await this.store.updateWebhookDelivery(d.id, {
      status: delay === null ? 'failed' : 'pending',
      attempts,
      nextAttemptAt: delay === null ? null : now + delay,
      lastStatus: status,
      lastError: error,
      updatedAt: now,
    });
    this.onAttempt(delay === null ? 'failed' : 'retry');
    if (disable) {
      this.changed();
      this.logger.warn({ endpoint: ep.id, url: ep.url, failures: ep.failureCount }, 'webhook endpoint disabled');
      this.events.emit('webhook_failed', null, {
        endpoint: ep.id,
        url: ep.url,
        failures: ep.failureCount,
        failingSince: new Date(ep.failingSince).toISOString(),
        lastError: error,
      });
    }
  }
}
