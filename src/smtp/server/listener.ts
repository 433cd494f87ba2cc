import type { Logger } from 'pino';
import type { ConnectionLimiter } from '../../net/limits.js';
import { type Accepted, type Refusal, TcpListener } from '../../net/listener.js';
import type { TlsMaterial } from '../../net/tls.js';
import { formatReply } from '../reply.js';
import { SmtpConnection } from './connection.js';
import { type ListenerRole, type SessionDeps, SmtpSession } from './session.js';

export interface SmtpListenerOptions {
  role: ListenerRole;
  address: string;
  port: number;
  deps: Omit<SessionDeps, 'role' | 'tlsAvailable'>;
  tls: TlsMaterial | null;
  limiter: ConnectionLimiter;
  logger: Logger;
}

const REFUSALS: Record<Refusal, string> = {
  draining: formatReply({ code: 421, enhanced: '4.3.2', lines: ['Service not available, closing channel'] }),
  total: formatReply({ code: 421, enhanced: '4.7.0', lines: ['Too many connections'] }),
  'per-ip': formatReply({ code: 421, enhanced: '4.7.0', lines: ['Too many connections from your address'] }),
  rate: formatReply({
    code: 421,
    enhanced: '4.7.0',
    lines: ['Too many connections from your address, try again later'],
  }),
};

/** One SMTP, submission or submissions (implicit TLS) listener and its connections. */
export class SmtpListener extends TcpListener<SmtpConnection> {
  constructor(private readonly opts: SmtpListenerOptions) {
    super({
      address: opts.address,
      port: opts.port,
      role: opts.role,
      implicitTls: opts.role === 'submissions',
      tls: opts.tls,
      limiter: opts.limiter,
      countRate: opts.role === 'smtp',
      handshakeTimeout: opts.deps.limits.commandTimeout,
      logger: opts.logger,
    });
  }

  protected refusal(reason: Refusal): string {
    return REFUSALS[reason];
  }

  protected open({ socket, id, ip, started, tls, closed }: Accepted): SmtpConnection {
    const log = this.opts.logger;
    const session = new SmtpSession(
      { ...this.opts.deps, role: this.opts.role, tlsAvailable: this.opts.tls !== null },
      {
        id,
        remoteAddress: ip,
        remotePort: socket.remotePort ?? 0,
        localAddress: socket.localAddress ?? '',
        localPort: socket.localPort ?? 0,
        tls,
      },
    );
    const conn = new SmtpConnection(socket, session, {
      limits: this.opts.deps.limits,
      secureContext: this.opts.tls?.context ?? null,
      greetDelay: this.opts.deps.smtp.greetDelay,
      logger: log.child({ conn: id }),
      onClose: ({ messages, reason }) => {
        closed();
        log.info(
          { conn: id, client: ip, listener: this.opts.role, messages, durationMs: Date.now() - started, reason },
          'connection closed',
        );
      },
    });
    // Connect-time checks (blocklists, reverse DNS) decide the greeting; a failing check never blocks it.
    session.connect().then(
      () => conn.start(),
      (err) => {
        log.error({ err, conn: id }, 'connect checks failed');
        conn.start();
      },
    );
    return conn;
  }
}
