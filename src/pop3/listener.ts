import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { MailboxService } from '../mailbox/index.js';
import type { ConnectionLimiter } from '../net/limits.js';
import type { TlsMaterial } from '../net/tls.js';
import type { Store } from '../store/index.js';
import { Pop3Auth, type Pop3AuthDeps } from './auth.js';
import { Pop3Connection } from './connection.js';
import type { MaildropLocks } from './locks.js';
import { Pop3Session } from './session.js';

const ID_PREFIX = crypto.randomBytes(3).toString('hex');
let connectionSeq = 0;

export interface Pop3ListenerOptions {
  /** `pop3`: plaintext with STLS; `pop3s`: implicit TLS (RFC 8314). */
  role: 'pop3' | 'pop3s';
  address: string;
  port: number;
  hostname: string;
  tls: TlsMaterial | null;
  limiter: ConnectionLimiter;
  store: Store;
  mailboxes: MailboxService;
  locks: MaildropLocks;
  auth: Pop3AuthDeps;
  pop3: { idleTimeout: number; lineLength: number; offerCramMd5: boolean };
  logger: Logger;
}

/** One POP3 or POP3S listener and its connections. */
export class Pop3Listener {
  private readonly server: net.Server;
  private readonly connections = new Set<Pop3Connection>();
  private draining = false;

  constructor(private readonly opts: Pop3ListenerOptions) {
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (err) => opts.logger.error({ err }, 'pop3 listener error'));
  }

  /** Start listening; resolves with the bound address (port 0 picks a free port). */
  listen(): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.address, () => {
        this.server.off('error', reject);
        const a = this.server.address() as net.AddressInfo;
        resolve({ address: a.address, port: a.port });
      });
    });
  }

  /** Refuse new connections and end open ones once their current command is done. */
  drain(): void {
    this.draining = true;
    for (const c of this.connections) c.drain();
  }

  /** Resolves when every connection has closed or `timeoutMs` passed (then they are cut). */
  async waitIdle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const c of this.connections) c.destroy();
  }

  /** Stop listening. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const ip = socket.remoteAddress ?? 'unknown';
    socket.on('error', () => {});
    const refuse = (text: string) => {
      if (this.opts.role === 'pop3') socket.end(`-ERR [SYS/TEMP] ${text}\r\n`);
      else socket.destroy();
    };
    if (this.draining) {
      refuse('Server shutting down');
      return;
    }
    const slot = this.opts.limiter.acquire(ip);
    if (slot !== 'ok') {
      this.opts.logger.info({ client: ip, listener: this.opts.role, limit: slot }, 'connection refused');
      refuse(slot === 'total' ? 'Too many connections' : 'Too many connections from your address');
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    const id = `${ID_PREFIX}${(connectionSeq++).toString(36)}`;
    if (this.opts.role === 'pop3') {
      this.openSession(socket, id, ip, false);
      return;
    }
    const ctx = this.opts.tls?.context;
    if (!ctx) {
      this.opts.limiter.release(ip);
      socket.destroy();
      return;
    }
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: ctx });
    let handed = false;
    const timer = setTimeout(() => secure.destroy(), this.opts.pop3.idleTimeout);
    secure.on('error', (err) => this.opts.logger.debug({ client: ip, err: err.message }, 'TLS handshake failed'));
    secure.once('close', () => {
      clearTimeout(timer);
      if (!handed) this.opts.limiter.release(ip);
    });
    secure.once('secure', () => {
      clearTimeout(timer);
      handed = true;
      this.openSession(secure, id, ip, true);
    });
  }

  private openSession(socket: net.Socket, id: string, ip: string, secure: boolean): void {
    const log = this.opts.logger;
    const started = Date.now();
    let session: Pop3Session | null = null;
    const auth = new Pop3Auth(this.opts.auth, () => ({ ip, secure: session?.isSecure ?? secure, conn: id }));
    session = new Pop3Session(
      {
        hostname: this.opts.hostname,
        store: this.opts.store,
        mailboxes: this.opts.mailboxes,
        locks: this.opts.locks,
        auth,
        mechanisms: this.opts.auth.mechanisms.filter((m) => m !== 'CRAM-MD5' || this.opts.pop3.offerCramMd5),
        tlsAvailable: this.opts.tls !== null && !secure,
      },
      { secure },
    );
    const conn = new Pop3Connection(socket, session, {
      lineLength: this.opts.pop3.lineLength,
      idleTimeout: this.opts.pop3.idleTimeout,
      secureContext: this.opts.tls?.context ?? null,
      mailboxes: this.opts.mailboxes,
      logger: log.child({ conn: id }),
      onClose: ({ user, reason }) => {
        this.connections.delete(conn);
        this.opts.limiter.release(ip);
        log.info(
          { conn: id, client: ip, listener: this.opts.role, user, durationMs: Date.now() - started, reason },
          'connection closed',
        );
      },
    });
    this.connections.add(conn);
    conn.start();
    if (this.draining) conn.drain();
  }
}
