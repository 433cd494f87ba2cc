import type { Logger } from 'pino';
import type { MailboxService } from '../mailbox/index.js';
import type { ConnectionLimiter } from '../net/limits.js';
import { type Accepted, type Refusal, TcpListener } from '../net/listener.js';
import type { TlsMaterial } from '../net/tls.js';
import type { Store } from '../store/index.js';
import { Pop3Auth, type Pop3AuthDeps } from './auth.js';
import { Pop3Connection } from './connection.js';
import type { MaildropLocks } from './locks.js';
import { Pop3Session } from './session.js';

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
export class Pop3Listener extends TcpListener<Pop3Connection> {
  constructor(private readonly opts: Pop3ListenerOptions) {
    super({
      address: opts.address,
      port: opts.port,
      role: opts.role,
      implicitTls: opts.role === 'pop3s',
      tls: opts.tls,
      limiter: opts.limiter,
      handshakeTimeout: opts.pop3.idleTimeout,
      logger: opts.logger,
    });
  }

  protected refusal(reason: Refusal): string {
    if (reason === 'draining') return '-ERR [SYS/TEMP] Server shutting down\r\n';
    return reason === 'total'
      ? '-ERR [SYS/TEMP] Too many connections\r\n'
      : '-ERR [SYS/TEMP] Too many connections from your address\r\n';
  }

  protected open({ socket, id, ip, started, tls, closed }: Accepted): Pop3Connection {
    const log = this.opts.logger;
    const secure = tls !== null;
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
        closed();
        log.info(
          { conn: id, client: ip, listener: this.opts.role, user, durationMs: Date.now() - started, reason },
          'connection closed',
        );
      },
    });
    conn.start();
    return conn;
  }
}
