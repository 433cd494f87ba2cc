import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { ConnectionLimiter } from '../../net/limits.js';
import type { TlsMaterial } from '../../net/tls.js';
import { formatReply } from '../reply.js';
import { SmtpConnection } from './connection.js';
import { type ListenerRole, type SessionDeps, SmtpSession } from './session.js';

/** Connection ids for logs: a per-process prefix and a counter (cheaper than random bytes per connection). */
const ID_PREFIX = crypto.randomBytes(3).toString('hex');
let connectionSeq = 0;

export interface SmtpListenerOptions {
  role: ListenerRole;
  address: string;
  port: number;
  deps: Omit<SessionDeps, 'role' | 'tlsAvailable'>;
  tls: TlsMaterial | null;
  limiter: ConnectionLimiter;
  logger: Logger;
}

/** One SMTP, submission or submissions (implicit TLS) listener and its connections. */
export class SmtpListener {
  private readonly server: net.Server;
  private readonly connections = new Set<SmtpConnection>();
  private draining = false;

  constructor(private readonly opts: SmtpListenerOptions) {
    this.server = net.createServer({ pauseOnConnect: false, noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (err) => opts.logger.error({ err }, 'smtp listener error'));
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

  /** Connections open on this listener. */
  get open(): number {
    return this.connections.size;
  }

  /** Refuse new connections with 421 and close existing ones after their transaction. */
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
      socket.end(formatReply({ code: 421, enhanced: '4.3.2', lines: ['Service not available, closing channel'] }));
      return;
    }
    const slot = this.opts.limiter.acquire(ip, this.opts.role === 'smtp');
    if (slot !== 'ok') {
      const text =
        slot === 'total'
          ? 'Too many connections'
          : slot === 'rate'
            ? 'Too many connections from your address, try again later'
            : 'Too many connections from your address';
      log.info({ client: ip, listener: this.opts.role, limit: slot }, 'connection refused');
      socket.end(formatReply({ code: 421, enhanced: '4.7.0', lines: [text] }));
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    const id = `${ID_PREFIX}${(connectionSeq++).toString(36)}`;
    const started = Date.now();
    if (this.opts.role === 'submissions') {
      const ctx = this.opts.tls?.context;
      if (!ctx) {
        this.opts.limiter.release(ip);
        socket.destroy();
        return;
      }
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: ctx });
      const timer = setTimeout(() => secure.destroy(), this.opts.deps.limits.commandTimeout);
      secure.on('error', (err) => log.debug({ client: ip, err: err.message }, 'TLS handshake failed'));
      secure.once('close', () => clearTimeout(timer));
      let released = false;
      const release = () => {
        if (!released) this.opts.limiter.release(ip);
        released = true;
      };
      secure.once('close', release);
      secure.once('secure', () => {
        clearTimeout(timer);
        secure.removeListener('close', release);
        released = true;
        const cipher = secure.getCipher();
        this.openSession(secure, id, ip, started, {
          version: secure.getProtocol() ?? 'unknown',
          cipher: cipher?.name ?? '',
        });
      });
      return;
    }
    this.openSession(socket, id, ip, started, null);
  }

  private openSession(
    socket: net.Socket,
    id: string,
    ip: string,
    started: number,
    tlsInfo: { version: string; cipher: string } | null,
  ): void {
    const log = this.opts.logger;
    const session = new SmtpSession(
      { ...this.opts.deps, role: this.opts.role, tlsAvailable: this.opts.tls !== null },
      {
        id,
        remoteAddress: ip,
        remotePort: socket.remotePort ?? 0,
        localAddress: socket.localAddress ?? '',
        localPort: socket.localPort ?? 0,
        tls: tlsInfo,
      },
    );
    const conn = new SmtpConnection(socket, session, {
      limits: this.opts.deps.limits,
      secureContext: this.opts.tls?.context ?? null,
      greetDelay: this.opts.deps.smtp.greetDelay,
      logger: log.child({ conn: id }),
      onClose: ({ messages, reason }) => {
        this.connections.delete(conn);
        this.opts.limiter.release(ip);
        log.info(
          { conn: id, client: ip, listener: this.opts.role, messages, durationMs: Date.now() - started, reason },
          'connection closed',
        );
      },
    });
    this.connections.add(conn);
    if (this.draining) conn.drain();
    // Connect-time checks (blocklists, reverse DNS) decide the greeting; a failing check never blocks it.
    session.connect().then(
      () => conn.start(),
      (err) => {
        log.error({ err, conn: id }, 'connect checks failed');
        conn.start();
      },
    );
  }
}
