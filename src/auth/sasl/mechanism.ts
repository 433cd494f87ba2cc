import { randomBytes } from 'node:crypto';
import type { User } from '../../store/index.js';
import { hashPassword, verifyPassword } from '../password.js';

/** One server move in a SASL exchange. */
export type SaslStep =
  /** Send `data` to the client (base64-encoded by the protocol; SMTP: 334) and wait for its response. */
  | { type: 'challenge'; data: Buffer }
  /**
   * Authenticated as `user` (the stored address). `final` is server data the client must see
   * before success (SCRAM server-final); SMTP sends it as a 334 and expects an empty reply.
   */
  | { type: 'success'; user: string; final?: Buffer }
  /** `user` is the name the client gave (null when none could be parsed). */
  | { type: 'failure'; reason: 'credentials' | 'malformed' | 'disabled'; user: string | null };

/** Finds a user by full address, case-insensitively (Store.getUser fits). */
export interface SaslLookup {
  user(address: string): Promise<User | null>;
}

/**
 * A server-side SASL mechanism for one exchange: `start` once, then `step` for each client
 * response while the last step was a challenge. Calls must not overlap. Errors thrown by the
 * lookup propagate (a temporary failure, not a failed login).
 */
export interface SaslMechanism {
  readonly name: string;
  start(initial: Buffer | null): Promise<SaslStep>;
  step(response: Buffer): Promise<SaslStep>;
}

export interface SaslDeps {
  lookup: SaslLookup;
  /** Our host name, used in the CRAM-MD5 challenge. */
  hostname: string;
  /** Random bytes (default crypto.randomBytes); tests fix it to reproduce RFC examples. */
  random?: (n: number) => Buffer;
  /** Clock in epoch milliseconds (default Date.now), for the CRAM-MD5 timestamp. */
  now?: () => number;
}

/** A challenge step with text or bytes. */
export function challenge(data: Buffer | string): SaslStep {
  return { type: 'challenge', data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data };
}

/** A failure step. */
export function failure(reason: 'credentials' | 'malformed' | 'disabled', user: string | null): SaslStep {
  return { type: 'failure', reason, user };
}

// ignoreBOM keeps a leading U+FEFF as part of the text instead of silently dropping it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict UTF-8 decoding; null for invalid input. */
export function decodeUtf8(data: Buffer): string | null {
  try {
    return utf8.decode(data);
  } catch {
    return null;
  }
}

/** Whether two login names are the same user, ignoring case like Store.getUser does. */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * Runs the start/step bookkeeping: a step after the exchange ended, before it started, or while
 * another call is still running is refused as malformed instead of corrupting the state.
 */
export abstract class BaseMechanism implements SaslMechanism {
  abstract readonly name: string;
  private state: 'new' | 'waiting' | 'busy' | 'done' = 'new';

  protected abstract begin(initial: Buffer | null): Promise<SaslStep>;
  protected abstract next(response: Buffer): Promise<SaslStep>;

  start(initial: Buffer | null): Promise<SaslStep> {
    if (this.state !== 'new') return Promise.resolve(failure('malformed', null));
    return this.run(() => this.begin(initial));
  }

  step(response: Buffer): Promise<SaslStep> {
    if (this.state !== 'waiting') return Promise.resolve(failure('malformed', null));
    return this.run(() => this.next(response));
  }

  private async run(fn: () => Promise<SaslStep>): Promise<SaslStep> {
    this.state = 'busy';
    try {
      const result = await fn();
      this.state = result.type === 'challenge' ? 'waiting' : 'done';
      return result;
    } catch (err) {
      this.state = 'done';
      throw err;
    }
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Check a PLAIN/LOGIN password. Unknown users still cost one scrypt verification, so response
 * time does not reveal whether an address exists; disabled is reported only to someone who
 * proved the password.
 */
export async function checkPassword(lookup: SaslLookup, username: string, password: string): Promise<SaslStep> {
  const user = await lookup.user(username);
  if (!user) {
    dummyHash ??= hashPassword(randomBytes(16).toString('base64'));
    await verifyPassword(password, await dummyHash);
    return failure('credentials', username);
  }
  if (!(await verifyPassword(password, user.passwordHash))) return failure('credentials', username);
  if (user.disabled) return failure('disabled', username);
  return { type: 'success', user: user.address };
}
