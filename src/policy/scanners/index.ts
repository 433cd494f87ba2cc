import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import { reply } from '../../smtp/reply.js';
import { ClamdScanner } from './clamd.js';
import { MilterScanner } from './milter.js';
import { RspamdScanner } from './rspamd.js';
import type { ScanAction, ScanInput, Scanner, ScanVerdict } from './types.js';

export { type ClamdResult, ClamdScanner, instreamFrames, parseClamdReply } from './clamd.js';
export { applyEdits, bodyOf, type HeaderField, type SplitMessage, splitMessage } from './message-edit.js';
export { MilterScanner } from './milter.js';
export * as milterCodec from './milter-codec.js';
export { parseRspamdResponse, type RspamdResult, RspamdScanner, rspamdHeaders, rspamdVerdict } from './rspamd.js';
export { parseSocketAddress, type SocketAddress } from './socket-address.js';
export type { FailurePolicy, HeaderEdit, ScanAction, ScanInput, Scanner, ScanVerdict } from './types.js';

/** Which verdict wins when scanners disagree: the most severe. */
const SEVERITY: Record<ScanAction, number> = { accept: 0, quarantine: 1, discard: 2, tempfail: 3, reject: 4 };

const DEFAULT_REPLY = {
  reject: reply(554, '5.7.1', 'Message rejected by content filter'),
  tempfail: reply(451, '4.7.1', 'Message deferred by content filter, try again later'),
};
const FAILED_REPLY = {
  tempfail: reply(451, '4.3.0', 'Message could not be scanned, try again later'),
  reject: reply(554, '5.7.1', 'Message could not be scanned'),
};

/** The configured scanners, in the order their headers are added. */
export function scannersFromConfig(scanning: Config['scanning']): Scanner[] {
  const list: Scanner[] = [];
  if (scanning.rspamd)
    list.push(new RspamdScanner(scanning.rspamd.url, scanning.rspamd.timeout, scanning.rspamd.failure));
  if (scanning.clamd) {
    const c = scanning.clamd;
    list.push(new ClamdScanner(c.address, c.timeout, c.failure, c.maxSize));
  }
  for (const m of scanning.milters) list.push(new MilterScanner(m.address, m.timeout, m.failure));
  return list;
}

/**
 * Runs every configured scanner on a message at once, each within its own time-out and all within
 * `overall`, and folds their answers into one verdict. A scanner that fails is handled by its
 * failure policy (by default: accept, tag the message, log an error).
 */
export class ContentScanner {
  constructor(
    private readonly scanners: Scanner[],
    private readonly overall: number,
    private readonly logger: Logger,
  ) {}

  /** Whether any scanner is configured. */
  get enabled(): boolean {
    return this.scanners.length > 0;
  }

  /** Scan one message; never throws. */
  async scan(input: ScanInput): Promise<ScanVerdict> {
    const all = AbortSignal.timeout(this.overall);
    const verdicts = await Promise.all(this.scanners.map((s) => this.one(s, input, all)));
    return combineVerdicts(verdicts);
  }

  private async one(scanner: Scanner, input: ScanInput, all: AbortSignal): Promise<ScanVerdict> {
    const signal = AbortSignal.any([all, AbortSignal.timeout(scanner.timeout)]);
    try {
      return await raceAbort(scanner.scan(input, signal), signal);
    } catch (err) {
      const timedOut = signal.aborted;
      const why = timedOut ? 'timed out' : (err as Error).message;
      this.logger.error(
        { err: timedOut ? undefined : err, scanner: scanner.name, queueId: input.queueId, failure: scanner.failure },
        `content scanner ${scanner.name} failed (${why}); failure policy: ${scanner.failure}`,
      );
      return failureVerdict(scanner, why);
    }
  }
}

/** Resolve with the promise, or reject as soon as the signal aborts (a scanner stuck in a call). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The verdict standing in for a scanner that gave no answer. */
export function failureVerdict(scanner: Pick<Scanner, 'name' | 'failure'>, why: string): ScanVerdict {
  const reason = `${scanner.name}: failed (${why})`;
  if (scanner.failure === 'accept') {
    return {
      action: 'accept',
      headers: [['X-Scan-Failed', `${scanner.name}: ${why.replace(/[\r\n]+/g, ' ')}`]],
      reason,
    };
  }
  return { action: scanner.failure, reply: FAILED_REPLY[scanner.failure], headers: [], reason };
}

/** Fold several verdicts into one: the most severe action wins; headers and edits add up. */
export function combineVerdicts(verdicts: ScanVerdict[]): ScanVerdict {
  let winner: ScanVerdict | null = null;
  const out: ScanVerdict = { action: 'accept', headers: [], edits: [] };
  const drop = new Set<string>();
  const reasons: string[] = [];
  for (const v of verdicts) {
    if (!winner || SEVERITY[v.action] > SEVERITY[winner.action]) winner = v;
    out.headers.push(...v.headers);
    out.edits?.push(...(v.edits ?? []));
    if (v.body) out.body = v.body;
    for (const r of v.dropRecipients ?? []) drop.add(r);
    if (v.reason) reasons.push(v.reason);
  }
  if (winner) {
    out.action = winner.action;
    if (winner.action === 'reject' || winner.action === 'tempfail') {
      out.reply = winner.reply ?? DEFAULT_REPLY[winner.action];
    }
    if (winner.reason) out.reason = winner.reason;
  }
  if (drop.size > 0) out.dropRecipients = [...drop];
  if (!out.reason && reasons.length > 0) out.reason = reasons.join('; ');
  return out;
}
