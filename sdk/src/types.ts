/** Request and response shapes of the mailroom HTTP API (checked against src/http/schemas.ts in test/sdk). */

/** `a@example.com`, `Name <a@example.com>`, or `{ email, name }`. */
export type Address = string | { email: string; name?: string };

/** An attachment; `content` is base64, `cid` makes it an inline image referenced as `cid:` in the HTML. */
export interface Attachment {
  filename: string;
  content: string;
  content_type?: string;
  cid?: string;
}

/** The JSON body of `POST /v1/messages`. */
export interface SendMessage {
  from: Address;
  to?: Address | Address[];
  cc?: Address | Address[];
  bcc?: Address | Address[];
  reply_to?: Address | Address[];
  subject?: string;
  text?: string;
  html?: string;
  attachments?: Attachment[];
  headers?: Record<string, string>;
  tags?: string[];
  metadata?: Record<string, string>;
  /** RFC 3339: deliver no earlier than this. */
  send_at?: string;
}

/** The outcome for one recipient of a sent message. */
export interface RecipientResult {
  address: string;
  status: 'accepted' | 'rejected';
  ids: number[];
  reason?: string;
  reply?: string;
}

/** `202 Accepted`. */
export interface SendResult {
  id: string;
  status: 'queued';
  recipients: RecipientResult[];
}

/** The error part of a failed response. */
export interface ErrorBody {
  code: string;
  message: string;
  details: unknown;
}

/** One item of a batch answer: a 202 result or the error it would have had alone. */
export interface BatchItemResult {
  index: number;
  status: number;
  id?: string;
  recipients?: RecipientResult[];
  error?: ErrorBody;
}

/** `POST /v1/messages/batch`. */
export interface BatchResult {
  results: BatchItemResult[];
}

/** A recipient's queue state. */
export type RecipientStateName = 'queued' | 'deferred' | 'delivering' | 'delivered' | 'bounced' | 'held' | 'expired';

/** One recipient of a stored message. */
export interface RecipientState {
  address: string;
  id: number | null;
  state: string;
  attempts: number | null;
  last_reply: string | null;
  next_attempt_at: string | null;
}

/** A message in a list. */
export interface MessageSummary {
  id: string;
  received_at: string;
  from: string;
  subject: string | null;
  tags: string[];
  metadata: Record<string, string>;
  recipients: RecipientState[];
}

/** A timeline event. */
export interface TimelineEvent {
  at: string;
  type: string;
  recipient: string | null;
  detail: Record<string, unknown>;
}

/** `GET /v1/messages/:id`. */
export interface Message extends MessageSummary {
  size: number | null;
  timeline: TimelineEvent[];
}

/** Filters of `GET /v1/messages`. */
export interface ListFilter {
  status?: RecipientStateName;
  recipient?: string;
  tag?: string;
  since?: string | Date;
  until?: string | Date;
  limit?: number;
  cursor?: string;
}

/** A page of `GET /v1/messages`. */
export interface MessagePage {
  data: MessageSummary[];
  next_cursor: string | null;
}

/** The answer of retry, hold and release. */
export interface QueueActionResult {
  id: string;
  action: string;
  changed: { address: string; id: number; state: string }[];
}

/** Counts over a window. */
export interface StatsCounts {
  received: number;
  delivered: number;
  deferred: number;
  bounced: number;
  expired: number;
  opened: number;
  clicked: number;
  complained: number;
}

/** `GET /v1/stats`. */
export interface Stats {
  window: string;
  from: string;
  to: string;
  bucket_seconds: number;
  totals: StatsCounts;
  rates: {
    delivered: number | null;
    bounced: number | null;
    opened: number | null;
    clicked: number | null;
    complained: number | null;
  };
  series: (StatsCounts & { start: string })[];
}

/** Why an address is suppressed. */
export type SuppressionReason = 'hard_bounce' | 'complaint' | 'manual';

/** A suppressed address. */
export interface Suppression {
  address: string;
  reason: SuppressionReason;
  detail: string | null;
  message_id: string | null;
  created_at: string;
}

/** The body of `POST /v1/suppressions`. */
export interface SuppressionInput {
  address: string;
  reason?: SuppressionReason;
  detail?: string;
}

/** A page of `GET /v1/suppressions`. */
export interface SuppressionPage {
  data: Suppression[];
  next_cursor: string | null;
}
