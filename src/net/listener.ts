import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { ConnectionLimiter } from './limits.js';
import type { TlsMaterial } from './tls.js';

/** Connection ids for logs: a per-process prefix and a counter (cheaper than random bytes per connection). */
const ID_PREFIX = crypto.randomBytes(3).toString('hex');
let connectionSeq = 0;

/** What a listener keeps of each open connection: enough to drain and cut it. */
export interface OpenConnection {
  drain(): void;
  destroy(): void;
}

/** Why a new connection is turned away before its protocol starts. */
export type Refusal = 'draining' | 'total' | 'per-ip' | 'rate';

/** The TLS facts a protocol session records about its connection. */
export interface TlsFacts {
  version: string;
  cipher: string;
}

/** A new connection as the protocol sees it, once any implicit TLS handshake is done. */
export interface Accepted {
  socket: net.Socket;
  id: string;
  ip: string;
  /** When the TCP connection was accepted (epoch ms). */
  started: number;
  /** Set when the connection began with implicit TLS. */
  tls: TlsFacts | null;
  /** Call once when the connection ends: frees its slot and forgets it. */
  closed(): void;
}

export interface TcpListenerOptions {
  address: string;
  port: number;
  /** The listener's protocol name, for logs (smtp, submissions, imap, pop3s...). */
  role: string;
  /** Implicit TLS (RFC 8314): the handshake comes before the protocol's first byte. */
  implicitTls: boolean;
  tls: TlsMaterial | null;
  limiter: ConnectionLimiter;
  /** Count this listener's connections in the per-IP connection rate (the MTA port only). */
  countRate?: boolean;
  /** How long an implicit-TLS handshake may take. */
  handshakeTimeout: number;
  logger: Logger;
}

/**
 * The TCP edge every protocol shares: bind, per-IP and total connection limits, implicit TLS, drain on
 * shutdown. A protocol says how it refuses a connection and how it opens a session on an accepted one.
 */
export abstract class TcpListener<C extends OpenConnection> {
  private readonly server: net.Server;
  protected readonly connections = new Set<C>();
  protected draining = false;

  constructor(protected readonly base: TcpListenerOptions) {
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (err) => base.logger.error({ err }, `${base.role} listener error`));
  }

  /** The protocol's words for a refused connection; null closes without a word (implicit TLS). */
  protected abstract refusal(reason: Refusal): string | null;

  /** Start the protocol on an accepted connection; returns what drain and shutdown act on. */
  protected abstract open(conn: Accepted): C;

  /** Start listening; resolves with the bound address (port 0 picks a free port). */
  listen(): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.base.port, this.base.address, () => {
        this.server.off('error', reject);
        const a = this.server.address() as net.AddressInfo;
        resolve({ address: a.address, port: a.port });
      });
    });
  }

  /** Connections open on this listener. */
  get openConnections(): number {
    return this.connections.size;
  }

  /** Refuse new connections and end open ones once their current command or transaction is done. */
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

  private refuse(socket: net.Socket, reason: Refusal): void {
    const words = this.base.implicitTls ? null : this.refusal(reason);
    if (words === null) socket.destroy();
    else socket.end(words);
  }

  private accept(socket: net.Socket): void {
    const ip = socket.remoteAddress ?? 'unknown';
    const { limiter, logger: log } = this.base;
    socket.on('error', () => {});
    if (this.draining) {
      this.refuse(socket, 'draining');
      return;
    }
    const slot = limiter.acquire(ip, this.base.countRate ?? false);
    if (slot !== 'ok') {
      log.info({ client: ip, listener: this.base.role, limit: slot }, 'connection refused');
      this.refuse(socket, slot);
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    const id = `${ID_PREFIX}${(connectionSeq++).toString(36)}`;
    const started = Date.now();
    if (!this.base.implicitTls) {
      this.start({ socket, id, ip, started, tls: null });
      return;
    }
    const ctx = this.base.tls?.context;
    if (!ctx) {
      limiter.release(ip);
      socket.destroy();
      return;
    }
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: ctx });
    let handed = false;
    const timer = setTimeout(() => secure.destroy(), this.base.handshakeTimeout);
    secure.on('error', (err) => log.debug({ client: ip, err: err.message }, 'TLS handshake failed'));
    secure.once('close', () => {
      clearTimeout(timer);
      if (!handed) limiter.release(ip);
    });
    secure.once('secure', () => {
      clearTimeout(timer);
      handed = true;
      const cipher = secure.getCipher();
      this.start({
        socket: secure,
        id,
        ip,
        started,
        tls: { version: secure.getProtocol() ?? 'unknown', cipher: cipher?.name ?? '' },
      });
    });
  }

  private start(a: Omit<Accepted, 'closed'>): void {
    let conn: C | null = null;
    let done = false;
    const closed = () => {
      if (done) return;
      done = true;
      if (conn) this.connections.delete(conn);
      this.base.limiter.release(a.ip);
    };
    conn = this.open({ ...a, closed });
    if (!done) this.connections.add(conn);
    if (this.draining) conn.drain();
  }
}
