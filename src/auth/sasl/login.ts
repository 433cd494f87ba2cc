import {
  BaseMechanism,
  challenge,
  checkPassword,
  decodeUtf8,
  failure,
  type SaslLookup,
  type SaslStep,
} from './mechanism.js';

/** LOGIN (draft-murchison-sasl-login): username and password as two separate responses. */
export class LoginMechanism extends BaseMechanism {
  readonly name = 'LOGIN';
  private username: string | null = null;

  constructor(private readonly lookup: SaslLookup) {
    super();
  }

  protected async begin(initial: Buffer | null): Promise<SaslStep> {
    // Clients that send an initial response with LOGIN send the username there.
    return initial === null ? challenge('Username:') : this.takeUsername(initial);
  }

  protected async next(response: Buffer): Promise<SaslStep> {
    if (this.username === null) return this.takeUsername(response);
    const password = decodeUtf8(response);
    if (password === null) return failure('malformed', this.username);
    return checkPassword(this.lookup, this.username, password);
  }

  private takeUsername(data: Buffer): SaslStep {
    const name = decodeUtf8(data);
    if (name === null || name === '') return failure('malformed', null);
    this.username = name;
    return challenge('Password:');
  }
}
