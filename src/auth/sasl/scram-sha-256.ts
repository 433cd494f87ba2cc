import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { User } from '../../store/index.js';
import { parseScram, SCRAM_ITERATIONS, type ScramKeys } from '../credentials.js';
import { BaseMechanism, challenge, decodeUtf8, failure, type SaslDeps, type SaslStep, sameName } from './mechanism.js';

// Fake salts for unknown users must be stable per name (a changing salt would reveal the user
// does not exist) but unpredictable, so an attacker cannot precompute them.
const FAKE_SALT_KEY = randomBytes(32);
const SERVER_NONCE_BYTES = 30;
// RFC 5802 nonce characters: printable ASCII except ','. Each random byte picks one (slight
// modulo bias is harmless: nonces need to be unique and unguessable, not uniform).
const NONCE_ALPHABET = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i))
  .filter((c) => c !== ',')
  .join('');
const NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;
const SASLNAME = /^(?:[^,=]|=2C|=3D)+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Map random bytes to a SCRAM nonce (exported so tests can reproduce RFC 7677's nonce). */
export function scramNonce(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) out += NONCE_ALPHABET[b % NONCE_ALPHABET.length];
  return out;
}

function decodeSaslName(value: string): string | null {
  if (!SASLNAME.test(value)) return null;
  return value.replace(/=2C|=3D/g, (m) => (m === '=2C' ? ',' : '='));
}

const hmac = (key: Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

type Exchange = {
  gs2Header: string;
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
  username: string;
  user: User | null;
  keys: ScramKeys | null;
};

/** SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding: we never advertise -PLUS. */
export class ScramSha256Mechanism extends BaseMechanism {
  readonly name = 'SCRAM-SHA-256';
  private exchange: Exchange | null = null;

  constructor(private readonly deps: SaslDeps) {
    super();
  }

  protected async begin(initial: Buffer | null): Promise<SaslStep> {
    // SCRAM is client-first: without an initial response, ask for it with an empty challenge.
    return initial === null ? challenge(Buffer.alloc(0)) : this.clientFirst(initial);
  }

  protected next(response: Buffer): Promise<SaslStep> {
    return this.exchange === null ? this.clientFirst(response) : Promise.resolve(this.clientFinal(response));
  }

  private async clientFirst(data: Buffer): Promise<SaslStep> {
    const text = decodeUtf8(data);
    if (text === null) return failure('malformed', null);
    // gs2-header = gs2-cbind-flag "," [ authzid ] ","
    const firstComma = text.indexOf(',');
    const secondComma = firstComma < 0 ? -1 : text.indexOf(',', firstComma + 1);
    if (secondComma < 0) return failure('malformed', null);
    const cbind = text.slice(0, firstComma);
    // `p=` asks for channel binding, which we do not offer; `y` means the client could but thinks we cannot.
    if (cbind !== 'n' && cbind !== 'y') return failure('malformed', null);
    const authzField = text.slice(firstComma + 1, secondComma);
    const gs2Header = text.slice(0, secondComma + 1);
    const clientFirstBare = text.slice(secondComma + 1);

    const [nameAttr = '', nonceAttr = ''] = clientFirstBare.split(',');
    // `m=` is reserved for a mandatory extension we cannot know, so RFC 5802 says fail.
    if (!nameAttr.startsWith('n=') || !nonceAttr.startsWith('r=')) return failure('malformed', null);
    const username = decodeSaslName(nameAttr.slice(2));
    const clientNonce = nonceAttr.slice(2);
    if (username === null || !NONCE.test(clientNonce)) return failure('malformed', null);
    if (authzField !== '') {
      const authzid = authzField.startsWith('a=') ? decodeSaslName(authzField.slice(2)) : null;
      if (authzid === null) return failure('malformed', username);
      if (!sameName(authzid, username)) return failure('credentials', username);
    }

    const user = await this.deps.lookup.user(username);
    const keys = user?.scram ? parseScram(user.scram) : null;
    // Without usable keys we still answer like a real user would, and fail only at the proof.
    const salt =
      keys?.salt ?? createHmac('sha256', FAKE_SALT_KEY).update(username.toLowerCase()).digest().subarray(0, 16);
    const iterations = keys?.iterations ?? SCRAM_ITERATIONS;
    const nonce = clientNonce + scramNonce((this.deps.random ?? randomBytes)(SERVER_NONCE_BYTES));
    const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${iterations}`;
    this.exchange = { gs2Header, clientFirstBare, serverFirst, nonce, username, user, keys };
    return challenge(serverFirst);
  }

  private clientFinal(data: Buffer): SaslStep {
    const ex = this.exchange!;
    const text = decodeUtf8(data);
    if (text === null) return failure('malformed', ex.username);
    // The proof is always the last attribute, and everything before it is signed.
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) return failure('malformed', ex.username);
    const withoutProof = text.slice(0, proofAt);
    const proofText = text.slice(proofAt + 3);
    const [cbindAttr, nonceAttr] = withoutProof.split(',');
    // With no channel binding, c= must echo exactly the gs2 header the client opened with.
    if (cbindAttr !== `c=${Buffer.from(ex.gs2Header, 'utf8').toString('base64')}`) {
      return failure('malformed', ex.username);
    }
    if (nonceAttr !== `r=${ex.nonce}`) return failure('malformed', ex.username);
    const proof = BASE64.test(proofText) ? Buffer.from(proofText, 'base64') : null;
    if (proof?.length !== 32) return failure('malformed', ex.username);

    const { user, keys } = ex;
    if (!user || !keys) return failure('credentials', ex.username);
    const authMessage = `${ex.clientFirstBare},${ex.serverFirst},${withoutProof}`;
    const clientSignature = hmac(keys.storedKey, authMessage);
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = (proof[i] ?? 0) ^ (clientSignature[i] ?? 0);
    const storedKey = createHash('sha256').update(clientKey).digest();
    if (!timingSafeEqual(storedKey, keys.storedKey)) return failure('credentials', ex.username);
    if (user.disabled) return failure('disabled', ex.username);
    const serverSignature = hmac(keys.serverKey, authMessage);
    return { type: 'success', user: user.address, final: Buffer.from(`v=${serverSignature.toString('base64')}`) };
  }
}
