import crypto from 'node:crypto';
import type { z } from 'zod';
import type { WebhookDelivery, WebhookEndpoint } from '../../store/index.js';
import type { ApiDeps } from '../context.js';
import { ApiError } from '../errors.js';
import type { Routes } from '../route.js';
import { generateSecret } from '../webhooks/index.js';
import {
  deliveryList,
  deliveryQuery,
  replayQuery,
  replayResult,
  webhookCreated,
  webhookInput,
  webhookList,
  webhookParams,
  webhookSchema,
} from '../webhooks/schemas.js';

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

const view = (e: WebhookEndpoint) => ({
  id: e.id,
  url: e.url,
  events: e.events,
  enabled: e.enabled,
  failure_count: e.failureCount,
  failing_since: iso(e.failingSince),
  created_at: new Date(e.createdAt).toISOString(),
});

const deliveryView = (d: WebhookDelivery) => ({
  id: d.id,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: iso(d.nextAttemptAt),
  last_status: d.lastStatus,
  last_error: d.lastError,
  created_at: new Date(d.createdAt).toISOString(),
  updated_at: new Date(d.updatedAt).toISOString(),
  payload: JSON.parse(d.payload) as unknown,
});

type Params = z.infer<typeof webhookParams>;

/** Webhook endpoints: create, list, show, delete, delivery log and replay. */
export function webhookRoutes(routes: Routes, deps: ApiDeps): void {
  const now = deps.now ?? Date.now;
  const find = async (id: string) => {
    const e = await deps.store.getWebhook(id);
    if (!e) throw new ApiError(404, 'not_found', `No webhook ${id}`, { id });
    return e;
  };

  routes.add<z.infer<typeof webhookInput>, unknown, unknown>(
    {
      method: 'POST',
      url: '/v1/webhooks',
      summary: 'Add a webhook endpoint; the signing secret is shown only in this response',
      tag: 'webhooks',
      scope: 'webhooks',
      body: webhookInput,
      responses: { 201: { description: 'Created', schema: webhookCreated } },
    },
    async ({ body }) => {
      const e: WebhookEndpoint = {
        id: `wh_${crypto.randomBytes(8).toString('hex')}`,
        url: body.url,
        events: [...new Set<string>(body.events)],
        secret: body.secret ?? generateSecret(),
        enabled: true,
        failureCount: 0,
        failingSince: null,
        createdAt: now(),
      };
      await deps.store.addWebhook(e);
      deps.webhooks?.changed();
      return { status: 201, body: { ...view(e), secret: e.secret } };
    },
  );

  routes.add(
    {
      method: 'GET',
      url: '/v1/webhooks',
      summary: 'List webhook endpoints',
      tag: 'webhooks',
      scope: 'webhooks',
      responses: { 200: { description: 'Every endpoint', schema: webhookList } },
    },
    async () => ({ status: 200, body: { data: (await deps.store.listWebhooks()).map(view) } }),
  );

  routes.add<unknown, unknown, Params>(
    {
      method: 'GET',
      url: '/v1/webhooks/:id',
      summary: 'One webhook endpoint',
      tag: 'webhooks',
      scope: 'webhooks',
      params: webhookParams,
      responses: {
        200: { description: 'The endpoint', schema: webhookSchema },
        404: { description: 'No such webhook' },
      },
    },
    async ({ params }) => ({ status: 200, body: view(await find(params.id)) }),
  );

  routes.add<unknown, unknown, Params>(
    {
      method: 'DELETE',
      url: '/v1/webhooks/:id',
      summary: 'Remove a webhook endpoint and its delivery log',
      tag: 'webhooks',
      scope: 'webhooks',
      params: webhookParams,
      responses: { 204: { description: 'Removed' }, 404: { description: 'No such webhook' } },
    },
    async ({ params }) => {
      if (!(await deps.store.deleteWebhook(params.id))) await find(params.id);
      deps.webhooks?.changed();
      return { status: 204 };
    },
  );

  routes.add<unknown, z.infer<typeof deliveryQuery>, Params>(
    {
      method: 'GET',
      url: '/v1/webhooks/:id/deliveries',
      summary: 'The delivery log of an endpoint, newest first (cursor pagination)',
      tag: 'webhooks',
      scope: 'webhooks',
      params: webhookParams,
      query: deliveryQuery,
      responses: {
        200: { description: 'A page of deliveries', schema: deliveryList },
        404: { description: 'No such webhook' },
      },
    },
    async ({ params, query }) => {
      await find(params.id);
      const list = await deps.store.listWebhookDeliveries(params.id, {
        limit: query.limit,
        ...(query.status ? { status: query.status } : {}),
        ...(query.cursor ? { before: query.cursor } : {}),
      });
      const last = list.at(-1);
      return {
        status: 200,
        body: { data: list.map(deliveryView), next_cursor: list.length === query.limit && last ? last.id : null },
      };
    },
  );

  routes.add<unknown, z.infer<typeof replayQuery>, Params>(
    {
      method: 'POST',
      url: '/v1/webhooks/:id/replay',
      summary: 'Send failed deliveries again (all, or one with ?delivery=ID); re-enables a disabled endpoint',
      tag: 'webhooks',
      scope: 'webhooks',
      params: webhookParams,
      query: replayQuery,
      responses: {
        200: { description: 'How many deliveries are pending again', schema: replayResult },
        404: { description: 'No such webhook or delivery' },
      },
    },
    async ({ params, query }) => {
      const e = await find(params.id);
      if (query.delivery) {
        const d = await deps.store.getWebhookDelivery(query.delivery);
        if (!d || d.endpointId !== e.id) {
          throw new ApiError(404, 'not_found', `No delivery ${query.delivery} for webhook ${e.id}`, {
            delivery: query.delivery,
          });
        }
      }
      const requeued = await deps.store.requeueWebhookDeliveries(e.id, query.delivery ?? null, now());
      if (!e.enabled || e.failureCount > 0) {
        await deps.store.setWebhookHealth(e.id, { enabled: true, failureCount: 0, failingSince: null });
      }
      deps.webhooks?.changed();
      deps.webhooks?.wake();
      return { status: 200, body: { requeued, enabled: true } };
    },
  );
}
