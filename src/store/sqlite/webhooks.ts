import type { WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint } from '../types.js';
import type { Db } from './db.js';

interface EndpointRow {
  id: string;
  url: string;
  events: string;
  secret: string;
  enabled: number;
  failure_count: number;
  failing_since: number | null;
  created_at: number;
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

function toEndpoint(r: EndpointRow): WebhookEndpoint {
  return {
    id: r.id,
    url: r.url,
    events: JSON.parse(r.events) as string[],
    secret: r.secret,
    enabled: r.enabled === 1,
    failureCount: r.failure_count,
    failingSince: r.failing_since,
    createdAt: r.created_at,
  };
}

function toDelivery(r: DeliveryRow): WebhookDelivery {
  return {
    id: r.id,
    endpointId: r.endpoint_id,
    payload: r.payload,
    status: r.status as WebhookDeliveryStatus,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Webhook endpoints and the log of what was sent to them. */
export class Webhooks {
  constructor(private readonly db: Db) {}

  async add(e: WebhookEndpoint): Promise<void> {
    const stmt = this.db.stmt(
      `INSERT INTO webhook_endpoints (id, url, events, secret, enabled, failure_count, failing_since, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    await this.db.durableWrite(() =>
      stmt.run(
        e.id,
        e.url,
        JSON.stringify(e.events),
        e.secret,
        e.enabled ? 1 : 0,
        e.failureCount,
        e.failingSince,
        e.createdAt,
      ),
    );
  }

  list(): WebhookEndpoint[] {
    const rows = this.db.stmt('SELECT * FROM webhook_endpoints ORDER BY created_at, id').all() as EndpointRow[];
    return rows.map(toEndpoint);
  }

  get(id: string): WebhookEndpoint | null {
    const row = this.db.stmt('SELECT * FROM webhook_endpoints WHERE id = ?').get(id) as EndpointRow | undefined;
    return row ? toEndpoint(row) : null;
  }

  async remove(id: string): Promise<boolean> {
    const stmt = this.db.stmt('DELETE FROM webhook_endpoints WHERE id = ?');
    return (await this.db.durableWrite(() => stmt.run(id).changes)) > 0;
  }

  async setHealth(id: string, h: Pick<WebhookEndpoint, 'enabled' | 'failureCount' | 'failingSince'>): Promise<void> {
    const stmt = this.db.stmt(
      'UPDATE webhook_endpoints SET enabled = ?, failure_count = ?, failing_since = ? WHERE id = ?',
    );
    await this.db.durableWrite(() => stmt.run(h.enabled ? 1 : 0, h.failureCount, h.failingSince, id));
  }

  async addDeliveries(list: WebhookDelivery[]): Promise<void> {
    if (list.length === 0) return;
    const stmt = this.db.stmt(
      `INSERT INTO webhook_deliveries (id, endpoint_id, payload, status, attempts, next_attempt_at, last_status,
         last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    await this.db.durableWrite(() => {
      for (const d of list) {
        stmt.run(
          d.id,
          d.endpointId,
          d.payload,
          d.status,
          d.attempts,
          d.nextAttemptAt,
          d.lastStatus,
          d.lastError,
          d.createdAt,
          d.updatedAt,
        );
      }
    });
  }

  listDeliveries(
    endpointId: string,
    opts: { limit: number; status?: WebhookDeliveryStatus; before?: string },
  ): WebhookDelivery[] {
    // Ids are time-ordered (see the sender), so id order is creation order.
    const rows = this.db
      .stmt(
        `SELECT * FROM webhook_deliveries WHERE endpoint_id = ?
           AND (? IS NULL OR status = ?) AND (? IS NULL OR id < ?)
         ORDER BY id DESC LIMIT ?`,
      )
      .all(
        endpointId,
        opts.status ?? null,
        opts.status ?? null,
        opts.before ?? null,
        opts.before ?? null,
        opts.limit,
      ) as DeliveryRow[];
    return rows.map(toDelivery);
  }

  getDelivery(id: string): WebhookDelivery | null {
    const row = this.db.stmt('SELECT * FROM webhook_deliveries WHERE id = ?').get(id) as DeliveryRow | undefined;
    return row ? toDelivery(row) : null;
  }

  due(now: number, limit: number): WebhookDelivery[] {
    const rows = this.db
      .stmt(
        `SELECT d.* FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND e.enabled = 1
         ORDER BY d.next_attempt_at, d.id LIMIT ?`,
      )
      .all(now, limit) as DeliveryRow[];
    return rows.map(toDelivery);
  }

  async update(
    id: string,
    c: Pick<WebhookDelivery, 'status' | 'attempts' | 'nextAttemptAt' | 'lastStatus' | 'lastError' | 'updatedAt'>,
  ): Promise<void> {
    const stmt = this.db.stmt(
      `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ?,
         updated_at = ? WHERE id = ?`,
    );
    await this.db.durableWrite(() =>
      stmt.run(c.status, c.attempts, c.nextAttemptAt, c.lastStatus, c.lastError, c.updatedAt, id),
    );
  }

  async requeue(endpointId: string, deliveryId: string | null, now: number): Promise<number> {
    // A replay starts a fresh round of retries.
    const stmt = this.db.stmt(
      `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?
       WHERE endpoint_id = ? AND status = 'failed' AND (? IS NULL OR id = ?)`,
    );
    return this.db.durableWrite(() => stmt.run(now, now, endpointId, deliveryId, deliveryId).changes);
  }
}
