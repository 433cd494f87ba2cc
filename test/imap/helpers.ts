import net from 'node:net';
import tls from 'node:tls';
import { makeCredentials } from '../../src/auth/index.js';
import type { ConfigInput } from '../../src/config/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

export const PASSWORD = 'correct horse battery';

/** A test server with SMTP, IMAP and IMAPS listeners and users alice@ and bob@example.test. */
export async function startImapServer(overrides: Partial<ConfigInput> = {}): Promise<TestServer> {
  const t = await startTestServer({
    listeners: [
      { protocol: 'smtp', address: '127.0.0.1', port: 0 },
      { protocol: 'imap', address: '127.0.0.1', port: 0 },
      { protocol: 'imaps', address: '127.0.0.1', port: 0 },
    ],
    relay: { networks: ['127.0.0.0/8'] },
    imap: { plaintextOnLoopback: true },
    auth: { failures: { delay: 10, maxDelay: 50, ipLockAfter: 1000, userLockAfter: 1000 } },
    ...overrides,
  });
  const { store } = t.server.resources;
  for (const u of ['alice@example.test', 'bob@example.test']) {
    const c = await makeCredentials(PASSWORD);
    await store.addUser(u, c.passwordHash, { scram: c.scram });
  }
  return t;
}

/** Port of the server's imap or imaps listener. */
export function imapPort(t: TestServer, protocol: 'imap' | 'imaps' = 'imap'): number {
  const l = t.server.listeners.find((x) => x.protocol === protocol);
  if (!l) throw new Error(`no ${protocol} listener`);
  return l.port;
}

/** A raw IMAP client over a real socket: send lines, read responses up to a tagged one. */
export class RawImap {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private seq = 0;
  closed = false;

  private constructor(public socket: net.Socket) {
    this.listen(socket);
  }

  private listen(socket: net.Socket): void {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Connect and read the greeting. */
  static async connect(port: number, opts: { tls?: boolean } = {}): Promise<{ c: RawImap; greeting: string }> {
    const socket = opts.tls
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
      : net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const c = new RawImap(socket);
    return { c, greeting: await c.line() };
  }

  /** Upgrade to TLS (after a STARTTLS OK). */
  async startTls(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  private async waitData(): Promise<void> {
    if (this.closed) throw new Error(`connection closed; unread: ${this.buf.toString()}`);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out; unread: ${this.buf.toString()}`)), 30_000);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** One response line (without CRLF); literals inside it are included with their bytes. */
  async line(): Promise<string> {
    let out = '';
    for (;;) {
      const lf = this.buf.indexOf('\r\n');
      if (lf === -1) {
        await this.waitData();
        continue;
      }
      const text = this.buf.subarray(0, lf).toString('utf8');
      const m = /\{(\d+)\}$/.exec(text);
      if (m) {
        const need = lf + 2 + Number(m[1]);
        while (this.buf.length < need) await this.waitData();
        out += this.buf.subarray(0, need).toString('utf8');
        this.buf = this.buf.subarray(need);
        continue;
      }
      this.buf = this.buf.subarray(lf + 2);
      return out + text;
    }
  }

  /** Send `TAG command` and collect lines up to the tagged reply (the last element). */
  async cmd(command: string): Promise<string[]> {
    const tag = `t${++this.seq}`;
    this.write(`${tag} ${command}\r\n`);
    return this.until(tag);
  }

  /** Read lines until one starts with `tag `. */
  async until(tag: string): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const l = await this.line();
      lines.push(l);
      if (l.startsWith(`${tag} `)) return lines;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Log in as a user over an open connection. */
export async function login(c: RawImap, user = 'alice@example.test'): Promise<void> {
  const r = await c.cmd(`LOGIN ${user} "${PASSWORD}"`);
  if (!r.at(-1)?.includes('OK')) throw new Error(`login failed: ${r.join('\n')}`);
}
