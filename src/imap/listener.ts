import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { ConnectionLimiter } from '../net/limits.js';
import type { TlsMaterial } from '../net/tls.js';
import { ImapConnection } from './connection.js';
import { type ImapDeps, ImapSession } from './session.js';

const ID_PREFIX = crypto.randomBytes(3).toString('hex');
let connectionSeq = 0;

export interface ImapListenerOptions {
  /** `imap` (STARTTLS) or `imaps` (implicit TLS). */
  role: 'imap' | 'imaps';
  address: string;
  port: number;
  deps: Omit<ImapDeps, 'tlsAvailable' | 'logger'>;
  tls: TlsMaterial | null;
  limiter: ConnectionLimiter;
  idleTimeout: number;
  commandSize: number;
  logger: Logger;
}

/** One IMAP or IMAPS listener and its connections. */
export class ImapListener {
  private readonly server: net.Server;
  private readonly connections = new Set<ImapConnection>();
  private draining = false;

  constructor(private readonly opts: ImapListenerOptions) {
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (err) => opts.logger.error({ err }, 'imap listener error'));
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

  /** Refuse new connections and end existing ones after their current command. */
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
    const log = this.opts.logger;
    socket.on('error', () => {});
    if (this.draining) {
      socket.end('* BYE Server shutting down.\r\n');
      return;
    }
    const slot = this.opts.limiter.acquire(ip);
    if (slot !== 'ok') {
      log.info({ client: ip, listener: this.opts.role, limit: slot }, 'connection refused');
      socket.end('* BYE [UNAVAILABLE] Too many connections.\r\n');
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    const id = `${ID_PREFIX}${(connectionSeq++).toString(36)}`;
    if (this.opts.role === 'imap') {
      this.open(socket, id, ip, false);
      return;
    }
    const ctx = this.opts.tls?.context;
    if (!ctx) {
      this.opts.limiter.release(ip);
      socket.destroy();
      return;
    }
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: ctx });
    let opened = false;
    const timer = setTimeout(() => secure.destroy(), 60_000);
    secure.on('error', (err) => log.debug({ client: ip, err: err.message }, 'TLS handshake failed'));
    secure.once('close', () => {
      clearTimeout(timer);
      if (!opened) this.opts.limiter.release(ip);
    });
    secure.once('secure', () => {
      clearTimeout(timer);
      opened = true;
      this.open(secure, id, ip, true);
    });
  }

  private open(socket: net.Socket, id: string, ip: string, secure: boolean): void {
    const log = this.opts.logger.child({ conn: id });
    const started = Date.now();
    const session = new ImapSession(
      { ...this.opts.deps, tlsAvailable: this.opts.tls !== null, logger: log },
      { id, remoteAddress: ip, tls: secure },
    );
    const conn = new ImapConnection(socket, session, {
      idleTimeout: this.opts.idleTimeout,
      commandSize: this.opts.commandSize,
      messageSize: this.opts.deps.messageSize,
      secureContext: this.opts.tls?.context ?? null,
      logger: log,
      onClose: (reason) => {
        this.connections.delete(conn);
        this.opts.limiter.release(ip);
        log.info(
          { client: ip, listener: this.opts.role, user: session.username, durationMs: Date.now() - started, reason },
          'connection closed',
        );
      },
    });
    this.connections.add(conn);
    conn.start();
    if (this.draining) conn.drain();
  }
}
