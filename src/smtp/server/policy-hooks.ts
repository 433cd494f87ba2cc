import type { Logger } from 'pino';
import {
  type ClientContext,
  type InboundPolicy,
  removeForgedResults,
  type TransactionTrust,
  type Verdict,
} from '../../policy/index.js';
import type { Intake } from '../../spool/index.js';
import { type Reply, reply } from '../reply.js';
import type { Transaction } from './transaction.js';

/** What the end of DATA decided: a refusal to answer, or go on (maybe held, with this reason). */
export type DataDecision = { reply: Reply } | { reply: null; holdReason?: string };

/**
 * One session's link to the inbound policy: asks it at each stage, remembers what a later
 * stage needs (allow-listing, the SPF result, whether the message is forwarded) and turns
 * verdicts into replies. Without a policy every hook says yes.
 */
export class PolicyHooks {
  private refusal: Reply | null = null;
  private trust: TransactionTrust = { spf: null, sealDomain: null };

  constructor(
    private readonly policy: InboundPolicy | null,
    private readonly client: () => ClientContext,
    private readonly logger: Logger,
    private readonly conn: string,
  ) {}

  /** The greeting to send instead of 220 when the client was refused at connect. */
  get greetingRefusal(): Reply | null {
    return this.refusal;
  }

  /** Connect-time checks (blocklists, reverse DNS); a refusal replaces the greeting. */
  async connect(): Promise<void> {
    if (!this.policy) return;
    const v = await this.ask('connect', () => (this.policy as InboundPolicy).connect(this.client()));
    if (v) this.refusal = v;
  }

  /** HELO/EHLO checks; a reply means refuse the command. */
  async helo(name: string): Promise<Reply | null> {
    if (!this.policy) return null;
    return this.ask('helo', () => (this.policy as InboundPolicy).helo({ ...this.client(), helo: name }, name));
  }

  /** MAIL FROM: rate limits and SPF for a new transaction. */
  async mail(from: string): Promise<Reply | null> {
    this.trust = { spf: null, sealDomain: null };
    if (!this.policy) return null;
    return this.ask('mail', async () => {
      const r = await (this.policy as InboundPolicy).mail(this.client(), from);
      this.trust = r.trust;
      return r.verdict;
    });
  }

  /** RCPT TO, once the relay policy accepted it: greylisting, recipient rate, forwarding. */
  async rcpt(from: string, given: string, finals: readonly string[]): Promise<Reply | null> {
    if (!this.policy) return null;
    return this.ask('rcpt', () => (this.policy as InboundPolicy).rcpt(this.client(), this.trust, from, given, finals));
  }

  /** Whether the end-of-DATA checks need the message held in memory. */
  get wantsMessage(): boolean {
    return this.policy?.wantsMessage(this.client()) ?? false;
  }

  /**
   * The end of DATA: forged Authentication-Results go, the checks run on the message, and
   * their header fields are put on top (above our Received:).
   */
  async data(intake: Intake, tx: Transaction): Promise<DataDecision> {
    const policy = this.policy;
    if (!policy) return { reply: null };
    if (!this.wantsMessage) {
      await this.stripForged(intake, policy.hostname);
      return { reply: null };
    }
    const from = tx.from;
    const recipients = tx.recipients.map((r) => r.address);
    let verdict: Verdict = { action: 'accept' };
    try {
      await intake.transform(async (message) => {
        const cleaned = removeForgedResults(message, policy.hostname);
        if (cleaned.removed > 0)
          this.logger.info({ conn: this.conn, removed: cleaned.removed }, 'forged Authentication-Results removed');
        verdict = await policy.message({ ...this.client(), from, recipients, message: cleaned.message }, this.trust);
        const headers = Buffer.from((verdict.headers ?? []).join(''), 'utf8');
        return headers.length > 0 ? Buffer.concat([headers, cleaned.message]) : cleaned.message;
      });
    } catch (err) {
      // A check that breaks must not lose mail: accept untagged, and say so loudly.
      this.logger.error(
        { err, conn: this.conn, queueId: intake.id },
        'inbound checks failed; message accepted unchecked',
      );
      return { reply: null };
    }
    const v = verdict as Verdict;
    if (v.action === 'reject' || v.action === 'tempfail') {
      this.log('data', v);
      return { reply: v.reply ?? defaultReply(v) };
    }
    if (v.action === 'quarantine') {
      this.log('data', v);
      return { reply: null, holdReason: `quarantined: ${v.reason ?? 'policy'}` };
    }
    return { reply: null };
  }

  /**
   * Users' own messages are not checked, but are still cleaned of results claiming to be ours (they
   * are held in memory for DKIM signing; anything else is left as it is).
   */
  private async stripForged(intake: Intake, hostname: string): Promise<void> {
    if (this.client().user === null) return;
    try {
      await intake.transform((message) => removeForgedResults(message, hostname).message);
    } catch {
      // Not held in memory (no signing): nothing to rewrite.
    }
  }

  private async ask(stage: string, run: () => Promise<Verdict>): Promise<Reply | null> {
    let v: Verdict;
    try {
      v = await run();
    } catch (err) {
      this.logger.error({ err, conn: this.conn, stage }, 'inbound check failed; continuing without it');
      return null;
    }
    if (v.action !== 'reject' && v.action !== 'tempfail') return null;
    this.log(stage, v);
    return v.reply ?? defaultReply(v);
  }

  private log(stage: string, v: Verdict): void {
    const c = this.client();
    this.logger.info({ conn: this.conn, client: c.ip, stage, action: v.action, reason: v.reason }, 'policy verdict');
  }
}

function defaultReply(v: Verdict): Reply {
  return v.action === 'tempfail'
    ? reply(451, '4.7.1', 'Temporarily refused by policy, try again later')
    : reply(550, '5.7.1', 'Refused by policy');
}
