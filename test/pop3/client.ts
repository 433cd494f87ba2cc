import net from 'node:net';
import tls from 'node:tls';

/**
 * A bare-hands POP3 client for black-box tests: raw lines out, single-line responses and
 * multi-line bodies (undotted, exact bytes) in.
 */
export class RawPop3 {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private ended = false;

  private constructor(public socket: net.Socket) {
    this.listen(socket);
  }

  /** Connect to 127.0.0.1, with implicit TLS when asked (the test certificate is self-signed). */
  static async connect(port: number, opts: { tls?: boolean } = {}): Promise<RawPop3> {
    const raw = net.connect({ port, host: '127.0.0.1' });
    const socket = opts.tls ? tls.connect({ socket: raw, rejectUnauthorized: false }) : raw;
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
      raw.once('error', reject);
    });
    return new RawPop3(socket);
  }

  get closed(): boolean {
    return this.ended;
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next line (without CRLF). */
  async line(timeoutMs = 5000): Promise<string> {
    const b = await this.until(() => {
      const i = this.buffer.indexOf('\r\n');
      return i < 0 ? -1 : i + 2;
    }, timeoutMs);
    return b.subarray(0, -2).toString('utf8');
  }

  /** Send a command and read its one-line response. */
  async cmd(line: string): Promise<string> {
    this.send(line);
    return this.line();
  }

  /** The rest of a multi-line response up to the "." line, dot-unstuffed, as exact bytes. */
  async body(timeoutMs = 10_000): Promise<Buffer> {
    const b = await this.until(() => {
      if (this.buffer.subarray(0, 3).toString('latin1') === '.\r\n') return 3;
      const i = this.buffer.indexOf('\r\n.\r\n');
      return i < 0 ? -1 : i + 5;
    }, timeoutMs);
    const text = b.subarray(0, b.length === 3 ? 0 : -3).toString('latin1');
    return Buffer.from(text.replace(/(^|\r\n)\.\./g, '$1.'), 'latin1');
  }

  /** The lines of a multi-line response up to ".". */
  async lines(): Promise<string[]> {
    const text = (await this.body()).toString('utf8');
    return text === '' ? [] : text.replace(/\r\n$/, '').split('\r\n');
  }

  /** Upgrade after the server said +OK to STLS. */
  async startTls(): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.buffer = Buffer.alloc(0);
    this.socket = secure;
    this.listen(secure);
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    await this.until(() => (this.ended ? 0 : -1), timeoutMs).catch(() => {
      throw new Error('server did not close the connection');
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private listen(socket: net.Socket): void {
    socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
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

  /** Wait until `end()` finds a complete unit at the start of the buffer, then take it. */
  private async until(end: () => number, timeoutMs: number): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = end();
      if (n >= 0) {
        const out = this.buffer.subarray(0, n);
        this.buffer = this.buffer.subarray(n);
        return out;
      }
      if (this.ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer.toString())}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; have: ${JSON.stringify(this.buffer.toString())}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
