import net from 'node:net';
import tls from 'node:tls';
import type { Reply } from '../reply.js';
import { type ClientStage, SmtpClientError, TlsHandshakeError } from './errors.js';
import { ReplyParser, ReplySyntaxError } from './reader.js';

type FailureKind = 'timeout' | 'closed' | 'protocol' | 'error';

/**
 * One TCP (later TLS) connection speaking SMTP: writes commands, hands out replies in order, and enforces
 * timeouts. Any failure is sticky: the socket is destroyed and every later read rejects.
 */
export class Connection {
  private socket: net.Socket;
  private readonly parser = new ReplyParser();
  private readonly replies: Reply[] = [];
  private wake: (() => void) | null = null;
  private failure: { kind: FailureKind; message: string } | null = null;
  /** Replies we are owed; anything beyond that (a 421 at idle, junk) poisons the connection. */
  private outstanding = 1; // the greeting

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  /** Open a TCP connection; rejects with a temporary SmtpClientError ('connect' or 'timeout'). */
  static open(opts: { host: string; port: number; localAddress?: string }, timeoutMs: number): Promise<Connection> {
    const where = `${opts.host}:${opts.port}`;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: opts.host, port: opts.port, localAddress: opts.localAddress });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SmtpClientError('timeout', `connect to ${where} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new SmtpClientError('connect', `connect to ${where} failed: ${err.message}`));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.setNoDelay(true);
        resolve(new Connection(socket));
      });
    });
  }

  get alive(): boolean {
    return this.failure === null && !this.socket.destroyed;
  }

  /** Write command text that will be answered by `replies` replies. */
  write(text: string, replies: number): void {
    if (!this.alive) return; // the next read reports why
    this.outstanding += replies;
    this.socket.write(text);
  }

  /**
   * Write a body (answered by `replies` replies), honouring back-pressure; each stall may last `timeoutMs`.
   * Never throws: a failure surfaces on the next read, after any reply the server sent before it hung up.
   */
  async writeBody(pieces: Buffer[], replies: number, timeoutMs: number): Promise<void> {
    if (!this.alive) return;
    // Counted first: a server may answer (and hang up) before it has read everything.
    this.outstanding += replies;
    // Pieces go out corked, so a body and its terminating "." cost one writev rather than a
    // write each; the cork is lifted whenever the socket wants to drain.
    let corked = false;
    try {
      for (const piece of pieces) {
        if (!this.alive) return;
        if (piece.length === 0) continue;
        if (!corked) {
          this.socket.cork();
          corked = true;
        }
        this.socket.write(piece);
        if (!this.socket.writableNeedDrain) continue;
        this.socket.uncork();
        corked = false;
        while (this.socket.writableNeedDrain && this.alive) {
          await this.waitEvent(timeoutMs, 'sending message data', 'drain');
        }
      }
    } finally {
      if (corked) this.socket.uncork();
    }
  }

  /** The next reply; rejects with SmtpClientError(stage, or 'timeout') when none comes. */
  async read(stage: ClientStage, timeoutMs: number, what: string): Promise<Reply> {
    for (;;) {
      const r = this.replies.shift();
      if (r) return r;
      if (this.failure) throw this.error(stage);
      await this.waitEvent(timeoutMs, `waiting for ${what}`);
    }
  }

  /** Switch to TLS after a 220 to STARTTLS; the handshake failing rejects with TlsHandshakeError. */
  async startTls(opts: tls.ConnectionOptions, timeoutMs: number): Promise<tls.TLSSocket> {
    if (this.parser.buffered > 0 || this.replies.length > 0) {
      // Anything sent before the handshake would be read as if it came over TLS (CVE-2011-0411 in reverse).
      this.fail('protocol', 'server sent data after its STARTTLS reply');
      throw this.error('starttls');
    }
    const plain = this.socket;
    this.detach(plain);
    plain.on('error', () => {}); // surfaces through the TLS socket
    const secure = tls.connect({ ...opts, socket: plain });
    secure.on('error', () => {});
    let onClose = () => {};
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new TlsHandshakeError('timeout', `TLS handshake timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
        const onError = (err: Error) => {
          clearTimeout(timer);
          reject(new TlsHandshakeError('starttls', `TLS handshake failed: ${err.message}`));
        };
        onClose = () => onError(new Error('connection closed'));
        secure.once('error', onError);
        secure.once('close', onClose);
        secure.once('secureConnect', () => {
          clearTimeout(timer);
          secure.off('error', onError);
          resolve();
        });
      });
    } catch (err) {
      this.failure = { kind: 'error', message: (err as Error).message };
      secure.destroy();
      plain.destroy();
      throw err;
    } finally {
      secure.off('close', onClose);
    }
    this.socket = secure;
    this.attach(secure);
    return secure;
  }

  /** Drop the connection at once. */
  destroy(): void {
    this.fail('closed', 'connection closed by client');
  }

  private readonly onData = (chunk: Buffer) => {
    let replies: Reply[];
    let error: string | null = null;
    try {
      replies = this.parser.push(chunk);
    } catch (err) {
      // Replies that were complete before the bad line still count.
      replies = err instanceof ReplySyntaxError ? err.replies : [];
      error = (err as Error).message;
    }
    for (const r of replies) {
      this.replies.push(r); // even unsolicited: a 421 explains why the server hung up
      if (this.outstanding-- <= 0) {
        error ??= `unexpected reply ${r.code} ${r.lines[0] ?? ''}`.trim();
        break;
      }
    }
    if (error !== null) this.fail('protocol', error);
    this.notify();
  };
  private readonly onClose = () => this.fail('closed', 'connection closed by server');
  private readonly onError = (err: Error) => this.fail('error', err.message);

  private attach(s: net.Socket): void {
    s.on('data', this.onData);
    s.on('close', this.onClose);
    s.on('error', this.onError);
  }

  private detach(s: net.Socket): void {
    s.off('data', this.onData);
    s.off('close', this.onClose);
    s.off('error', this.onError);
  }

  private fail(kind: FailureKind, message: string): void {
    this.failure ??= { kind, message };
    this.socket.destroy();
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Wait for any progress (a reply, a failure, or `event`), failing the connection after `timeoutMs`. */
  private waitEvent(timeoutMs: number, what: string, event?: 'drain'): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (event) this.socket.off(event, done);
        if (this.wake === done) this.wake = null;
        resolve();
      };
      const timer = setTimeout(() => this.fail('timeout', `timed out after ${timeoutMs} ms ${what}`), timeoutMs);
      if (event) this.socket.once(event, done);
      this.wake = done;
    });
  }

  private error(stage: ClientStage): SmtpClientError {
    const f = this.failure ?? { kind: 'closed', message: 'connection closed' };
    if (f.kind === 'timeout') return new SmtpClientError('timeout', f.message);
    return new SmtpClientError(stage, f.kind === 'protocol' ? `protocol error: ${f.message}` : f.message);
  }
}
