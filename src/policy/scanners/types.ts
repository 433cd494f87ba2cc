import type { Reply } from '../../smtp/reply.js';

/** What a scanner (or all of them together) wants done with a message. */
export type ScanAction = 'accept' | 'reject' | 'tempfail' | 'discard' | 'quarantine';

/** A change to the message header asked for by a milter (RFC-less, Sendmail's milter API). */
export type HeaderEdit =
  /** Append a field at the end of the header section. */
  | { op: 'add'; name: string; value: string }
  /** Insert a field before the field at `index` (0: the very top). */
  | { op: 'insert'; index: number; name: string; value: string }
  /** Replace the `index`-th (1-based) field called `name`; an empty value deletes it. */
  | { op: 'change'; index: number; name: string; value: string };

/** One scanner's (or the combined) decision. */
export interface ScanVerdict {
  action: ScanAction;
  /** The SMTP reply for reject and tempfail; the default one of the action when absent. */
  reply?: Reply;
  /** Fields to put at the top of the message when it is accepted or quarantined. */
  headers: [string, string][];
  /** Milter header changes, applied in order before `headers` are added. */
  edits?: HeaderEdit[];
  /** A replacement body (a milter's SMFIR_REPLBODY), header section kept. */
  body?: Buffer;
  /** Recipients a milter refused at RCPT while others remain: the message goes on without them. */
  dropRecipients?: string[];
  /** Why, for the log and the quarantine reason: e.g. `rspamd: reject (score 15.0)`. */
  reason?: string;
}

/** Everything a scanner may want to know about the message and how it arrived. */
export interface ScanInput {
  /** The whole message as it will be stored, our Received: field included. */
  message: Buffer;
  queueId: string;
  mailFrom: string;
  recipients: string[];
  client: { ip: string; port: number; helo: string | null; tls: string | null };
  /** The authenticated user, if any. */
  user: string | null;
  /** Our host name. */
  hostname: string;
}

/** What to do when a scanner cannot give an answer (down, timed out, protocol error). */
export type FailurePolicy = 'accept' | 'tempfail' | 'reject';

/** One configured scanner. */
export interface Scanner {
  /** Short name for logs and headers, e.g. `rspamd`, `clamd`, `milter 127.0.0.1:8891`. */
  readonly name: string;
  readonly timeout: number;
  readonly failure: FailurePolicy;
  /** Scan one message; throws when no answer could be had. `signal` aborts at the time-out. */
  scan(input: ScanInput, signal: AbortSignal): Promise<ScanVerdict>;
}
