import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BaseMechanism, challenge, decodeUtf8, failure, type SaslDeps, type SaslStep } from './mechanism.js';

// Users without a CRAM secret are checked against this, so they take the same path as the rest.
const DUMMY_SECRET = randomBytes(16);
// Name, one space, 32 hex digits; the name may itself contain spaces, so the digest is the last field.
const RESPONSE = /^(.+) ([0-9a-fA-F]{32})$/s;

/** CRAM-MD5 (RFC 2195). Works only for users whose password-equivalent secret is stored. */
export class CramMd5Mechanism extends BaseMechanism {
  readonly name = 'CRAM-MD5';
  private challenge = '';

  constructor(private readonly deps: SaslDeps) {
    super();
  }

  protected async begin(initial: Buffer | null): Promise<SaslStep> {
    // The server speaks first in CRAM-MD5, so there is nothing an initial response could mean.
    if (initial !== null) return failure('malformed', null);
    const random = (this.deps.random ?? randomBytes)(8).readBigUInt64BE(0);
    const seconds = Math.floor((this.deps.now ?? Date.now)() / 1000);
    this.challenge = `<${random}.${seconds}@${this.deps.hostname}>`;
    return challenge(this.challenge);
  }

  protected async next(response: Buffer): Promise<SaslStep> {
    const text = decodeUtf8(response);
    const match = text === null ? null : RESPONSE.exec(text);
    if (!match) return failure('malformed', null);
    const [, username, hex] = match as unknown as [string, string, string];
    const user = await this.deps.lookup.user(username);
    const secret = user?.cramSecret != null ? Buffer.from(user.cramSecret, 'base64') : DUMMY_SECRET;
    const expected = createHmac('md5', secret).update(this.challenge, 'utf8').digest();
    const matches = timingSafeEqual(expected, Buffer.from(hex, 'hex'));
    // Unknown user and CRAM-disabled user look exactly like a wrong password.
    if (!user || user.cramSecret === null || !matches) return failure('credentials', username);
    if (user.disabled) return failure('disabled', username);
    return { type: 'success', user: user.address };
  }
}
