import type { z } from 'zod';
import type { Recipient, StoredEvent } from '../../store/index.js';
import type { ApiDeps } from '../context.js';
import { ApiError } from '../errors.js';
import type { Routes } from '../route.js';
import { idParams, listQuery, listResultSchema, messageSchema } from '../schemas.js';

/** Timeline events that change where a recipient stands. */
const STATE_EVENTS = new Set(['queued', 'deferred', 'delivered', 'bounced', 'expired', 'held', 'released', 'deleted']);

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** `GET /v1/messages`, `GET /v1/messages/:id`, `GET /v1/messages/:id/raw`. */
export function readRoutes(routes: Routes, deps: ApiDeps): void {
  routes.add<unknown, z.infer<typeof listQuery>, unknown>(
    {
      method: 'GET',
      url: '/v1/messages',
      summary: 'List messages, newest first (filters: status, recipient, tag, since/until; cursor pagination)',
      tag: 'messages',
      scope: 'read',
      query: listQuery,
      responses: { 200: { description: 'A page of messages', schema: listResultSchema } },
    },
    async ({ query }) => {
      const items = await deps.store.listMessages({
        limit: query.limit,
        ...(query.status ? { status: query.status } : {}),
        ...(query.recipient ? { recipient: query.recipient } : {}),
        ...(query.tag ? { tag: query.tag } : {}),
        ...(query.since ? { since: Date.parse(query.since) } : {}),
        ...(query.until ? { until: Date.parse(query.until) } : {}),
        ...(query.cursor ? { before: Number(query.cursor) } : {}),
      });
      const data = await Promise.all(
        items.map(async (item) => {
          const events = await deps.store.listEvents(item.messageId);
          return summary(
            item.messageId,
            item.receivedAt,
            item.detail,
            item.meta,
            await recipientStates(deps, item.messageId, item.detail, events),
          );
        }),
      );
      const last = items.at(-1);
      return {
        status: 200,
        body: { data, next_cursor: items.length === query.limit && last ? String(last.position) : null },
      };
    },
  );

  routes.add<unknown, unknown, z.infer<typeof idParams>>(
    {
      method: 'GET',
      url: '/v1/messages/:id',
      summary: 'One message: per-recipient state and the full event timeline',
      tag: 'messages',
      scope: 'read',
      params: idParams,
      responses: {
        200: { description: 'The message', schema: messageSchema },
        404: { description: 'Unknown message' },
      },
    },
    async ({ params }) => {
      const events = await deps.store.listEvents(params.id);
      const received = events.find((e) => e.type === 'received');
      if (!received) throw notFound(params.id);
      const [meta, message] = await Promise.all([
        deps.store.getMessageMeta(params.id),
        deps.store.getMessage(params.id),
      ]);
      const recipients = await recipientStates(deps, params.id, received.detail, events);
      return {
        status: 200,
        body: {
          ...summary(params.id, received.at, received.detail, meta, recipients),
          size: message?.size ?? (typeof received.detail.size === 'number' ? received.detail.size : null),
          timeline: events.map((e) => ({ at: iso(e.at), type: e.type, recipient: e.recipient, detail: e.detail })),
        },
      };
    },
  );

  routes.add<unknown, unknown, z.infer<typeof idParams>>(
    {
      method: 'GET',
      url: '/v1/messages/:id/raw',
      summary: 'The stored message (RFC 5322) while it is in the queue',
      tag: 'messages',
      scope: 'read',
      params: idParams,
      responses: {
        200: { description: 'The message as stored, with our Received: header', contentType: 'message/rfc822' },
        404: { description: 'Unknown message, or its body is gone (delivered messages are removed from the queue)' },
      },
    },
    async ({ params }) => {
      const message = await deps.store.getMessage(params.id);
      if (!message) throw notFound(params.id, 'the body is kept only while the message is in the queue');
      const body = await deps.blobs.read(message.blobRef);
      return { status: 200, body, contentType: 'message/rfc822' };
    },
  );
}

/** 404 for a message id. */
export function notFound(id: string, why?: string): ApiError {
  return new ApiError(404, 'not_found', `No message ${id}${why ? `: ${why}` : ''}`, { id });
}

function summary(
  id: string,
  receivedAt: number,
  detail: Record<string, unknown>,
  meta: { subject: string | null; tags: string[]; metadata: Record<string, string> } | null,
  recipients: unknown[],
) {
  return {
    id,
    received_at: iso(receivedAt),
    from: typeof detail.from === 'string' ? detail.from : '',
    subject: meta?.subject ?? null,
    tags: meta?.tags ?? [],
    metadata: meta?.metadata ?? {},
    recipients,
  };
}

/**
 * Each recipient's state: its queue row while the message is queued; after clean-up, the last
 * state-changing event on the timeline (which outlives the queue entry).
 */
async function recipientStates(
  deps: ApiDeps,
  id: string,
  received: Record<string, unknown>,
  events: StoredEvent[],
): Promise<unknown[]> {
  const rows: Recipient[] = await deps.store.getRecipients(id);
  if (rows.length > 0) {
    return rows.map((r) => ({
      address: r.address,
      id: r.id,
      state: r.state,
      attempts: r.attempts,
      last_reply: r.lastReply,
      next_attempt_at: r.state === 'queued' || r.state === 'deferred' ? iso(r.nextAttemptAt) : null,
    }));
  }
  const addresses = Array.isArray(received.recipients) ? (received.recipients as string[]) : [];
  return addresses.map((address) => {
    const last = events.filter((e) => e.recipient === address && STATE_EVENTS.has(e.type)).at(-1);
    return {
      address,
      id: null,
      state: last ? (last.type === 'released' ? 'queued' : last.type) : 'queued',
      attempts: typeof last?.detail.attempts === 'number' ? last.detail.attempts : null,
      last_reply: typeof last?.detail.reply === 'string' ? last.detail.reply : null,
      next_attempt_at: null,
    };
  });
}
