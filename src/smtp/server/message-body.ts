import type { Logger } from 'pino';
import type { SenderPolicy } from '../../policy/index.js';
import type { Intake } from '../../spool/index.js';
import { type Reply, reply } from '../reply.js';
import { HeaderInspector } from './header-inspector.js';
import { fixSubmissionHeader, HeaderCollector } from './submission-header.js';

/** Longest header section a submission may have (it is held in memory until complete). */
const MAX_SUBMISSION_HEADER = 256 * 1024;

/** What an authenticated submission adds to the plain path. */
export interface SubmissionContext {
  user: string;
  /** Who may send as what: users' sender rules over SMTP, key domain rules over HTTP. */
  senders: Pick<SenderPolicy, 'check'>;
  hostname: string;
  /** DKIM signer: the header field(s) to prepend, '' when the From: domain has no key; null when off. */
  sign: ((message: Buffer) => Promise<string>) | null;
  logger: Logger;
  conn: string;
}

/**
 * Where one transaction's body bytes go after our trace header. Mail from other servers goes
 * straight to the intake. An authenticated submission's header is held back until complete,
 * checked (From: must be owned) and fixed (RFC 6409 section 8), and the message is DKIM-signed
 * at the end. Either way, Received: headers are counted for loop detection.
 */
export class MessageBody {
  private readonly inspector = new HeaderInspector();
  private readonly header: HeaderCollector | null;
  /** Why the message will be refused at its end (its remaining bytes are read and dropped). */
  private failure: Reply | null = null;

  /** Write our trace header to the intake, then take the body. */
  static async open(intake: Intake, trace: string, submission: SubmissionContext | null): Promise<MessageBody> {
    const bytes = Buffer.from(trace, 'utf8');
    await intake.write(bytes);
    return new MessageBody(intake, bytes.length, submission);
  }

  private constructor(
    private readonly intake: Intake,
    /** Octets of our own Received: header already written at the start of the intake. */
    private readonly traceLength: number,
    private readonly submission: SubmissionContext | null,
  ) {
    this.header = submission ? new HeaderCollector(MAX_SUBMISSION_HEADER) : null;
  }

  /** Received: headers seen in the message's own header section. */
  get receivedCount(): number {
    return this.inspector.receivedCount;
  }

  /** Body bytes, in order. */
  async write(chunk: Buffer): Promise<void> {
    if (this.failure) return;
    this.inspector.push(chunk);
    if (!this.header || this.header.complete) {
      await this.intake.write(chunk);
      return;
    }
    const got = this.header.push(chunk);
    if (!got) return;
    if ('tooLarge' in got) {
      this.failure = reply(552, '5.3.4', 'Message header too large');
      return;
    }
    await this.writeHeader(got.header);
    if (!this.failure) await this.intake.write(got.rest);
  }

  /** The body is complete: finish the header if it never ended, sign. Returns why to refuse, or null. */
  async end(): Promise<Reply | null> {
    // A submission that ended inside its header (no body): the header is all there is.
    if (this.header && !this.header.complete && !this.failure) await this.writeHeader(this.header.finish());
    if (this.failure) return this.failure;
    await this.sign();
    return null;
  }

  private async writeHeader(header: Buffer): Promise<void> {
    const sub = this.submission as SubmissionContext;
    const fixed = fixSubmissionHeader(header, { hostname: sub.hostname, queueId: this.intake.id, now: new Date() });
    if (!fixed.ok) {
      this.failure = fixed.reply;
      return;
    }
    for (const from of fixed.from) {
      const verdict = await sub.senders.check(sub.user, from);
      if (!verdict.ok) {
        this.failure = reply(verdict.reply.code, verdict.reply.enhanced, `From: ${verdict.reply.lines.join(' ')}`);
        return;
      }
    }
    await this.intake.write(fixed.header);
  }

  private async sign(): Promise<void> {
    const sign = this.submission?.sign;
    if (!sign) return;
    try {
      await this.intake.transform(async (message) => {
        const rest = message.subarray(this.traceLength);
        const signature = await sign(rest);
        if (!signature) return message;
        return Buffer.concat([message.subarray(0, this.traceLength), Buffer.from(signature, 'utf8'), rest]);
      });
    } catch (err) {
      // A broken key must not stop the domain's mail: it leaves unsigned, and the log says why.
      const sub = this.submission as SubmissionContext;
      sub.logger.error({ err, conn: sub.conn, queueId: this.intake.id }, 'DKIM signing failed; sent unsigned');
    }
  }
}

/** The one answer to a message over limits.messageSize, whichever way it arrives. */
export const SIZE_EXCEEDED: Reply = reply(552, '5.3.4', 'Message size exceeds fixed limit');

/** The answer to a text line over limits.lineLength. */
export function lineTooLong(lineLength: number): Reply {
  return reply(552, '5.3.4', `Message line too long, limit is ${lineLength} octets`);
}

/** The DATA decoder's verdict on a finished body. */
export interface DataFlags {
  overSize: boolean;
  lineTooLong: boolean;
  nul: boolean;
  bareLineEnding: boolean;
}

/** Why a finished DATA body is refused, from the decoder's flags; null when it is fine. */
export function dataFailure(result: DataFlags, lineLength: number): Reply | null {
  if (result.overSize) return SIZE_EXCEEDED;
  if (result.lineTooLong) return lineTooLong(lineLength);
  if (result.nul) return reply(554, '5.6.0', 'Message contains NUL characters');
  if (result.bareLineEnding)
    return reply(554, '5.6.0', 'Message contains bare CR or LF characters, use CRLF line endings');
  return null;
}
