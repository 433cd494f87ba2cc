import net from 'node:net';
import tls from 'node:tls';

/** A parsed server reply. */
export interface ServerReply {
  code: number;
  lines: string[];
  /** The whole reply as received, CRLFs included. */
  raw: string;
}

/**
 * A bare-hands SMTP client for black-box tests: send raw bytes, read whole replies.
 * Nothing is hidden, so tests can send what a well-behaved client never would.
 */
export class RawSmtp {
  private buffer = '';
  private waiters: (() => void)[] = [];
  private ended = false;
  socket: net.Socket;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.listen(socket);
  }

  /** Connect (optionally with implicit TLS, optionally from a local address such as 127.0.0.2). */
  static async connect(
    port: number,
    opts: { tls?: boolean; host?: string; localAddress?: string } = {},
  ): Promise<RawSmtp> {
    const host = opts.host ?? '127.0.0.1';
    const raw = net.connect({ port, host, localAddress: opts.localAddress });
    const socket = opts.tls ? tls.connect({ socket: raw, rejectUnauthorized: false }) : raw;
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
      raw.once('error', reject);
    });
    return new RawSmtp(socket);
  }

  private listen(socket: net.Socket): void {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.notify();
    });
    socket.on('close', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('error', () => {});
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Whether the server closed the connection. */
  get closed(): boolean {
    return this.ended;
  }

  /** Write raw text or bytes. */
  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Write a command line (CRLF added). */
  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Read the next complete reply; rejects on timeout or when the server closed first. */
  async read(timeoutMs = 5000): Promise<ServerReply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.take();
      if (r) return r;
      if (this.ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a reply; have: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Send a command and read its reply. */
  async cmd(line: string): Promise<ServerReply> {
    this.send(line);
    return this.read();
  }

  /** Wait until the server closes the connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error('server did not close the connection');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Upgrade with STARTTLS after the server said 220 to it. */
  async startTls(): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.buffer = '';
    this.socket = secure;
    this.listen(secure);
  }

  /** Whatever arrived but was not read as a reply. */
  get pending(): string {
    return this.buffer;
  }

  close(): void {
    this.socket.destroy();
  }

  private take(): ServerReply | null {
    const lines: string[] = [];
    let pos = 0;
    for (;;) {
      const end = this.buffer.indexOf('\r\n', pos);
      if (end < 0) return null;
      const line = this.buffer.slice(pos, end);
      pos = end + 2;
      lines.push(line);
      if (line.length < 4 || line[3] !== '-') {
        const raw = this.buffer.slice(0, pos);
        this.buffer = this.buffer.slice(pos);
        return { code: Number(line.slice(0, 3)), lines: lines.map((l) => l.slice(4)), raw };
      }
    }
  }
}
