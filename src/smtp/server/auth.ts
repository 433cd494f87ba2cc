import net from 'node:net';
import type { Logger } from 'pino';
import type { SaslMechanism, SaslStep } from '../../auth/index.js';
import type { AuthThrottle } from '../../policy/index.js';
import { type Reply, reply } from '../reply.js';

/** What SMTP AUTH needs from the server. */
export interface SmtpAuthDeps {
  /** Mechanisms to offer, in order. */
  mechanisms: readonly string[];
  /** A fresh server-side exchange for a mechanism name, or null when unknown. */
  create: (name: string) => SaslMechanism | null;
  throttle: AuthThrottle;
  /** AUTH without TLS is allowed from loopback clients. */
  plaintextOnLoopback: boolean;
  logger: Logger;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Strict base64 (RFC 4648, padded), or null. `=` alone is an empty initial response (RFC 4954). */
export function decodeBase64(text: string): Buffer | null {
  if (text === '=') return Buffer.alloc(0);
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

function isLoopback(ip: string): boolean {
  const v4 = ip.replace(/^::ffff:/i, '');
  return ip === '::1' || (net.isIPv4(v4) && v4.startsWith('127.'));
}

/**
 * SMTP AUTH (RFC 4954) for one session: the AUTH command, the 334 challenge/response
 * exchange, brute-force throttling and the replies. The SASL mechanisms do the cryptography.
 */
export class SmtpAuth {
  /** The authenticated user, once AUTH succeeded. */
  user: string | null = null;
  private exchange: { mech: SaslMechanism; pending: string | null } | null = null;

  constructor(
    private readonly deps: SmtpAuthDeps,
    private readonly client: () => { ip: string; secure: boolean; conn: string },
  ) {}

  /** Whether the next client line is a SASL response rather than a command. */
  get inProgress(): boolean {
    return this.exchange !== null;
  }

  /** The EHLO keyword line, or null when AUTH must not be offered on this connection now. */
  advertise(): string | null {
    if (this.user || !this.allowedHere()) return null;
    return `AUTH ${this.deps.mechanisms.join(' ')}`;
  }

  /** Forget everything (after STARTTLS, RFC 3207). */
  reset(): void {
    this.user = null;
    this.exchange = null;
  }

  /** The AUTH command. */
  async command(mechanism: string, initial: string | null, inTransaction: boolean): Promise<Reply> {
    if (this.user) return reply(503, '5.5.1', 'Already authenticated');
    if (inTransaction) return reply(503, '5.5.1', 'AUTH not allowed during a mail transaction');
    if (!this.allowedHere()) return reply(538, '5.7.11', 'Encryption required for requested authentication mechanism');
    const name = mechanism.toUpperCase();
    const mech = this.deps.mechanisms.includes(name) ? this.deps.create(name) : null;
    if (!mech) return reply(504, '5.5.4', 'Unrecognized authentication type');
    const { ip } = this.client();
    const gate = await this.deps.throttle.before(ip, null);
    if (gate.action === 'refuse') return this.locked(null, gate.reason);
    let data: Buffer | null = null;
    if (initial !== null) {
      data = decodeBase64(initial);
      if (!data) return reply(501, '5.5.2', 'Invalid base64 data in initial response');
    }
    this.exchange = { mech, pending: null };
    return this.advance(await this.guard(() => mech.start(data)));
  }

  /** A client line while an exchange is running. */
  async response(line: string): Promise<Reply> {
    const ex = this.exchange;
    if (!ex) return reply(503, '5.5.1', 'No authentication in progress');
    if (line === '*') {
      this.exchange = null;
      return reply(501, '5.7.0', 'Authentication canceled');
    }
    const data = decodeBase64(line.trim());
    if (!data) {
      this.exchange = null;
      return reply(501, '5.5.2', 'Invalid base64 data');
    }
    if (ex.pending !== null) {
      // The client acknowledged the server's final data (SCRAM): only an empty response is valid.
      const user = ex.pending;
      this.exchange = null;
      if (data.length > 0) return this.fail(user, 'malformed');
      return this.succeed(user);
    }
    return this.advance(await this.guard(() => ex.mech.step(data)));
  }

  /** A store or crypto error is our problem, not bad credentials: answer with a temporary failure. */
  private async guard(fn: () => Promise<SaslStep>): Promise<SaslStep | Reply> {
    try {
      return await fn();
    } catch (err) {
      this.exchange = null;
      this.deps.logger.error({ err, conn: this.client().conn }, 'authentication could not be checked');
      return reply(454, '4.7.0', 'Temporary authentication failure, try again later');
    }
  }

  private async advance(s: SaslStep | Reply): Promise<Reply> {
    if ('code' in s) return s;
    const ex = this.exchange;
    if (s.type === 'challenge') return reply(334, null, s.data.toString('base64'));
    if (s.type === 'failure') {
      this.exchange = null;
      return this.fail(s.user, s.reason);
    }
    if (s.final && ex) {
      ex.pending = s.user;
      return reply(334, null, s.final.toString('base64'));
    }
    this.exchange = null;
    return this.succeed(s.user);
  }

  private async succeed(user: string): Promise<Reply> {
    const { ip, conn } = this.client();
    const gate = await this.deps.throttle.before(ip, user);
    if (gate.action === 'refuse') return this.locked(user, gate.reason);
    await this.deps.throttle.succeeded(user);
    this.user = user;
    this.deps.logger.info({ conn, client: ip, user }, 'authenticated');
    return reply(235, '2.7.0', 'Authentication successful');
  }

  private async fail(user: string | null, reason: 'credentials' | 'malformed' | 'disabled'): Promise<Reply> {
    const { ip, conn } = this.client();
    if (reason === 'malformed') return reply(501, '5.5.2', 'Malformed authentication data');
    const delay = await this.deps.throttle.failed(ip, user);
    // Never the password: the user name and the address are enough to find an attack.
    this.deps.logger.warn({ conn, client: ip, user, reason, delayMs: delay }, 'authentication failed');
    if (delay > 0) await sleep(delay);
    return reply(535, '5.7.8', 'Authentication credentials invalid');
  }

  private locked(user: string | null, by: 'ip' | 'user'): Reply {
    const { ip, conn } = this.client();
    this.exchange = null;
    this.deps.logger.warn({ conn, client: ip, user, lockedBy: by }, 'authentication refused: too many failures');
    return reply(454, '4.7.0', 'Too many failed attempts, try later');
  }

  private allowedHere(): boolean {
    const { ip, secure } = this.client();
    return secure || (this.deps.plaintextOnLoopback && isLoopback(ip));
  }
}
