import type { Logger } from 'pino';
import type { Config, Limits } from '../../config/index.js';
import type { EventBus } from '../../events/index.js';
import type { ContentScanner, InboundPolicy, RecipientPolicy, SenderPolicy } from '../../policy/index.js';
import type { Spool } from '../../spool/index.js';
import { parsePath } from '../address.js';
import type { DataDecoderOptions } from '../data.js';
import { type Reply, reply } from '../reply.js';
import { SmtpAuth, type SmtpAuthDeps } from './auth.js';
import { type EsmtpParam, parseCommand, type SmtpCommand } from './command.js';
import { ehloReply, helpReply } from './ehlo.js';
import { type DataFlags, dataFailure, lineTooLong, MessageBody, SIZE_EXCEEDED } from './message-body.js';
import { judgeMessage } from './message-verdict.js';
import { parseMailParams, parseRcptParams } from './params.js';
import { PolicyHooks } from './policy-hooks.js';
import { protocolName, receivedHeader } from './received.js';
import { Transaction } from './transaction.js';

export type ListenerRole = 'smtp' | 'submission' | 'submissions';

/** What the session needs from the rest of the server; all I/O goes through here. */
export interface SessionDeps {
  hostname: string;
  limits: Limits;
  smtp: Config['smtp'];
  role: ListenerRole;
  /** STARTTLS can be offered (a certificate is loaded). */
  tlsAvailable: boolean;
  policy: RecipientPolicy;
  spool: Spool;
  events: EventBus;
  logger: Logger;
  /** Alias expansion for EXPN (only used when smtp.expn is on). */
  expand: (address: string) => Promise<string[] | null>;
  /** SMTP AUTH; null when no mechanism is available. */
  auth: SmtpAuthDeps | null;
  /** Which addresses an authenticated user may send as. */
  senders: SenderPolicy;
  /** DKIM-sign a submitted message: returns the header field(s) to prepend, '' when its domain has no key. */
  sign: ((message: Buffer) => Promise<string>) | null;
  submission: Config['submission'];
  /** Content scanners (rspamd, clamd, milters) asked at the end of the message; absent when none. */
  scan?: ContentScanner | null;
  /** Inbound trust checks (blocklists, SPF/DKIM/DMARC, greylisting, rate limits); absent: none. */
  inbound?: InboundPolicy | null;
}

/** The connection as the edge sees it. */
export interface ConnectionInfo {
  id: string;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  tls: { version: string; cipher: string } | null;
}

/** What the edge must do after a step: send replies, then act. */
export interface Step {
  replies: Reply[];
  action: 'none' | 'close' | 'starttls' | 'data' | 'bdat';
  /** For `bdat`: the chunk size to read; `discard` when the chunk is read only to stay in sync. */
  bdat?: { size: number; last: boolean; discard: boolean };
  /** Drop input already buffered after this command (RFC 3207 after STARTTLS, failed DATA). */
  discardPipelined?: boolean;
}

const ok = (enhanced: string, text = 'Ok') => reply(250, enhanced, text);
const badSequence = (text = 'Bad sequence of commands') => reply(503, '5.5.1', text);
const step = (r: Reply, action: Step['action'] = 'none'): Step => ({ replies: [r], action });

/**
 * One SMTP conversation as a state machine (RFC 5321). It takes parsed lines and body bytes
 * and returns replies and actions; sockets, TLS and timers belong to the connection edge.
 */
export class SmtpSession {
  private helo: string | null = null;
  private ehlo = false;
  private tx: Transaction | null = null;
  private errors = 0;
  private messages = 0;
  private closed = false;
  /** The answer owed for a BDAT chunk that is being read only to be thrown away. */
  private refusal: Reply | null = null;
  private readonly auth: SmtpAuth | null;
  private readonly hooks: PolicyHooks;

  constructor(
    private readonly deps: SessionDeps,
    private conn: ConnectionInfo,
  ) {
    this.auth = deps.auth
      ? new SmtpAuth(deps.auth, () => ({ ip: this.conn.remoteAddress, secure: this.secure, conn: this.conn.id }))
      : null;
    const client = () => ({ ip: this.conn.remoteAddress, helo: this.helo, user: this.user, role: deps.role });
    this.hooks = new PolicyHooks(deps.inbound ?? null, client, deps.logger, conn.id);
  }

  /** Connect-time checks; run before the greeting, which becomes the refusal if they fail. */
  async connect(): Promise<void> {
    await this.hooks.connect();
  }

  /** The authenticated user, if any. */
  get user(): string | null {
    return this.auth?.user ?? null;
  }

  /** The 220 greeting. */
  greeting(): Reply {
    return this.hooks.greetingRefusal ?? reply(220, null, `${this.deps.hostname} ${this.deps.smtp.banner}`);
  }

  /** Whether a mail transaction (MAIL given, not yet finished) is open. */
  get inTransaction(): boolean {
    return this.tx !== null;
  }

  /** Whether TLS is active on this connection. */
  get secure(): boolean {
    return this.conn.tls !== null;
  }

  /** Limits for the DATA decoder of this transaction. */
  dataOptions(): DataDecoderOptions {
    return {
      maxSize: this.deps.limits.messageSize,
      maxLineLength: this.deps.limits.lineLength,
      bareLineEndings: this.deps.smtp.bareLineEndings,
    };
  }

  /** Handle one command line (without CRLF). */
  async handleLine(line: string): Promise<Step> {
    if (this.auth?.inProgress) return this.count(step(await this.auth.response(line)));
    const parsed = parseCommand(line);
    if (!parsed.ok) return this.count(step(reply(parsed.code, parsed.enhanced, parsed.text)));
    return this.count(await this.dispatch(parsed.command));
  }

  /** A command line longer than the limit was received (and skipped). */
  lineTooLong(): Step {
    return this.count(step(reply(500, '5.5.6', 'Line too long')));
  }

  /** TLS is now active: RFC 3207 says forget everything learned before it. */
  tlsStarted(tls: { version: string; cipher: string }): void {
    this.conn = { ...this.conn, tls };
    this.helo = null;
    this.ehlo = false;
    this.auth?.reset();
    void this.resetTransaction();
  }

  /** Body bytes of a DATA transaction, already dot-unstuffed. */
  async dataChunk(chunk: Buffer): Promise<void> {
    const tx = this.tx;
    if (!tx?.intake) return;
    await tx.body?.write(chunk);
  }

  /** End of DATA: decide and make the message durable. */
  async endData(result: DataFlags & { size: number }): Promise<Step> {
    const failure = dataFailure(result, this.deps.limits.lineLength);
    if (failure) {
      this.reject(failure, result.size);
      await this.resetTransaction();
      return this.count(step(failure));
    }
    return this.count(await this.finish());
  }

  /** A data line longer than the limit: answer and close, since we cannot tell where the line ends. */
  async dataLineTooLong(): Promise<Step> {
    const r = lineTooLong(this.deps.limits.lineLength);
    this.reject(r, this.tx?.intake?.size ?? 0);
    await this.resetTransaction();
    return { replies: [r], action: 'close' };
  }

  /** One BDAT chunk's bytes. */
  async bdatChunk(chunk: Buffer): Promise<void> {
    const tx = this.tx;
    if (!tx?.intake || tx.bdatFailed) return;
    if (tx.intake.size + chunk.length > this.deps.limits.messageSize) {
      tx.bdatFailed = SIZE_EXCEEDED;
      return;
    }
    await tx.body?.write(chunk);
  }

  /** The end of a BDAT chunk. */
  async endBdat(last: boolean, size: number): Promise<Step> {
    const tx = this.tx;
    if (!tx?.intake) return this.count(step(badSequence()));
    if (tx.bdatFailed) {
      const failure = tx.bdatFailed;
      this.reject(failure, tx.intake.size);
      await this.resetTransaction();
      return this.count(step(failure));
    }
    if (!last) return step(ok('2.0.0', `Ok: ${size} octets received`));
    return this.count(await this.finish());
  }

  /** The client was idle too long. */
  timeout(): Step {
    return {
      replies: [reply(421, '4.4.2', `${this.deps.hostname} Timeout exceeded, closing connection`)],
      action: 'close',
    };
  }

  /** The connection is gone: drop any half-received message. */
  async close(): Promise<void> {
    this.closed = true;
    await this.resetTransaction();
  }

  private async dispatch(cmd: SmtpCommand): Promise<Step> {
    // RFC 3030 3: DATA after MAIL ... BODY=BINARYMIME must get 503. Checked on the transaction, not on
    // an intake in progress: the intake only exists once DATA or BDAT has started, so checking it let
    // DATA through and a binary body would have been dot-unstuffed and line-ending-checked as text.
    if (this.tx && this.tx.params.body === 'BINARYMIME' && cmd.verb === 'DATA') {
      return { ...step(badSequence('BINARYMIME requires BDAT')), discardPipelined: true };
    }
    switch (cmd.verb) {
      case 'HELO':
      case 'EHLO':
        return this.onHelo(cmd.verb, cmd.domain);
      case 'MAIL':
        return this.onMail(cmd.path, cmd.params);
      case 'RCPT':
        return this.onRcpt(cmd.path, cmd.params);
      case 'DATA':
        return this.onData();
      case 'BDAT':
        return this.onBdat(cmd.size, cmd.last);
      case 'RSET':
        await this.resetTransaction();
        return step(ok('2.0.0'));
      case 'NOOP':
        return step(ok('2.0.0'));
      case 'QUIT':
        await this.resetTransaction();
        return step(reply(221, '2.0.0', 'Bye'), 'close');
      case 'HELP':
        return step(helpReply());
      case 'VRFY':
        if (!cmd.arg) return step(reply(501, '5.5.4', 'Syntax: VRFY address'));
        return step(reply(252, '2.5.0', 'Cannot VRFY user, but will accept message and attempt delivery'));
      case 'EXPN':
        return this.onExpn(cmd.arg);
      case 'STARTTLS':
        return this.onStartTls();
      case 'AUTH':
        if (!this.auth) return step(reply(502, '5.5.1', 'AUTH not available'));
        return step(await this.auth.command(cmd.mechanism, cmd.initial, this.tx !== null));
    }
  }

  private async onHelo(verb: 'HELO' | 'EHLO', domain: string): Promise<Step> {
    if (this.tx?.intake) return step(badSequence('Finish the BDAT transfer first'));
    await this.resetTransaction();
    const refused = await this.hooks.helo(domain);
    if (refused) return step(refused);
    this.helo = domain;
    this.ehlo = verb === 'EHLO';
    if (!this.ehlo) return step(reply(250, null, this.deps.hostname));
    return step(
      ehloReply({
        hostname: this.deps.hostname,
        clientName: domain,
        messageSize: this.deps.limits.messageSize,
        startTls: this.deps.tlsAvailable && !this.secure && this.deps.role !== 'submissions',
        auth: this.auth?.advertise() ?? null,
      }),
    );
  }

  private async onMail(path: string, params: EsmtpParam[]): Promise<Step> {
    if (!this.helo) return step(badSequence('Send HELO or EHLO first'));
    if (this.tx) return step(badSequence('Nested MAIL command'));
    if (this.deps.role === 'submission' && !this.secure) {
      return step(reply(530, '5.7.0', 'Must issue a STARTTLS command first'));
    }
    if (this.deps.role !== 'smtp' && !this.user) return step(reply(530, '5.7.0', 'Authentication required'));
    if (this.messages >= this.deps.limits.messagesPerConnection) {
      return step(reply(421, '4.7.0', 'Too many messages in one connection, reconnect to send more'), 'close');
    }
    const esmtp = this.ehlo;
    const p = parseMailParams(params, {
      size: esmtp,
      eightBitMime: esmtp,
      smtputf8: esmtp,
      dsn: esmtp,
      binaryMime: esmtp,
      auth: this.auth !== null,
    });
    if (!p.ok) return step(reply(p.code, p.enhanced, p.text));
    const parsed = parsePath(path, { allowNull: true, smtputf8: p.value.smtputf8 });
    if (!parsed.ok) return step(reply(parsed.enhanced === '5.6.7' ? 553 : 501, parsed.enhanced, parsed.text));
    if (p.value.size !== null && p.value.size > this.deps.limits.messageSize) {
      return step(SIZE_EXCEEDED);
    }
    if (this.user) {
      const verdict = await this.deps.senders.check(this.user, parsed.mailbox?.address ?? '');
      if (!verdict.ok) {
        this.deps.logger.info({ conn: this.conn.id, user: this.user, reason: verdict.reason }, 'sender refused');
        return step(verdict.reply);
      }
    }
    const refused = await this.hooks.mail(parsed.mailbox?.address ?? '');
    if (refused) return step(refused);
    this.tx = new Transaction(parsed.mailbox?.address ?? '', p.value);
    return step(ok('2.1.0'));
  }

  private async onRcpt(path: string, params: EsmtpParam[]): Promise<Step> {
    const tx = this.tx;
    if (!tx) return step(badSequence('Need MAIL before RCPT'));
    if (tx.intake) return step(badSequence('Finish the BDAT transfer first'));
    if (tx.given.length >= this.deps.limits.recipients) return step(reply(452, '4.5.3', 'Too many recipients'));
    const rp = parseRcptParams(params, { dsn: this.ehlo });
    if (!rp.ok) return step(reply(rp.code, rp.enhanced, rp.text));
    // RFC 5321 4.5.1: the domain-less <Postmaster> must be accepted; policy picks its domain.
    const parsed = parsePath(path, { allowNull: false, smtputf8: tx.params.smtputf8, allowBarePostmaster: true });
    if (!parsed.ok) return step(reply(parsed.enhanced === '5.6.7' ? 553 : 501, parsed.enhanced, parsed.text));
    if (!parsed.mailbox) return step(reply(501, '5.1.3', 'Null recipient address is not allowed'));
    const mailbox = parsed.mailbox;
    const verdict = await this.deps.policy.check({ ip: this.conn.remoteAddress, user: this.user }, mailbox);
    if (!verdict.ok) {
      this.deps.logger.info(
        {
          conn: this.conn.id,
          client: this.conn.remoteAddress,
          from: tx.from,
          rcpt: mailbox.address,
          reason: verdict.reason,
        },
        'recipient rejected',
      );
      return step(verdict.reply);
    }
    const refused = await this.hooks.rcpt(tx.from, mailbox.address, verdict.addresses);
    if (refused) return step(refused);
    tx.addRecipient(mailbox.address, verdict.addresses, rp.value);
    return step(ok('2.1.5'));
  }

  private async onData(): Promise<Step> {
    const tx = this.tx;
    if (!tx) return { ...step(badSequence('Need MAIL and RCPT before DATA')), discardPipelined: true };
    if (tx.intake) return { ...step(badSequence('Finish the BDAT transfer first')), discardPipelined: true };
    if (tx.given.length === 0) return { ...step(reply(554, '5.5.1', 'No valid recipients')), discardPipelined: true };
    await this.startIntake(tx);
    return step(reply(354, null, 'End data with <CR><LF>.<CR><LF>'), 'data');
  }

  private async onBdat(size: number, last: boolean): Promise<Step> {
    const tx = this.tx;
    if (size > this.deps.limits.messageSize + 1024 * 1024) {
      // Too big to read just to stay in step: answer and hang up.
      return { replies: [SIZE_EXCEEDED], action: 'close' };
    }
    // RFC 3030: a refused chunk is still read, so the byte stream stays in step.
    const refuse = (r: Reply): Step => {
      this.refusal = r;
      return { replies: [], action: 'bdat', bdat: { size, last, discard: true } };
    };
    if (!tx) return refuse(badSequence('Need MAIL and RCPT before BDAT'));
    if (tx.given.length === 0) return refuse(reply(554, '5.5.1', 'No valid recipients'));
    if (!tx.intake) await this.startIntake(tx);
    return { replies: [], action: 'bdat', bdat: { size, last, discard: false } };
  }

  /** After a refused BDAT chunk has been read and thrown away. */
  refusedBdat(): Step {
    const r = this.refusal ?? badSequence();
    this.refusal = null;
    return this.count(step(r));
  }

  private async onExpn(arg: string): Promise<Step> {
    if (!this.deps.smtp.expn) return step(reply(502, '5.5.1', 'EXPN not available'));
    const parsed = parsePath(arg.startsWith('<') ? arg : `<${arg}>`, { allowNull: false, smtputf8: true });
    if (!parsed.ok || !parsed.mailbox) return step(reply(501, '5.5.4', 'Syntax: EXPN address'));
    const list = await this.deps.expand(parsed.mailbox.address);
    if (!list || list.length === 0) return step(reply(550, '5.1.1', 'User unknown'));
    return step(reply(250, '2.1.5', ...list.map((a) => `<${a}>`)));
  }

  private onStartTls(): Step {
    if (this.secure) return step(badSequence('TLS already active'));
    if (!this.deps.tlsAvailable || this.deps.role === 'submissions') {
      return step(reply(502, '5.5.1', 'STARTTLS not available'));
    }
    if (this.tx?.intake) return step(badSequence('Finish the BDAT transfer first'));
    void this.resetTransaction();
    return { replies: [reply(220, '2.0.0', 'Ready to start TLS')], action: 'starttls', discardPipelined: true };
  }

  private async startIntake(tx: Transaction): Promise<void> {
    // A submission that may be DKIM-signed stays in memory: the signature goes in front once the body is known.
    // So does a message to be scanned or checked: scanners and checks add headers once they have seen all of it.
    const signs = this.user !== null && this.deps.sign !== null;
    const held = signs || Boolean(this.deps.scan) || this.hooks.wantsMessage;
    const intake = this.deps.spool.begin({ holdInMemory: held });
    tx.intake = intake;
    // Privacy for authenticated users: their address (often a home or mobile IP) is left out.
    const hideIp = this.user !== null && !this.deps.submission.showClientIp;
    const header = receivedHeader({
      helo: this.helo,
      clientIp: hideIp ? null : this.conn.remoteAddress,
      clientHost: null,
      hostname: this.deps.hostname,
      protocol: this.protocol(tx),
      queueId: intake.id,
      tls: this.conn.tls,
      recipient: tx.given.length === 1 ? (tx.given[0] ?? null) : null,
      authenticatedAs: this.deps.submission.showAuthenticatedUser ? this.user : null,
      date: new Date(),
    });
    const { senders, hostname, sign, logger } = this.deps;
    const user = this.user;
    tx.body = await MessageBody.open(
      intake,
      header,
      user === null ? null : { user, senders, hostname, sign, logger, conn: this.conn.id },
    );
  }

  private protocol(tx: Transaction): string {
    return protocolName({ ehlo: this.ehlo, tls: this.secure, auth: this.user !== null, utf8: tx.params.smtputf8 });
  }

  private async finish(): Promise<Step> {
    const tx = this.tx;
    if (!tx?.intake) return step(badSequence());
    const intake = tx.intake;
    const facts = { ...this.deps, tx, conn: this.conn, helo: this.helo, user: this.user };
    const verdict = await judgeMessage({
      tx,
      intake,
      hooks: this.hooks,
      scan: this.deps.scan,
      receivedLimit: this.deps.limits.receivedHeaders,
      facts: { ...facts, eventFacts: this.clientFacts() },
    });
    if (verdict.kind !== 'store') {
      if (verdict.kind === 'refuse') this.reject(verdict.reply, intake.size);
      else this.messages++;
      await this.resetTransaction();
      return step(verdict.reply);
    }
    const { holdReason } = verdict;
    try {
      await intake.commit({
        mailFrom: tx.from,
        bodyType: tx.params.body ?? '7BIT',
        smtputf8: tx.params.smtputf8,
        dsnRet: tx.params.ret,
        dsnEnvid: tx.params.envid,
        client: this.clientFacts(),
        recipients: verdict.recipients,
        ...(holdReason ? { holdReason } : {}),
      });
    } catch (err) {
      this.deps.logger.error({ err, conn: this.conn.id, queueId: intake.id }, 'could not store message');
      const r = reply(451, '4.3.0', 'Local error in processing, try again later');
      this.reject(r, intake.size);
      await this.resetTransaction();
      return step(r);
    }
    this.messages++;
    this.deps.events.emit('received', intake.id, {
      ...this.clientFacts(),
      from: tx.from,
      recipients: tx.recipients.map((r) => r.address),
      size: intake.size,
      result: 'queued',
      ...(holdReason ? { result: 'held', held: holdReason } : {}),
    });
    this.tx = null;
    return step(ok('2.0.0', `Ok: queued as ${intake.id}`));
  }

  private clientFacts(): Record<string, unknown> {
    return {
      conn: this.conn.id,
      client: this.conn.remoteAddress,
      helo: this.helo,
      listener: this.deps.role,
      tls: this.conn.tls ? `${this.conn.tls.version} ${this.conn.tls.cipher}` : null,
    };
  }

  private reject(r: Reply, size: number): void {
    const tx = this.tx;
    this.deps.events.emit('rejected', tx?.intake?.id ?? null, {
      ...this.clientFacts(),
      from: tx?.from,
      recipients: tx?.recipients.map((x) => x.address),
      size,
      result: `${r.code} ${r.enhanced ?? ''} ${r.lines.join(' ')}`.trim(),
    });
  }

  private async resetTransaction(): Promise<void> {
    const tx = this.tx;
    this.tx = null;
    await tx?.abort();
  }

  /** Count failures; past the limit the client is cut off (a misbehaving or probing client). */
  private count(s: Step): Step {
    if (this.closed) return s;
    if (s.replies.some((r) => r.code >= 400)) this.errors++;
    if (this.errors >= this.deps.limits.errors && s.action !== 'close') {
      return {
        replies: [...s.replies, reply(421, '4.7.0', `${this.deps.hostname} Too many errors, closing connection`)],
        action: 'close',
      };
    }
    return s;
  }
}
