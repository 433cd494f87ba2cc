/** RFC 3464 2.3.3 Action values. */
export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';

/** Which notification a DSN is, as RFC 3461 NOTIFY asks for them: one DSN never mixes kinds. */
export type DsnKind = 'failure' | 'delay' | 'success';

/** DSN NOTIFY values (RFC 3461 4.1). */
export type DsnNotifyValue = 'NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY';

/** What happened to one recipient. */
export interface DsnRecipient {
  /** The address we tried, as in the envelope; reported as `rfc822`, or `utf-8` (RFC 6533) when non-ASCII. */
  finalRecipient: string;
  /** ORCPT as stored, `type;value` with the value xtext-decoded; reported verbatim. */
  originalRecipient: string | null;
  action: DsnAction;
  /** RFC 3463 enhanced status: 5.x.x or 4.x.x for failed, 4.x.x for delayed, 2.x.x otherwise. */
  status: string;
  /** Host name or `[ip]` of the server that answered. */
  remoteMta: string | null;
  /** The remote reply, e.g. `550 5.1.1 User unknown`; multi-line replies are joined. */
  diagnosticCode: string | null;
  lastAttemptDate: Date | null;
  /** When the queue gives up; reported for `delayed`. */
  willRetryUntil: Date | null;
}

/** Everything a DSN is built from; `buildDsn` does no I/O. */
export interface DsnInput {
  /** Our host name, for Reporting-MTA and the Message-ID. */
  reportingMta: string;
  /** `MAILER-DAEMON@hostname`. */
  from: string;
  /** The original envelope sender; must not be the null reverse-path. */
  to: string;
  /** ORIGINAL-ENVELOPE-ID, xtext-decoded. */
  envid: string | null;
  arrivalDate: Date;
  /** Only failures return content (RFC 3461 4.3); null means HDRS. */
  ret: 'FULL' | 'HDRS' | null;
  /** The original message as stored. */
  original: Buffer;
  queueId: string;
  /** All of one kind (see `dsnKind`); mixing kinds throws. */
  recipients: DsnRecipient[];
  now?: Date;
  /** RET=FULL attaches the message only up to this many octets, else its headers with a note. */
  maxFullSize?: number;
}

/** The notification kind an action belongs to; relayed and expanded are positive reports, like delivered. */
export function dsnKind(action: DsnAction): DsnKind {
  if (action === 'failed') return 'failure';
  if (action === 'delayed') return 'delay';
  return 'success';
}
