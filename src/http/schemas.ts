import { z } from 'zod';

/** The error body of every failed request. */
export const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown(),
  }),
});

/** `a@example.com`, `Name <a@example.com>`, or `{ email, name }`. */
export const addressSchema = z.union([
  z.string().min(3).max(998),
  z.object({ email: z.string().min(3).max(320), name: z.string().max(200).optional() }).strict(),
]);
export type AddressInput = z.infer<typeof addressSchema>;

const addressList = z.union([addressSchema, z.array(addressSchema).min(1).max(1000)]);

/** Header fields the API builds itself; setting them through `headers` would contradict the message. */
const RESERVED_HEADERS = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'reply-to',
  'subject',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'received',
  'dkim-signature',
]);

/** `POST /v1/messages` as JSON. */
export const sendSchema = z
  .object({
    from: addressSchema,
    to: addressList.optional(),
    cc: addressList.optional(),
    bcc: addressList.optional(),
    reply_to: addressList.optional(),
    subject: z.string().max(998).default(''),
    text: z.string().optional(),
    html: z.string().optional(),
    attachments: z
      .array(
        z
          .object({
            filename: z.string().min(1).max(255),
            /** base64 */
            content: z.base64(),
            content_type: z.string().max(255).optional(),
            /** Content-ID for inline images referenced as `cid:` in the HTML. */
            cid: z.string().max(255).optional(),
          })
          .strict(),
      )
      .max(100)
      .optional(),
    headers: z
      .record(
        z
          .string()
          .regex(/^[!-9;-~]+$/, 'must be a header field name')
          .refine((n) => !RESERVED_HEADERS.has(n.toLowerCase()), 'is set from the other fields'),
        z
          .string()
          .max(998)
          .regex(/^[^\r\n]*$/, 'must be one line'),
      )
      .optional(),
    tags: z.array(z.string().min(1).max(64)).max(20).optional(),
    metadata: z.record(z.string().min(1).max(64), z.string().max(1000)).optional(),
    /** Deliver no earlier than this time (RFC 3339). */
    send_at: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .refine((m) => m.to !== undefined || m.cc !== undefined || m.bcc !== undefined, {
    message: 'at least one of to, cc or bcc is required',
    path: ['to'],
  })
  .refine((m) => m.text !== undefined || m.html !== undefined || (m.attachments?.length ?? 0) > 0, {
    message: 'text, html or attachments is required',
    path: ['text'],
  });
export type SendInput = z.infer<typeof sendSchema>;

const recipientResult = z.object({
  address: z.string(),
  status: z.enum(['accepted', 'rejected']),
  /** Queue recipient ids (several when an alias expands). */
  ids: z.array(z.number().int()),
  reason: z.string().optional(),
  reply: z.string().optional(),
});

/** `202 Accepted` for a message. */
export const acceptedSchema = z.object({
  id: z.string(),
  status: z.literal('queued'),
  recipients: z.array(recipientResult),
});

export const batchSchema = z.object({ messages: z.array(z.unknown()).min(1) }).strict();

export const batchResultSchema = z.object({
  results: z.array(
    z.object({
      index: z.number().int(),
      status: z.number().int(),
      id: z.string().optional(),
      recipients: z.array(recipientResult).optional(),
      error: errorSchema.shape.error.optional(),
    }),
  ),
});

export const idParams = z.object({ id: z.string().regex(/^[0-9A-Z]{6,40}$/, 'must be a message id') }).strict();

const states = ['queued', 'deferred', 'delivering', 'delivered', 'bounced', 'held', 'expired'] as const;

export const listQuery = z
  .object({
    status: z.enum(states).optional(),
    recipient: z.string().min(3).optional(),
    tag: z.string().min(1).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    cursor: z.string().regex(/^\d+$/, 'must be a cursor from next_cursor').optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .strict();

const recipientState = z.object({
  address: z.string(),
  id: z.number().int().nullable(),
  state: z.string(),
  attempts: z.number().int().nullable(),
  last_reply: z.string().nullable(),
  next_attempt_at: z.string().nullable(),
});

const summary = z.object({
  id: z.string(),
  received_at: z.string(),
  from: z.string(),
  subject: z.string().nullable(),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.string()),
  recipients: z.array(recipientState),
});

export const listResultSchema = z.object({ data: z.array(summary), next_cursor: z.string().nullable() });

export const messageSchema = summary.extend({
  size: z.number().int().nullable(),
  timeline: z.array(
    z.object({
      at: z.string(),
      type: z.string(),
      recipient: z.string().nullable(),
      detail: z.record(z.string(), z.unknown()),
    }),
  ),
});

export const queueActionResult = z.object({
  id: z.string(),
  action: z.string(),
  changed: z.array(z.object({ address: z.string(), id: z.number().int(), state: z.string() })),
});

export const statsQuery = z
  .object({
    window: z.enum(['1h', '24h', '7d', '30d']).default('24h'),
  })
  .strict();

const counts = z.object({
  received: z.number().int(),
  delivered: z.number().int(),
  deferred: z.number().int(),
  bounced: z.number().int(),
  expired: z.number().int(),
  opened: z.number().int(),
  clicked: z.number().int(),
  complained: z.number().int(),
});

export const statsSchema = z.object({
  window: z.string(),
  from: z.string(),
  to: z.string(),
  bucket_seconds: z.number().int(),
  totals: counts,
  rates: z.object({
    delivered: z.number().nullable(),
    bounced: z.number().nullable(),
    opened: z.number().nullable(),
    clicked: z.number().nullable(),
    complained: z.number().nullable(),
  }),
  series: z.array(counts.extend({ start: z.string() })),
});

export const suppressionSchema = z.object({
  address: z.string(),
  reason: z.enum(['hard_bounce', 'complaint', 'manual']),
  detail: z.string().nullable(),
  message_id: z.string().nullable(),
  created_at: z.string(),
});

export const suppressionInput = z
  .object({
    address: z.email(),
    reason: z.enum(['hard_bounce', 'complaint', 'manual']).default('manual'),
    detail: z.string().max(1000).optional(),
  })
  .strict();

export const suppressionList = z.object({ data: z.array(suppressionSchema), next_cursor: z.string().nullable() });

export const suppressionQuery = z
  .object({
    cursor: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const addressParams = z.object({ address: z.string().min(3).max(320) }).strict();
