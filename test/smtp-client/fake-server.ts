import net from 'node:net';
import tls from 'node:tls';

/** A message as a fake server received it. */
export interface Received {
  mail: string;
  rcpts: string[];
  /** DATA: the bytes on the wire before the "." line (still dot-stuffed); BDAT: the chunks joined. */
  raw: Buffer;
  via: 'DATA' | 'BDAT';
}

/** The server side of one connection, driven by a test script. */
export class FakeSession {
  readonly commands: string[] = [];
  readonly messages: Received[] = [];
  /** A command arrived while bytes of a later one were already waiting: the client pipelined. */
  pipelined = false;
  closed = false;
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;

  constructor(public socket: net.Socket) {
    this.attach(socket);
  }

  /** Server side of STARTTLS, after the 220 was sent; resolves once the handshake is done. */
  async startTls(options: tls.TlsOptions): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secure = new tls.TLSSocket(this.socket, { ...options, isServer: true });
    this.buf = Buffer.alloc(0);
    this.socket = secure;
    this.attach(secure);
    await new Promise((resolve) => secure.once('secure', resolve));
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => {});
  }

  /** Write reply lines, each followed by CRLF. */
  reply(...lines: string[]): void {
    if (!this.socket.destroyed) this.socket.write(lines.map((l) => `${l}\r\n`).join(''));
  }

  /** The next line without its CRLF; null when the client hung up. */
  async line(): Promise<string | null> {
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i >= 0) {
        const line = this.buf.toString('utf8', 0, i);
        this.buf = this.buf.subarray(i + 2);
        return line;
      }
      if (this.closed) return null;
      await this.wait();
    }
  }

  /** The next command line, noting whether more was already queued behind it. */
  async command(): Promise<string | null> {
    const line = await this.line();
    if (line === null) return null;
    if (this.buf.length > 0) this.pipelined = true;
    this.commands.push(line);
    return line;
  }

  /** Exactly `n` bytes; null when the client hung up first. */
  async bytes(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) {
      if (this.closed) return null;
      await this.wait();
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** DATA content up to CRLF "." CRLF, as sent (stuffed), without the "." line; null on hang-up. */
  async dataBody(): Promise<Buffer | null> {
    for (;;) {
      const probe = Buffer.concat([Buffer.from('\r\n'), this.buf]);
      const i = probe.indexOf('\r\n.\r\n');
      if (i >= 0) {
        const body = probe.subarray(2, i + 2);
        this.buf = probe.subarray(i + 5);
        return body;
      }
      if (this.closed) return null;
      await this.wait();
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }
}

export interface FakeServer {
  port: number;
  sessions: FakeSession[];
  close(): Promise<void>;
}

/** Listen on 127.0.0.1 (random port) and run `script` for every connection. */
export async function fakeServer(script: (s: FakeSession, index: number) => Promise<void>): Promise<FakeServer> {
  const sessions: FakeSession[] = [];
  const server = net.createServer((socket) => {
    const s = new FakeSession(socket);
    sessions.push(s);
    script(s, sessions.length - 1)
      .catch(() => {})
      .finally(() => {
        if (!s.closed) s.socket.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sessions,
    close: () =>
      new Promise((resolve) => {
        for (const s of sessions) s.close();
        server.close(() => resolve());
      }),
  };
}

/** What a hook may answer: reply lines, 'CLOSE' (hang up), 'SILENT' (never answer), or undefined (default). */
export type HookResult = string[] | 'CLOSE' | 'SILENT' | undefined;

export interface EsmtpOptions {
  greeting?: string[];
  /** EHLO keywords; null makes EHLO fail with 500 (an old HELO-only server). */
  ehlo?: string[] | null;
  /** Called for every command (BDAT after its bytes were read) before the default answer. */
  on?: (cmd: string, s: FakeSession) => HookResult | Promise<HookResult>;
}

/** A small, permissive ESMTP server script; `on` overrides individual replies. */
export function esmtp(opts: EsmtpOptions = {}): (s: FakeSession) => Promise<void> {
  return async (s) => {
    s.reply(...(opts.greeting ?? ['220 fake.test ESMTP']));
    let tx: Received | null = null;
    for (;;) {
      const cmd = await s.command();
      if (cmd === null) return;
      const verb = (cmd.split(' ')[0] ?? '').toUpperCase();
      let chunk: Buffer | null = null;
      if (verb === 'BDAT') {
        const [, n] = cmd.split(' ');
        chunk = await s.bytes(Number(n));
        if (chunk === null) return;
      }
      const hooked = await opts.on?.(cmd, s);
      if (hooked === 'CLOSE') return s.close();
      if (hooked === 'SILENT') return new Promise<void>(() => {});
      const answer = hooked ?? defaults(verb, cmd, opts);
      if (verb === 'MAIL') tx = { mail: cmd, rcpts: [], raw: Buffer.alloc(0), via: 'DATA' };
      if (verb === 'RCPT' && tx && answer[0]?.startsWith('2')) tx.rcpts.push(cmd);
      if (verb === 'RSET') tx = null;
      if (verb === 'BDAT' && tx && chunk) {
        tx.via = 'BDAT';
        tx.raw = Buffer.concat([tx.raw, chunk]);
        if (/ LAST$/i.test(cmd)) {
          s.messages.push(tx);
          tx = null;
        }
      }
      s.reply(...answer);
      if (verb === 'QUIT') return s.close();
      if (verb === 'DATA' && answer[0]?.startsWith('354')) {
        const body = await s.dataBody();
        if (body === null) return;
        const end = await opts.on?.('.', s);
        if (end === 'CLOSE') return s.close();
        if (end === 'SILENT') return new Promise<void>(() => {});
        if (tx) s.messages.push({ ...tx, raw: body });
        tx = null;
        s.reply(...(end ?? ['250 2.0.0 Ok: queued']));
      }
    }
  };
}

function defaults(verb: string, cmd: string, opts: EsmtpOptions): string[] {
  switch (verb) {
    case 'EHLO': {
      if (opts.ehlo === null) return ['500 5.5.2 Command unrecognized'];
      const lines = ['fake.test', ...(opts.ehlo ?? ['PIPELINING', '8BITMIME', 'ENHANCEDSTATUSCODES'])];
      return lines.map((l, i) => `250${i === lines.length - 1 ? ' ' : '-'}${l}`);
    }
    case 'HELO':
      return ['250 fake.test'];
    case 'MAIL':
      return ['250 2.1.0 Ok'];
    case 'RCPT':
      return ['250 2.1.5 Ok'];
    case 'DATA':
      return ['354 End data with <CR><LF>.<CR><LF>'];
    case 'BDAT':
      return / LAST$/i.test(cmd) ? ['250 2.0.0 Ok: queued'] : ['250 2.0.0 Ok: chunk received'];
    case 'RSET':
    case 'NOOP':
      return ['250 2.0.0 Ok'];
    case 'QUIT':
      return ['221 2.0.0 Bye'];
    default:
      return ['500 5.5.2 Command unrecognized'];
  }
}
