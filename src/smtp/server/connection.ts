import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { Limits } from '../../config/index.js';
import { DataDecoder } from '../data.js';
import { formatReply, type Reply } from '../reply.js';
import { SIZE_EXCEEDED } from './message-body.js';
import type { SmtpSession, Step } from './session.js';

const EMPTY = Buffer.alloc(0);
/** Input buffered while a step is running beyond which the socket stops reading. */
const HIGH_WATER = 1024 * 1024;

export interface ConnectionOptions {
  limits: Limits;
  /** Context for STARTTLS; null when TLS is not available. */
  secureContext: tls.SecureContext | null;
  greetDelay: number;
  logger: Logger;
  /** Called once when the socket is gone. */
  onClose: (summary: { messages: number; reason: string }) => void;
}

/**
 * The socket edge of one SMTP session: splits input into command lines, DATA and BDAT chunks,
 * writes replies (batched for pipelining), runs STARTTLS and time-outs. All protocol decisions
 * are the session's.
 */
export class SmtpConnection {
  private buf: Buffer = EMPTY;
  private mode: 'greeting' | 'command' | 'data' | 'bdat' | 'tls' | 'closed' = 'greeting';
  private processing = false;
  /** Processing waits for the client to read replies (see pump); the idle timeout may end the wait. */
  private stalled = false;
  private decoder: DataDecoder | null = null;
  private bdat = { remaining: 0, size: 0, last: false, discard: false };
  private skippingLongLine = false;
  private out: string[] = [];
  private closeAfterTransaction = false;
  private closeReason = 'client quit';
  private messages = 0;

  constructor(
    private socket: net.Socket,
    private readonly session: SmtpSession,
    private readonly opts: ConnectionOptions,
  ) {
    this.attach(socket);
    socket.on('close', () => this.closed());
  }

  /** Send the greeting (after the pregreet wait, when configured). */
  start(): void {
    if (this.opts.greetDelay > 0) {
      // setImmediate: input that arrived while the event loop was busy is read (poll phase) before the
      // greeting decides, so an early talker is caught even when the timer fires late.
      const timer = setTimeout(() => setImmediate(() => this.greet()), this.opts.greetDelay);
      this.socket.once('close', () => clearTimeout(timer));
    } else {
      this.greet();
    }
  }

  /** Whether a message is being received right now. */
  get busy(): boolean {
    return this.processing || this.mode === 'data' || this.mode === 'bdat' || this.mode === 'tls';
  }

  /** Server shutdown: close now if idle, otherwise right after the current transaction. */
  drain(): void {
    if (this.mode === 'closed') return;
    if (!this.busy && !this.session.inTransaction) {
      this.send(shutdownReply);
      this.end('server shutdown');
    } else {
      this.closeAfterTransaction = true;
    }
  }

  /** Cut the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }

  private greet(): void {
    if (this.mode !== 'greeting') return;
    if (this.buf.length > 0) {
      // RFC 5321 4.3.1: the client must wait for the greeting; bots that don't are dropped.
      this.send({ code: 554, enhanced: '5.5.0', lines: ['Protocol error: talking before the greeting'] });
      this.end('early talker');
      return;
    }
    const greeting = this.session.greeting();
    if (greeting.code !== 220) {
      // Refused at connect (a blocklist, reverse DNS): RFC 5321 3.1 allows a 554 greeting, then QUIT.
      this.send(greeting);
      this.end('refused at connect');
      return;
    }
    this.mode = 'command';
    this.setIdleTimer();
    this.send(greeting);
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.opts.logger.debug({ err }, 'smtp socket error');
    });
    socket.on('timeout', () => {
      if (this.mode === 'closed') return;
      if (this.stalled) {
        // Idle while waiting for the client to read its replies: it would not read a 421 either.
        this.end('timeout: client does not read replies');
        this.socket.destroy();
        return;
      }
      if (this.processing) return;
      this.apply(this.session.timeout(), 'timeout');
    });
  }

  private onData(chunk: Buffer): void {
    if (this.mode === 'closed' || this.mode === 'tls') return;
    if (this.mode === 'greeting') {
      // An early talker: greet() only needs to know that something arrived. Buffering it all would let a
      // flood during greetDelay grow memory without bound (and each concat copies everything so far).
      if (this.buf.length === 0) this.buf = Buffer.from(chunk.subarray(0, 1));
      this.socket.pause();
      return;
    }
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.processing) {
      // Back-pressure only when input piles up: pausing on every command costs two syscalls.
      if (this.buf.length > HIGH_WATER && !this.socket.isPaused()) this.socket.pause();
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.buf.length > 0 && this.isOpen()) {
        if (this.out.length >= 64) this.flush();
        if (this.socket.writableLength > HIGH_WATER) {
          // The client sends commands but does not read the replies. Stop taking input until it does, or the
          // queued replies would grow without bound; the idle timeout still ends a client that never reads.
          await this.drained();
          continue;
        }
        if (this.mode === 'command') {
          if (!(await this.commandStep())) break;
        } else if (this.mode === 'data') {
          await this.dataStep();
        } else if (this.mode === 'bdat') {
          await this.bdatStep();
        } else {
          break;
        }
      }
      this.flush();
    } catch (err) {
      this.opts.logger.error({ err }, 'smtp connection failed');
      this.send({ code: 421, enhanced: '4.3.0', lines: ['Local error in processing, closing connection'] });
      this.end('internal error');
    } finally {
      this.processing = false;
      if (this.isOpen() && this.socket.isPaused()) this.socket.resume();
    }
  }

  /** Wait until the replies written so far have gone out (or the socket closed). */
  private drained(): Promise<void> {
    this.stalled = true;
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        this.stalled = false;
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  /** Handle one command line; false when more input is needed. */
  private async commandStep(): Promise<boolean> {
    const lf = this.buf.indexOf(0x0a);
    const max = this.opts.limits.commandLength;
    if (lf < 0) {
      if (this.skippingLongLine) {
        this.buf = EMPTY;
      } else if (this.buf.length > max) {
        // Memory stays bounded: the rest of the line is dropped as it arrives.
        this.skippingLongLine = true;
        this.buf = EMPTY;
        this.apply(this.session.lineTooLong());
      }
      return false;
    }
    const raw = this.buf.subarray(0, lf);
    this.buf = this.buf.subarray(lf + 1);
    if (this.skippingLongLine) {
      this.skippingLongLine = false;
      return true;
    }
    if (raw.length + 1 > max) {
      this.apply(this.session.lineTooLong());
      return true;
    }
    const text = (raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, -1) : raw).toString('utf8');
    const step = await this.session.handleLine(text);
    await this.applyAsync(step);
    return true;
  }

  private async dataStep(): Promise<void> {
    const decoder = this.decoder as DataDecoder;
    const input = this.buf;
    this.buf = EMPTY;
    const result = decoder.push(input);
    for (const chunk of result.chunks) await this.session.dataChunk(chunk);
    if (decoder.lineTooLong) {
      this.apply(await this.session.dataLineTooLong(), 'data line too long');
      return;
    }
    if (!result.done && decoder.overSize && decoder.size > 2 * this.opts.limits.messageSize) {
      // Reading on only to find the end is pointless this far past the limit.
      this.apply({ replies: [SIZE_EXCEEDED], action: 'close' }, 'message too large');
      return;
    }
    if (result.done) {
      this.buf = result.rest ?? EMPTY;
      this.mode = 'command';
      this.decoder = null;
      this.setIdleTimer();
      const step = await this.session.endData(decoder);
      if (step.replies.some((r) => r.code === 250)) this.messages++;
      await this.applyAsync(step);
      this.afterTransaction();
    }
  }

  private async bdatStep(): Promise<void> {
    const n = Math.min(this.bdat.remaining, this.buf.length);
    const chunk = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.bdat.remaining -= n;
    if (!this.bdat.discard && n > 0) await this.session.bdatChunk(chunk);
    if (this.bdat.remaining === 0) await this.bdatDone();
  }

  private async bdatDone(): Promise<void> {
    this.mode = 'command';
    this.setIdleTimer();
    const step = this.bdat.discard
      ? this.session.refusedBdat()
      : await this.session.endBdat(this.bdat.last, this.bdat.size);
    if (this.bdat.last && step.replies.some((r) => r.code === 250)) this.messages++;
    await this.applyAsync(step);
    if (this.bdat.last || this.bdat.discard) this.afterTransaction();
  }

  private afterTransaction(): void {
    if (this.closeAfterTransaction && this.isOpen() && !this.session.inTransaction) {
      this.send(shutdownReply);
      this.end('server shutdown');
    }
  }

  private async applyAsync(step: Step): Promise<void> {
    this.apply(step);
    if (step.action === 'starttls') await this.startTls();
    else if (step.action === 'bdat' && this.bdat.remaining === 0) await this.bdatDone();
  }

  private apply(step: Step, reason?: string): void {
    for (const r of step.replies) this.send(r, false);
    if (step.discardPipelined) this.buf = EMPTY;
    switch (step.action) {
      case 'close':
        this.end(reason ?? (step.replies[0]?.code === 221 ? 'client quit' : 'closed by server'));
        break;
      case 'data':
        this.decoder = new DataDecoder(this.session.dataOptions());
        this.mode = 'data';
        this.setDataTimer();
        this.flush();
        break;
      case 'bdat': {
        const b = step.bdat ?? { size: 0, last: true, discard: true };
        this.bdat = { remaining: b.size, size: b.size, last: b.last, discard: b.discard };
        this.mode = 'bdat';
        this.setDataTimer();
        break;
      }
      case 'starttls':
        this.flush();
        this.mode = 'tls';
        break;
      default:
        break;
    }
  }

  private async startTls(): Promise<void> {
    const ctx = this.opts.secureContext;
    if (!ctx) return;
    // RFC 3207 section 4.2: anything the client sent after STARTTLS in the clear is dropped.
    this.buf = EMPTY;
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('timeout');
    raw.removeAllListeners('error');
    raw.on('error', () => {});
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: ctx });
    this.socket = secure;
    await new Promise<void>((resolve) => {
      const handshakeTimer = setTimeout(() => {
        this.end('tls handshake timeout');
        secure.destroy();
        resolve();
      }, this.opts.limits.commandTimeout);
      secure.once('secure', () => {
        clearTimeout(handshakeTimer);
        this.attach(secure);
        const cipher = secure.getCipher();
        this.session.tlsStarted({ version: secure.getProtocol() ?? 'unknown', cipher: cipher?.name ?? 'unknown' });
        this.mode = 'command';
        this.setIdleTimer();
        resolve();
      });
      secure.once('error', (err) => {
        clearTimeout(handshakeTimer);
        // A failed handshake cannot fall back to plaintext: nothing more is read.
        this.opts.logger.info({ err: err.message }, 'TLS handshake failed');
        this.end('tls handshake failed');
        resolve();
      });
    });
  }

  private send(r: Reply, flush = true): void {
    if (this.mode === 'closed') return;
    this.out.push(formatReply(r));
    if (flush) this.flush();
  }

  private flush(): void {
    if (this.out.length === 0 || this.mode === 'closed') return;
    const text = this.out.join('');
    this.out = [];
    this.socket.write(text);
  }

  private end(reason: string): void {
    if (this.mode === 'closed') return;
    this.flush();
    this.closeReason = reason;
    this.mode = 'closed';
    this.buf = EMPTY;
    this.socket.end();
    // Lingering close: keep reading (and dropping, see onData) what the client is still sending. A paused
    // socket would leave a client that is mid-way through a body blocked on its write until the destroy
    // below resets the connection, so it would never read the final reply (e.g. 552) we just sent.
    this.socket.resume();
    // A client that never reads must not hold the socket open forever.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  private isOpen(): boolean {
    return this.mode !== 'closed';
  }

  private setIdleTimer(): void {
    this.socket.setTimeout(this.opts.limits.commandTimeout);
  }

  private setDataTimer(): void {
    this.socket.setTimeout(this.opts.limits.dataTimeout);
  }

  private closed(): void {
    const wasOpen = this.mode !== 'closed';
    this.mode = 'closed';
    void this.session.close();
    this.opts.onClose({ messages: this.messages, reason: wasOpen ? 'client disconnected' : this.closeReason });
  }
}

const shutdownReply: Reply = { code: 421, enhanced: '4.3.2', lines: ['Service shutting down, closing channel'] };
