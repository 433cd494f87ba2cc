import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { Out } from './encode.js';
import { type CommandParts, CommandReader, type ReaderEvent } from './reader.js';
import type { ImapSession, Step } from './session.js';

export interface ConnectionOptions {
  /** Close a connection that sends nothing for this long (RFC 9051 5.4: at least 30 minutes). */
  idleTimeout: number;
  /** Longest command text, octets. */
  commandSize: number;
  /** Largest APPEND literal. */
  messageSize: number;
  secureContext: tls.SecureContext | null;
  logger: Logger;
  onClose: (reason: string) => void;
}

/** Unanswered commands a client may queue before we stop reading from it. */
const MAX_QUEUED = 64;

/**
 * The socket edge of an IMAP session: bytes to commands (CommandReader), commands one at a
 * time through the session, responses (with streamed bodies) back, STARTTLS, IDLE and the
 * inactivity time-out.
 */
export class ImapConnection {
  private socket: net.Socket;
  private readonly reader: CommandReader;
  private readonly queue: ReaderEvent[] = [];
  private running = false;
  private mode: 'command' | 'auth' | 'idle' = 'command';
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private draining = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    socket: net.Socket,
    private readonly session: ImapSession,
    private readonly opts: ConnectionOptions,
  ) {
    this.socket = socket;
    this.reader = new CommandReader({ commandSize: opts.commandSize, appendSize: opts.messageSize });
  }

  /** Send the greeting and start reading. */
  start(): void {
    this.attach(this.socket);
    this.send([this.session.greeting()]);
    this.touch();
  }

  /** Finish the current command, then say BYE and close (server shutdown). */
  drain(): void {
    this.draining = true;
    if (!this.running) this.bye('Server shutting down.');
  }

  /** Cut the connection now. */
  destroy(): void {
    this.socket.destroy();
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.onClosed('closed by client'));
    socket.on('error', (err) => this.opts.logger.debug({ err: err.message }, 'IMAP socket error'));
  }

  private onData(chunk: Buffer): void {
    this.touch();
    for (const ev of this.reader.push(chunk)) {
      if (ev.type === 'continue') {
        this.send(['+ Ready for literal data\r\n']);
        continue;
      }
      this.queue.push(ev);
    }
    if (this.queue.length > MAX_QUEUED) this.socket.pause();
    void this.pump();
  }

  private touch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.bye('Disconnected for inactivity.'), this.opts.idleTimeout);
    this.timer.unref();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // Only silence counts as inactivity: no time-out while a command runs or its answer is sent.
    if (this.timer) clearTimeout(this.timer);
    try {
      while (this.queue.length > 0 && !this.closed) {
        const ev = this.queue.shift()!;
        if (this.queue.length <= MAX_QUEUED / 2) this.socket.resume();
        const step = await this.step(ev);
        await this.send(step.out);
        if (step.next) await this.after(step.next);
        if (this.draining && this.mode === 'command') this.bye('Server shutting down.');
      }
    } catch (err) {
      this.opts.logger.warn({ err }, 'IMAP connection failed');
      this.socket.destroy();
    } finally {
      this.running = false;
      if (!this.closed) this.touch();
    }
  }

  private async step(ev: ReaderEvent): Promise<Step> {
    if (ev.type === 'toobig') return { out: [`${ev.tag} NO [TOOBIG] Literal too large.\r\n`] };
    if (ev.type === 'toolong') return { out: [`${ev.tag} BAD Command line too long.\r\n`] };
    if (ev.type === 'continue') return { out: [] };
    if (this.mode === 'auth') {
      this.mode = 'command';
      return this.session.authResponse(lineOf(ev.parts));
    }
    if (this.mode === 'idle') {
      this.mode = 'command';
      return this.session.idleDone(lineOf(ev.parts));
    }
    return this.session.handle(ev.parts);
  }

  private async after(next: NonNullable<Step['next']>): Promise<void> {
    switch (next) {
      case 'auth':
        this.mode = 'auth';
        return;
      case 'idle':
        this.mode = 'idle';
        this.session.watch(() => {
          if (this.mode === 'idle') void this.send(this.session.updates());
        });
        return;
      case 'close':
        this.close('logout');
        return;
      case 'starttls':
        return this.startTls();
    }
  }

  private async startTls(): Promise<void> {
    const ctx = this.opts.secureContext;
    if (!ctx) return;
    // Whatever the client sent after STARTTLS in the clear must not be executed (RFC 3501 6.2.1).
    this.queue.length = 0;
    this.reader.reset();
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: ctx });
    this.socket = secure;
    this.attach(secure);
    await new Promise<void>((resolve) => {
      secure.once('secure', () => resolve());
      secure.once('close', () => resolve());
    });
    this.session.tlsStarted();
  }

  /** Write responses in order; bodies are piped from the store with backpressure. */
  private send(out: Out[]): Promise<void> {
    this.writing = this.writing
      .then(() => this.write(out))
      .catch(() => {
        this.socket.destroy();
      });
    return this.writing;
  }

  private async write(out: Out[]): Promise<void> {
    // Small pieces are gathered into larger writes: a FETCH of 10,000 messages is 40,000 strings.
    let batch: (string | Buffer)[] = [];
    let batchSize = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const data = Buffer.concat(batch.map((b) => (typeof b === 'string' ? Buffer.from(b, 'utf8') : b)));
      batch = [];
      batchSize = 0;
      if (!this.socket.write(data)) await this.drained();
    };
    for (const item of out) {
      if (this.closed) return;
      if (typeof item === 'string' || Buffer.isBuffer(item)) {
        batch.push(item);
        batchSize += item.length;
        if (batchSize >= 65_536) await flush();
        continue;
      }
      await flush();
      this.socket.write(`{${item.size}}\r\n`);
      let sent = 0;
      for await (const chunk of item.open()) {
        const buf = chunk as Buffer;
        sent += buf.length;
        if (!this.socket.write(buf)) await this.drained();
      }
      // A literal shorter than announced would turn the rest of the stream into garbage.
      if (sent !== item.size) throw new Error(`body stream ended at ${sent} of ${item.size} octets`);
    }
    if (!this.closed) await flush();
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  private bye(text: string): void {
    if (this.closed) return;
    void this.send([`* BYE ${text}\r\n`]).then(() => this.close(text));
  }

  private close(reason: string): void {
    if (this.closed) return;
    void this.writing.finally(() => this.socket.end());
    setTimeout(() => this.socket.destroy(), 2000).unref();
    this.onClosed(reason);
  }

  private onClosed(reason: string): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.closed) return;
    this.closed = true;
    this.session.logout();
    this.opts.onClose(reason);
  }
}

function lineOf(parts: CommandParts): string {
  return parts.map((p) => (typeof p === 'string' ? p : p.toString('utf8'))).join('');
}
