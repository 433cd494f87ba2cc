import type { Reply } from '../smtp/reply.js';

/** What the session does with a message (or a command): go on, refuse for good or for now, or hold. */
export type VerdictAction = 'accept' | 'reject' | 'tempfail' | 'quarantine';

/**
 * A check's answer. `reply` is what the client is told for reject and tempfail; `reason` goes
 * to the log and, for quarantine, becomes the held recipients' last reply; `headers` are whole
 * header fields (CRLF-terminated) to prepend to the message.
 */
export interface Verdict {
  action: VerdictAction;
  reply?: Reply;
  reason?: string;
  headers?: string[];
}

export const ACCEPT: Verdict = Object.freeze({ action: 'accept' }) as Verdict;

/** What every stage knows about the client. */
export interface ClientContext {
  ip: string;
  /** The HELO/EHLO name, once given. */
  helo: string | null;
  /** The authenticated user, if any. */
  user: string | null;
  /** The listener: only `smtp` without a user is mail from other servers. */
  role: 'smtp' | 'submission' | 'submissions';
}

/** The end of DATA: the whole message as received (our Received: header first) and its envelope. */
export interface MessageContext extends ClientContext {
  from: string;
  recipients: string[];
  message: Buffer;
}

/** One check: context in, verdict out; I/O only through what it was built with. */
export type Check<C> = (ctx: C) => Promise<Verdict>;

const SEVERITY: Record<VerdictAction, number> = { accept: 0, quarantine: 1, tempfail: 2, reject: 3 };

/**
 * Fold verdicts into one: the most severe action wins (reject > tempfail > quarantine > accept),
 * the first verdict of that action gives the reply and reason, and every header is kept.
 */
export function combine(verdicts: readonly Verdict[]): Verdict {
  let worst: Verdict = ACCEPT;
  const headers: string[] = [];
  for (const v of verdicts) {
    if (SEVERITY[v.action] > SEVERITY[worst.action]) worst = v;
    if (v.headers) headers.push(...v.headers);
  }
  return headers.length > 0 ? { ...worst, headers } : { ...worst, headers: undefined };
}

/** Run checks in order and combine them; stops at the first refusal (later checks cannot soften it). */
export async function runChecks<C>(checks: readonly Check<C>[], ctx: C): Promise<Verdict> {
  const seen: Verdict[] = [];
  for (const check of checks) {
    const v = await check(ctx);
    seen.push(v);
    if (v.action === 'reject' || v.action === 'tempfail') break;
  }
  return combine(seen);
}
