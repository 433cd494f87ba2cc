import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { EventSink } from '../events/index.js';
import type { Store } from '../store/index.js';

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400, 86_400];

/**
 * Prometheus metrics for one server: fed by the event bus (messages, deliveries, DSNs), by
 * the API (requests, auth failures) and read from the store when scraped (queue depth).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly received: Counter;
  private readonly rejected: Counter;
  private readonly attempts: Counter;
  private readonly latency: Histogram;
  private readonly dsns: Counter;
  private readonly authFailures: Counter;
  private readonly requests: Counter;
  private readonly connections: Counter;
  private readonly webhookFailures: Counter;
  private readonly webhookAttempts: Counter;
  /** Arrival time of messages still being delivered, for the latency histogram (bounded). */
  private readonly arrivals = new Map<string, number>();

  constructor(store: Store) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'mailroom_' });
    this.received = new Counter({
      name: 'mailroom_messages_received_total',
      help: 'Messages accepted (committed to the spool), by listener',
      labelNames: ['listener'],
      registers,
    });
    this.rejected = new Counter({
      name: 'mailroom_messages_rejected_total',
      help: 'Messages refused at intake, by reply code',
      labelNames: ['reason'],
      registers,
    });
    this.attempts = new Counter({
      name: 'mailroom_delivery_attempts_total',
      help: 'Delivery attempts by result (delivered, deferred, bounced, expired)',
      labelNames: ['result'],
      registers,
    });
    this.latency = new Histogram({
      name: 'mailroom_delivery_latency_seconds',
      help: 'Time from acceptance to successful delivery',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.dsns = new Counter({
      name: 'mailroom_dsn_sent_total',
      help: 'Delivery status notifications queued',
      registers,
    });
    this.authFailures = new Counter({
      name: 'mailroom_auth_failures_total',
      help: 'Failed authentications, by protocol and reason',
      labelNames: ['protocol', 'reason'],
      registers,
    });
    this.requests = new Counter({
      name: 'mailroom_http_requests_total',
      help: 'HTTP API requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.connections = new Counter({
      name: 'mailroom_connections_total',
      help: 'Connections accepted, by listener',
      labelNames: ['listener'],
      registers,
    });
    this.webhookFailures = new Counter({
      name: 'mailroom_webhook_failures_total',
      help: 'Webhook deliveries that failed (webhook_failed events)',
      registers,
    });
    this.webhookAttempts = new Counter({
      name: 'mailroom_webhook_attempts_total',
      help: 'Webhook POSTs by result (delivered, retry, failed)',
      labelNames: ['result'],
      registers,
    });
    new Gauge({
      name: 'mailroom_queue_depth',
      help: 'Recipients in the queue by state',
      labelNames: ['state'],
      registers,
      async collect() {
        const summary = await store.queueSummary();
        this.reset();
        for (const state of ['queued', 'deferred', 'delivering', 'held']) {
          this.set({ state }, summary.byState[state as keyof typeof summary.byState] ?? 0);
        }
      },
    });
  }

  /** The event bus sink. */
  readonly sink: EventSink = (e) => {
    switch (e.type) {
      case 'received': {
        const listener = String(e.detail.listener ?? 'unknown');
        this.received.inc({ listener });
        if (listener === 'dsn' || e.detail.from === '') this.dsns.inc();
        if (e.messageId && this.arrivals.size < 100_000) this.arrivals.set(e.messageId, e.at);
        break;
      }
      case 'rejected':
        this.rejected.inc({ reason: String(e.detail.result ?? '').slice(0, 3) || 'unknown' });
        break;
      case 'delivered':
      case 'deferred':
      case 'bounced':
      case 'expired': {
        this.attempts.inc({ result: e.type });
        const at = e.messageId ? this.arrivals.get(e.messageId) : undefined;
        if (e.type === 'delivered' && at !== undefined) this.latency.observe((e.at - at) / 1000);
        if (e.type !== 'deferred' && e.messageId) this.arrivals.delete(e.messageId);
        break;
      }
      case 'webhook_failed':
        this.webhookFailures.inc();
        break;
      default:
        break;
    }
  };

  /** One failed authentication. */
  authFailure(protocol: string, reason: string): void {
    this.authFailures.inc({ protocol, reason });
  }

  /** One HTTP request answered. */
  request(method: string, route: string, status: number): void {
    this.requests.inc({ method, route, status: String(status) });
  }

  /** One connection accepted on a listener. */
  connection(listener: string): void {
    this.connections.inc({ listener });
  }

  /** One webhook POST: delivered, to be retried, or failed for good. */
  webhookAttempt(result: 'delivered' | 'retry' | 'failed'): void {
    this.webhookAttempts.inc({ result });
  }
}
