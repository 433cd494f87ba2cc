import net from 'node:net';
import type { Logger } from 'pino';
import type { SaslMechanism, SaslStep } from '../auth/index.js';
import type { AuthThrottle } from '../policy/index.js';

/** What POP3 logins need from the server. */
export interface Pop3AuthDeps {
  /** SASL mechanisms to offer (RFC 5034), in order. */
  mechanisms: readonly string[];
  /** A fresh server-side exchange for a mechanism name, or null when unknown. */
  create: (name: string) => SaslMechanism | null;
  throttle: AuthThrottle;
  /** Logins without TLS are allowed from loopback clients. */
  plaintextOnLoopback: boolean;
  logger: Logger;
}

/** The client as the login checks see it. */
export interface Pop3Client {
  ip: string;
  secure: boolean;
  conn: string;
}

/** A login outcome: the user's stored address, or the -ERR line to send. */
export type LoginResult = { ok: true; user: string } | { ok: false; reply: string };

/** A SASL exchange in progress: the line to send, or the outcome. */
export type SaslProgress = { type: 'continue'; line: string } | { type: 'done'; result: LoginResult };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Strict base64, or null; `=` is an empty initial response (RFC 5034 4). */
export function decodeBase64(text: string): Buffer | null {
  if (text === '=') return Buffer.alloc(0);
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

/** Whether an address is 127.0.0.0/8 or ::1 (also IPv4-mapped). */
export function isLoopback(ip: string): boolean {
  const v4 = ip.replace(/^::ffff:/i, '');
  return ip === '::1' || (net.isIPv4(v4) && v4.startsWith('127.'));
}

export const ERR_PLAINTEXT = '-ERR [AUTH] Plaintext authentication disallowed on non-secure connections, use STLS';
const ERR_FAILED = '-ERR [AUTH] Authentication failed';
const ERR_LOCKED = '-ERR [SYS/TEMP] Too many failed attempts, try later';
const ERR_TEMP = '-ERR [SYS/TEMP] Temporary authentication failure, try again later';

/**
 * POP3 logins: USER/PASS and AUTH (RFC 5034) over the shared SASL mechanisms, with the same
 * brute-force throttle as SMTP AUTH. One instance per session.
 */
export class Pop3Auth {
  private exchange: { mech: SaslMechanism; pending: string | null } | null = null;

  constructor(
    private readonly deps: Pop3AuthDeps,
    private readonly client: () => Pop3Client,
  ) {}

  /** Whether logins may happen on this connection now (TLS, or loopback when allowed). */
  allowedHere(): boolean {
    const { ip, secure } = this.client();
    return secure || (this.deps.plaintextOnLoopback && isLoopback(ip));
  }

  /** Whether the next client line answers a SASL challenge. */
  get inProgress(): boolean {
    return this.exchange !== null;
  }

  /** USER/PASS: the password checked through the PLAIN mechanism. */
  async password(user: string, password: string): Promise<LoginResult> {
    const mech = this.deps.create('PLAIN');
    if (!mech) return { ok: false, reply: ERR_TEMP };
    const gate = await this.deps.throttle.before(this.client().ip, user);
    if (gate.action === 'refuse') return this.locked(user, gate.reason);
    const step = await this.guard(() => mech.start(Buffer.from(`\0${user}\0${password}`, 'utf8')));
    if ('ok' in step) return step;
    if (step.type === 'success') return this.succeed(step.user);
    return this.fail(step.type === 'failure' ? step.user : user, 'credentials');
  }

  /** AUTH mechanism [initial-response]. */
  async start(mechanism: string, initial: string | null): Promise<SaslProgress> {
    const name = mechanism.toUpperCase();
    const mech = this.deps.mechanisms.includes(name) ? this.deps.create(name) : null;
    if (!mech) return done({ ok: false, reply: '-ERR Unrecognized authentication mechanism' });
    const gate = await this.deps.throttle.before(this.client().ip, null);
    if (gate.action === 'refuse') return done(await this.locked(null, gate.reason));
    let data: Buffer | null = null;
    if (initial !== null) {
      data = decodeBase64(initial);
      if (!data) return done({ ok: false, reply: '-ERR Invalid base64 data in initial response' });
    }
    this.exchange = { mech, pending: null };
    return this.advance(await this.guard(() => mech.start(data)));
  }

  /** A client line during AUTH. */
  async response(line: string): Promise<SaslProgress> {
    const ex = this.exchange;
    if (!ex) return done({ ok: false, reply: '-ERR No authentication in progress' });
    if (line === '*') {
      this.exchange = null;
      return done({ ok: false, reply: '-ERR Authentication canceled' });
    }
    const data = decodeBase64(line.trim());
    if (!data) {
      this.exchange = null;
      return done({ ok: false, reply: '-ERR Invalid base64 data' });
    }
    if (ex.pending !== null) {
      // The client acknowledged our final data (SCRAM): only an empty response is valid.
      const user = ex.pending;
      this.exchange = null;
      return done(data.length > 0 ? await this.fail(user, 'malformed') : await this.succeed(user));
    }
    return this.advance(await this.guard(() => ex.mech.step(data)));
  }

  /** Forget an exchange (the connection is going away). */
  reset(): void {
    this.exchange = null;
  }

  private async advance(s: SaslStep | LoginResult): Promise<SaslProgress> {
    if ('ok' in s) return done(s);
    const ex = this.exchange;
    if (s.type === 'challenge') return { type: 'continue', line: `+ ${s.data.toString('base64')}` };
    if (s.type === 'failure') {
      this.exchange = null;
      return done(await this.fail(s.user, s.reason));
    }
    if (s.final && ex) {
      ex.pending = s.user;
      return { type: 'continue', line: `+ ${s.final.toString('base64')}` };
    }
    this.exchange = null;
    return done(await this.succeed(s.user));
  }

  /** A store or crypto error is a temporary failure, not a failed login. */
  private async guard(fn: () => Promise<SaslStep>): Promise<SaslStep | LoginResult> {
    try {
      return await fn();
    } catch (err) {
      this.exchange = null;
      this.deps.logger.error({ err, conn: this.client().conn }, 'authentication could not be checked');
      return { ok: false, reply: ERR_TEMP };
    }
  }

  private async succeed(user: string): Promise<LoginResult> {
    const { ip, conn } = this.client();
    const gate = await this.deps.throttle.before(ip, user);
    if (gate.action === 'refuse') return this.locked(user, gate.reason);
    await this.deps.throttle.succeeded(user);
    this.deps.logger.info({ conn, client: ip, user }, 'pop3 login');
    return { ok: true, user };
  }

  private async fail(user: string | null, reason: 'credentials' | 'malformed' | 'disabled'): Promise<LoginResult> {
    const { ip, conn } = this.client();
    if (reason === 'malformed') return { ok: false, reply: '-ERR Malformed authentication data' };
    const delay = await this.deps.throttle.failed(ip, user);
    this.deps.logger.warn({ conn, client: ip, user, reason, delayMs: delay }, 'pop3 authentication failed');
    if (delay > 0) await sleep(delay);
    return { ok: false, reply: ERR_FAILED };
  }

  private async locked(user: string | null, by: 'ip' | 'user'): Promise<LoginResult> {
    const { ip, conn } = this.client();
    this.exchange = null;
    this.deps.logger.warn({ conn, client: ip, user, lockedBy: by }, 'pop3 login refused: too many failures');
    return { ok: false, reply: ERR_LOCKED };
  }
}

function done(result: LoginResult): SaslProgress {
  return { type: 'done', result };
}
