import net from 'node:net';
import type tls from 'node:tls';
import type { Reply } from '../reply.js';
import { authenticate } from './auth.js';
import { parseExtensions, positive, sizeLimit } from './commands.js';
import { Connection } from './connection.js';
import { SmtpClientError, TlsHandshakeError } from './errors.js';
import { transact } from './send.js';
import {
  type ClientTlsInfo,
  type Envelope,
  resolveTimeouts,
  type SendResult,
  type SmtpClientOptions,
  type Timeouts,
} from './types.js';

/** An outbound SMTP session: connect once, then send any number of transactions while `usable`. */
export class SmtpClient {
  /**
   * Set when opportunistic TLS failed its handshake and this session was reopened in plaintext (as Postfix
   * does): the reason, for the log. Null otherwise.
   */
  tlsFallback: string | null = null;
  private busy = false;
  private clean = true;

  private constructor(
    private readonly conn: Connection,
    private readonly timeouts: Timeouts,
    readonly greeting: Reply,
    private readonly ext: Map<string, string>,
    private readonly tlsInfo: ClientTlsInfo | null,
    /** False when the server refused EHLO and we fell back to HELO. */
    readonly esmtp: boolean,
  ) {}

  /** Greeting, EHLO (HELO on a 5xx), STARTTLS per `opts.tls` and EHLO again, then AUTH if configured. */
  static async connect(opts: SmtpClientOptions): Promise<SmtpClient> {
    if (/[\x00-\x20\x7f]/.test(opts.heloName) || opts.heloName === '') throw new TypeError('invalid heloName');
    try {
      return await SmtpClient.open(opts);
    } catch (err) {
      if (opts.tls !== 'opportunistic' || !(err instanceof TlsHandshakeError)) throw err;
      // A broken TLS stack on the far side must not stop mail that would have gone in plaintext anyway.
      const client = await SmtpClient.open({ ...opts, tls: 'none' });
      client.tlsFallback = err.message;
      return client;
    }
  }

  private static async open(opts: SmtpClientOptions): Promise<SmtpClient> {
    const t = resolveTimeouts(opts.timeouts);
    const conn = await Connection.open(opts, t.connect);
    try {
      // SMTP over TLS from the first byte (RFC 8314 port 465): the handshake comes before the greeting.
      const implicit = opts.tls === 'implicit' ? checked(await conn.startTls(tlsOptions(opts), t.connect), opts) : null;
      const greeting = await conn.read('greeting', t.greeting, 'greeting');
      if (greeting.code !== 220) {
        conn.write('QUIT\r\n', 1); // RFC 5321 3.1: a client receiving 554 should still say QUIT
        throw new SmtpClientError('greeting', 'server refused the session', greeting);
      }
      let { ext, esmtp } = await hello(conn, opts.heloName, t.command);
      let tlsInfo: ClientTlsInfo | null = implicit;
      if (implicit) {
        // Already encrypted: STARTTLS is neither needed nor allowed.
      } else if (opts.tls !== 'none' && ext.has('STARTTLS')) {
        conn.write('STARTTLS\r\n', 1);
        const r = await conn.read('starttls', t.command, 'reply to STARTTLS');
        if (r.code === 220) {
          tlsInfo = checked(await conn.startTls(tlsOptions(opts), t.command), opts);
          // RFC 3207 4.2: forget everything learnt before TLS.
          ({ ext, esmtp } = await hello(conn, opts.heloName, t.command));
        } else if (opts.tls === 'required') {
          throw new SmtpClientError('starttls', 'STARTTLS refused', r, true);
        }
      } else if (opts.tls === 'required') {
        throw new SmtpClientError('starttls', 'server does not offer STARTTLS', null, true);
      }
      if (opts.auth) await authenticate(conn, ext, opts.auth, tlsInfo !== null, t.command);
      return new SmtpClient(conn, t, greeting, ext, tlsInfo, esmtp);
    } catch (err) {
      conn.destroy();
      throw err;
    }
  }

  /** EHLO keywords (upper case) with their parameters; empty after a HELO fallback. */
  get extensions(): Map<string, string> {
    return this.ext;
  }

  get tls(): ClientTlsInfo | null {
    return this.tlsInfo;
  }

  /** The server's SIZE limit, if it declared one. */
  get maxSize(): number | null {
    return sizeLimit(this.ext);
  }

  /** Connected, idle, and not inside a transaction: ready for another send(). */
  get usable(): boolean {
    return this.conn.alive && !this.busy && this.clean;
  }

  /**
   * One transaction. Replies (including refusals the client makes up before sending) come back in the result;
   * it throws SmtpClientError only when the session itself failed, which leaves the client unusable.
   */
  async send(envelope: Envelope, message: Buffer): Promise<SendResult> {
    // Checked here so a caller's mistake does not cost the connection.
    if (envelope.recipients.length === 0) throw new RangeError('an envelope needs at least one recipient');
    return this.exclusive(async () => {
      const { result, clean } = await transact(this.conn, this.ext, this.timeouts, envelope, message);
      this.clean = clean;
      return result;
    });
  }

  /** RSET; the session stays usable only if the server agreed. */
  async rset(): Promise<Reply> {
    return this.exclusive(async () => {
      this.conn.write('RSET\r\n', 1);
      const r = await this.conn.read('mail', this.timeouts.command, 'reply to RSET');
      this.clean = positive(r);
      return r;
    });
  }

  /** QUIT politely (without waiting long for the answer), then close. */
  async quit(): Promise<void> {
    if (this.conn.alive && !this.busy) {
      this.conn.write('QUIT\r\n', 1);
      await this.conn.read('mail', this.timeouts.quit, 'reply to QUIT').catch(() => null);
    }
    this.conn.destroy();
  }

  /** Drop the connection without QUIT. */
  close(): void {
    this.conn.destroy();
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.busy) throw new Error('SmtpClient: another command is in progress');
    if (!this.usable) throw new SmtpClientError('mail', 'connection is not usable', null, true);
    this.busy = true;
    try {
      return await fn();
    } catch (err) {
      this.clean = false;
      this.conn.destroy();
      throw err;
    } finally {
      this.busy = false;
    }
  }
}

/** EHLO, falling back to HELO when the server rejects EHLO permanently (RFC 5321 3.2). */
async function hello(conn: Connection, name: string, timeout: number) {
  conn.write(`EHLO ${name}\r\n`, 1);
  const r = await conn.read('ehlo', timeout, 'reply to EHLO');
  if (positive(r)) return { ext: parseExtensions(r), esmtp: true };
  if (r.code < 500) throw new SmtpClientError('ehlo', 'EHLO failed', r);
  conn.write(`HELO ${name}\r\n`, 1);
  const h = await conn.read('ehlo', timeout, 'reply to HELO');
  if (!positive(h)) throw new SmtpClientError('ehlo', 'HELO failed', h);
  return { ext: new Map<string, string>(), esmtp: false };
}

function tlsOptions(opts: SmtpClientOptions): tls.ConnectionOptions {
  const o = opts.tlsOptions ?? {};
  return {
    // SNI must be a host name; node checks an IP-only session against the address we connected to.
    servername: opts.servername && net.isIP(opts.servername) === 0 ? opts.servername : undefined,
    ca: o.ca,
    minVersion: o.minVersion ?? 'TLSv1.2',
    // Opportunistic TLS is still better than plaintext with a certificate nobody can check; the result is recorded.
    // A verify hook replaces the CA check, so the handshake itself must not refuse what the hook would accept.
    rejectUnauthorized:
      (opts.tls === 'required' || opts.tls === 'implicit') && !o.verify ? (o.rejectUnauthorized ?? true) : false,
  };
}

/** The session's TLS details, after the caller's verify hook (if any) had its say. */
function checked(s: tls.TLSSocket, opts: SmtpClientOptions): ClientTlsInfo {
  const info = describe(s);
  const verify = opts.tlsOptions?.verify;
  if (!verify) return info;
  let why: string | null;
  try {
    why = verify(s.getPeerCertificate(true));
  } catch (err) {
    why = `certificate check failed: ${(err as Error).message}`;
  }
  if (why !== null && (opts.tls === 'required' || opts.tls === 'implicit')) {
    throw new TlsHandshakeError('starttls', `TLS peer not accepted: ${why}`, null, true);
  }
  return { ...info, verified: why === null };
}

function describe(s: tls.TLSSocket): ClientTlsInfo {
  const err = s.authorizationError as unknown;
  return {
    version: s.getProtocol() ?? 'unknown',
    cipher: s.getCipher()?.name ?? 'unknown',
    authorized: s.authorized,
    authorizationError: s.authorized ? null : err ? String(err) : null,
  };
}
