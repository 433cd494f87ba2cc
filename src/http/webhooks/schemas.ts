import { z } from 'zod';
import type { EventType } from '../../events/index.js';

/** Event types an endpoint can ask for (DESIGN.md "Events"). */
export const WEBHOOK_EVENT_TYPES = [
  'received',
  'rejected',
  'queued',
  'deferred',
  'delivered',
  'bounced',
  'expired',
  'held',
  'released',
  'deleted',
  'opened',
  'clicked',
  'complained',
  'webhook_failed',
  'discarded',
] as const satisfies readonly EventType[];

export const webhookInput = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    events: z
      .array(z.union([z.literal('*'), z.enum(WEBHOOK_EVENT_TYPES)]))
      .min(1)
      .refine((l) => !l.includes('*') || l.length === 1, 'use ["*"] alone for every event type'),
    secret: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_ followed by base64 (16 to 64 bytes)')
      .refine((s) => {
        const n = Buffer.from(s.slice(6), 'base64').length;
        return n >= 16 && n <= 64;
      }, 'must be whsec_ followed by base64 (16 to 64 bytes)')
      .optional(),
  })
  .strict();

export const webhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  enabled: z.boolean(),
  failure_count: z.number(),
  failing_since: z.string().nullable(),
  created_at: z.string(),
});

/** The create response: the only time the secret is shown. */
export const webhookCreated = webhookSchema.extend({ secret: z.string() });

export const webhookList = z.object({ data: z.array(webhookSchema) });

export const webhookParams = z.object({ id: z.string().regex(/^wh_[0-9a-f]{16}$/, 'must be a webhook id') }).strict();

export const deliverySchema = z.object({
  id: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number(),
  next_attempt_at: z.string().nullable(),
  last_status: z.number().nullable(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  payload: z.unknown(),
});

export const deliveryList = z.object({ data: z.array(deliverySchema), next_cursor: z.string().nullable() });

export const deliveryQuery = z
  .object({
    status: z.enum(['pending', 'delivered', 'failed']).optional(),
    cursor: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const replayQuery = z
  .object({
    delivery: z
      .string()
      .regex(/^msg_[0-9A-Z]+$/, 'must be a delivery id')
      .optional(),
  })
  .strict();

export const replayResult = z.object({ requeued: z.number(), enabled: z.boolean() });
