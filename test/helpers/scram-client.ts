import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { expect } from 'vitest';

/**
 * A SCRAM-SHA-256 client written from RFC 5802 with node:crypto only, sharing no code with the
 * server, so a bug in one is not mirrored in the other.
 */
export class ScramClient {
  readonly nonce = randomBytes(18).toString('base64');
  private bare = '';
  private authMessage = '';
  private salted = Buffer.alloc(0);

  constructor(
    private readonly username: string,
    private readonly password: string,
    readonly gs2 = 'n,,',
  ) {}

  first(): string {
    const name = this.username.replaceAll('=', '=3D').replaceAll(',', '=2C');
    this.bare = `n=${name},r=${this.nonce}`;
    return this.gs2 + this.bare;
  }

  final(serverFirst: string, tamper: { proof?: (p: Buffer) => Buffer; cbind?: string; nonce?: string } = {}): string {
    const attrs = new Map(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)] as const));
    const nonce = attrs.get('r') ?? '';
    expect(nonce.startsWith(this.nonce)).toBe(true);
    const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
    this.salted = pbkdf2Sync(this.password.normalize('NFKC'), salt, Number(attrs.get('i')), 32, 'sha256');
    const cbind = tamper.cbind ?? Buffer.from(this.gs2).toString('base64');
    const withoutProof = `c=${cbind},r=${tamper.nonce ?? nonce}`;
    this.authMessage = `${this.bare},${serverFirst},${withoutProof}`;
    const clientKey = createHmac('sha256', this.salted).update('Client Key').digest();
    const storedKey = createHash('sha256').update(clientKey).digest();
    const signature = createHmac('sha256', storedKey).update(this.authMessage).digest();
    const proof = Buffer.from(clientKey.map((x, i) => x ^ (signature[i] ?? 0)));
    return `${withoutProof},p=${(tamper.proof ?? ((p) => p))(proof).toString('base64')}`;
  }

  expectedServerFinal(): string {
    const serverKey = createHmac('sha256', this.salted).update('Server Key').digest();
    return `v=${createHmac('sha256', serverKey).update(this.authMessage).digest('base64')}`;
  }
}
