import { makeCredentials } from '../../src/auth/credentials.js';
import { createMechanism, type SaslDeps, type SaslMechanism, type SaslStep } from '../../src/auth/sasl/index.js';
import type { Credentials, User } from '../../src/store/index.js';

/** An in-memory user directory with the store's case-insensitive lookup. */
export class MemoryUsers {
  readonly byKey = new Map<string, User>();
  lookups = 0;

  /** Add a user whose secrets come from makeCredentials (or are given, for odd cases). */
  async add(
    address: string,
    password: string,
    opts: { cram?: boolean; disabled?: boolean; credentials?: Credentials } = {},
  ): Promise<User> {
    const creds = opts.credentials ?? (await makeCredentials(password, { cram: opts.cram }));
    const user: User = {
      id: this.byKey.size + 1,
      address,
      ...creds,
      disabled: opts.disabled ?? false,
      quotaBytes: null,
      createdAt: 0,
    };
    this.byKey.set(address.toLowerCase(), user);
    return user;
  }

  readonly lookup = {
    user: async (address: string): Promise<User | null> => {
      this.lookups++;
      return this.byKey.get(address.toLowerCase()) ?? null;
    },
  };
}

export function deps(users: MemoryUsers, extra: Partial<SaslDeps> = {}): SaslDeps {
  return { lookup: users.lookup, hostname: 'mx.example.test', ...extra };
}

export function mech(name: string, d: SaslDeps): SaslMechanism {
  const m = createMechanism(name, d);
  if (!m) throw new Error(`no mechanism ${name}`);
  return m;
}

export const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** The challenge text of a step, failing the test when it is not a challenge. */
export function challengeText(step: SaslStep): string {
  if (step.type !== 'challenge') throw new Error(`expected a challenge, got ${JSON.stringify(step)}`);
  return step.data.toString('utf8');
}

/** A random-bytes source that replays fixed bytes (for RFC examples). */
export function fixedRandom(bytes: Buffer): (n: number) => Buffer {
  return (n) => {
    if (n !== bytes.length) throw new Error(`asked for ${n} random bytes, fixture has ${bytes.length}`);
    return Buffer.from(bytes);
  };
}
