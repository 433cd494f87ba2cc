import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { MailboxService } from '../mailbox/index.js';
import { dotStuff } from './dot-stuff.js';
import type { Pop3Output, Pop3Session } from './session.js';

const EMPTY = Buffer.alloc(0);

export interface Pop3ConnectionOptions {
  /** Longest command line in octets, CRLF included. */
  lineLength: number;
  idleTimeout: number;
  /** Context for STLS; null when TLS is not available. */
  secureContext: tls.SecureContext | null;
  mailboxes: MailboxService;
  logger: Logger;
  /** Called once when the socket is gone. */
  onClose: (summary: { user: string | null; reason: string }) => void;
}

/**
 * The socket edge of one POP3 session: splits input into lines, writes responses, streams
 * message bodies dot-stuffed with back-pressure, runs STLS and the idle time-out. Every protocol
 * decision is the session's.
 */
export class Pop3Connection {
  private buf: Buffer = EMPTY;
  private mode: 'command' | 'tls' | 'closed' = 'command';
  private processing = false;
  private draining = false;
  /** Waiting for the client to read what was written (a large RETR). */
  private stalled = false;
  private closeReason = 'client quit';
  private lastUser: string | null = null;

  constructor(
    private socket: net.Socket,
    private readonly session: Pop3Session,
    private readonly opts: Pop3ConnectionOptions,
  ) {
    this.attach(socket);
    socket.on('close', () => this.closed());
  }

  /** Send the greeting and start the idle clock. */
  start(): void {
    this.socket.setTimeout(this.opts.idleTimeout);
    this.write(this.session.greeting().lines);
  }

  /** Server shutdown: end now when idle, otherwise after the command in progress. */
  drain(): void {
    this.draining = true;
    if (!this.processing && this.mode === 'command') this.apply(this.session.shutdown(), 'server shutdown');
  }

  /** Cut the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.opts.logger.debug({ err: err.message }, 'pop3 socket error'));
    socket.on('timeout', () => {
      if (this.mode !== 'command') return;
      if (this.stalled) {
        // Stuck writing to a client that does not read: it would not read a goodbye either.
        this.socket.destroy();
        return;
      }
      // A slow command (a password check under load) is not the client being idle.
      if (this.processing) return;
      this.apply(this.session.timeout(), 'timeout');
    });
  }

  private onData(chunk: Buffer): void {
    if (this.mode !== 'command') return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.processing) {
      if (this.buf.length > this.opts.lineLength * 4 && !this.socket.isPaused()) this.socket.pause();
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.mode === 'command') {
        const line = this.nextLine();
        if (line === null) break;
        this.lastUser = this.session.user ?? this.lastUser;
        const out = await this.session.handleLine(line);
        await this.output(out);
        this.lastUser = this.session.user ?? this.lastUser;
        if (this.draining && this.mode === 'command') this.apply(this.session.shutdown(), 'server shutdown');
      }
    } catch (err) {
      this.opts.logger.error({ err }, 'pop3 session failed');
      this.session.close();
      this.write(['-ERR [SYS/TEMP] Local error in processing, closing connection']);
      this.end('internal error');
    } finally {
      this.processing = false;
      if (this.mode === 'command' && this.socket.isPaused()) this.socket.resume();
    }
  }

  /** The next complete line, or null when more input is needed; an over-long line ends the session. */
  private nextLine(): string | null {
    const lf = this.buf.indexOf(0x0a);
    const max = this.opts.lineLength;
    if (lf < 0) {
      if (this.buf.length >= max) this.apply(this.session.lineTooLong(), 'line too long');
      return null;
    }
    if (lf + 1 > max) {
      this.apply(this.session.lineTooLong(), 'line too long');
      return null;
    }
    const raw = this.buf.subarray(0, lf);
    this.buf = this.buf.subarray(lf + 1);
    return (raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, -1) : raw).toString('utf8');
  }

  private async output(out: Pop3Output): Promise<void> {
    this.write(out.lines);
    if (out.body) await this.sendBody(out.body.message, out.body.bodyLines);
    if (out.action === 'starttls') await this.startTls();
    else if (out.action === 'close') this.end(this.closeReason);
  }

  private apply(out: Pop3Output, reason: string): void {
    this.write(out.lines);
    if (out.action === 'close') this.end(reason);
  }

  private async sendBody(message: { blobRef: string }, bodyLines?: number): Promise<void> {
    const source = this.opts.mailboxes.openBody(message) as NodeJS.ReadableStream & AsyncIterable<Buffer>;
    const parts = dotStuff(source, bodyLines === undefined ? {} : { bodyLines });
    try {
      for await (const part of parts) {
        if (this.mode === 'closed') return;
        if (!this.socket.write(part)) await this.drained();
      }
    } catch (err) {
      // The +OK is out: the only honest way to report a broken body is to drop the connection.
      this.opts.logger.error({ err, blobRef: message.blobRef }, 'pop3 message body could not be read');
      this.session.close();
      this.end('body read failed');
      this.socket.destroy();
      return;
    } finally {
      (source as unknown as { destroy?: () => void }).destroy?.();
    }
    this.write(['.']);
  }

  private drained(): Promise<void> {
    this.stalled = true;
    return new Promise((resolve) => {
      const done = () => {
        this.stalled = false;
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  private async startTls(): Promise<void> {
    const ctx = this.opts.secureContext;
    if (!ctx) return;
    // RFC 2595 4: anything sent in the clear after STLS is dropped, not carried over.
    this.buf = EMPTY;
    this.mode = 'tls';
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('timeout');
    raw.removeAllListeners('error');
    raw.on('error', () => {});
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: ctx });
    this.socket = secure;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.end('tls handshake timeout');
        secure.destroy();
        resolve();
      }, this.opts.idleTimeout);
      secure.once('secure', () => {
        clearTimeout(timer);
        this.attach(secure);
        this.session.tlsStarted();
        this.mode = 'command';
        secure.setTimeout(this.opts.idleTimeout);
        resolve();
      });
      secure.once('error', (e) => {
        clearTimeout(timer);
        this.opts.logger.info({ err: e.message }, 'TLS handshake failed');
        this.end('tls handshake failed');
        resolve();
      });
    });
  }

  private write(lines: string[]): void {
    if (lines.length === 0 || this.mode === 'closed') return;
    this.socket.write(`${lines.join('\r\n')}\r\n`);
  }

  private end(reason: string): void {
    if (this.mode === 'closed') return;
    this.closeReason = reason;
    this.mode = 'closed';
    this.buf = EMPTY;
    this.socket.end();
    // A client that never reads must not hold the socket open forever.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  private closed(): void {
    const wasOpen = this.mode !== 'closed';
    this.mode = 'closed';
    this.session.close();
    this.opts.onClose({ user: this.lastUser, reason: wasOpen ? 'client disconnected' : this.closeReason });
  }
}
