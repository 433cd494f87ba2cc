import {
  BaseMechanism,
  challenge,
  checkPassword,
  decodeUtf8,
  failure,
  type SaslLookup,
  type SaslStep,
  sameName,
} from './mechanism.js';

/** PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd` in one message. */
export class PlainMechanism extends BaseMechanism {
  readonly name = 'PLAIN';

  constructor(private readonly lookup: SaslLookup) {
    super();
  }

  protected async begin(initial: Buffer | null): Promise<SaslStep> {
    return initial === null ? challenge(Buffer.alloc(0)) : this.next(initial);
  }

  protected async next(response: Buffer): Promise<SaslStep> {
    const text = decodeUtf8(response);
    if (text === null) return failure('malformed', null);
    const parts = text.split('\0');
    if (parts.length !== 3) return failure('malformed', null);
    const [authzid, authcid, passwd] = parts as [string, string, string];
    // RFC 4616 requires 1*SAFE for both; an empty one is a broken client, not a wrong password.
    if (authcid === '' || passwd === '') return failure('malformed', authcid || null);
    // We do not support acting as another user, so an authzid is only accepted when it names the caller.
    if (authzid !== '' && !sameName(authzid, authcid)) return failure('credentials', authcid);
    return checkPassword(this.lookup, authcid, passwd);
  }
}
