import type { Logger } from 'pino';
import type { ConnectionLimiter } from '../net/limits.js';
import { type Accepted, type Refusal, TcpListener } from '../net/listener.js';
import type { TlsMaterial } from '../net/tls.js';
import { ImapConnection } from './connection.js';
import { type ImapDeps, ImapSession } from './session.js';

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
export class ImapListener extends TcpListener<ImapConnection> {
  constructor(private readonly opts: ImapListenerOptions) {
    super({
      address: opts.address,
      port: opts.port,
      role: opts.role,
      implicitTls: opts.role === 'imaps',
      tls: opts.tls,
      limiter: opts.limiter,
      handshakeTimeout: 60_000,
      logger: opts.logger,
    });
  }

  protected refusal(reason: Refusal): string {
    return reason === 'draining' ? '* BYE Server shutting down.\r\n' : '* BYE [UNAVAILABLE] Too many connections.\r\n';
  }

  protected open({ socket, id, ip, started, tls, closed }: Accepted): ImapConnection {
    const secure = tls !== null;
    const log = this.opts.logger.child({ conn: id });
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
        closed();
        log.info(
          { client: ip, listener: this.opts.role, user: session.username, durationMs: Date.now() - started, reason },
          'connection closed',
        );
      },
    });
    conn.start();
    return conn;
  }
}
