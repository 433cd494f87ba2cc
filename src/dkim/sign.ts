import { createHash, createPrivateKey, sign } from 'node:crypto';
import { domainToASCII } from 'node:url';
import bodyModule from 'mailauth/lib/dkim/body/index.js';
import relaxedModule from 'mailauth/lib/dkim/header/relaxed.js';
import tools from 'mailauth/lib/tools.js';
import type { DkimKey, Store } from '../store/types.js';
import { keyType } from './keys.js';
import { signingDomain, splitMessage } from './message.js';

/**
 * Header fields we sign when present, in this order. Fields a relay or mailing list may add or
 * rewrite on the way (Received, Return-Path, Delivered-To, ...) stay out, or the signature breaks.
 */
export const SIGNED_HEADERS: readonly string[] = [
  'from',
  'sender',
  'reply-to',
  'subject',
  'date',
  'message-id',
  'to',
  'cc',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'content-id',
  'content-description',
  'in-reply-to',
  'references',
  'list-id',
  'list-help',
  'list-unsubscribe',
  'list-unsubscribe-post',
  'list-subscribe',
  'list-post',
  'list-owner',
  'list-archive',
  'feedback-id',
];

/**
 * Fields listed once more than they occur (RFC 6376 §8.15): a verifier then counts a missing
 * instance as empty, so a second From added in transit breaks the signature instead of being
 * shown to the reader as the sender.
 */
export const OVERSIGNED_HEADERS: readonly string[] = ['from'];

const CANONICALIZATION = 'relaxed/relaxed';

export interface SignOptions {
  /** Signing time (`t=`); defaults to now. */
  now?: Date | number;
}

/**
 * DKIM-Signature fields for `message`, one per key, CRLF-terminated, to prepend to the message.
 * Resolves to '' when `keys` is empty.
 *
 * mailauth's canonicalization and formatting are used directly rather than its `dkimSign`, because
 * `dkimSign` lists in `h=` only the fields present and so cannot oversign From.
 */
export async function signMessage(message: Buffer, keys: DkimKey[], opts: SignOptions = {}): Promise<string> {
  if (keys.length === 0) return '';
  const signTime = opts.now === undefined ? new Date() : new Date(opts.now);
  const { header, body } = splitMessage(message);
  const parsed = tools.parseHeaders(header).parsed;

  // Bottom-up, as verifiers pick instances of a repeated field (RFC 6376 §5.4.2).
  const present = [...parsed].reverse().filter((h) => h.key !== null && SIGNED_HEADERS.includes(h.key));
  const names = [...present.map((h) => h.casedKey ?? h.key ?? ''), ...OVERSIGNED_HEADERS.map(displayName)];
  // The extra names contribute nothing to the hashed data: only the fields present are passed on.
  const signingLines = { keys: names.join(': '), headers: present };

  const hasher = bodyModule.dkimBody(CANONICALIZATION, 'sha256', false);
  hasher.update(body);
  const bodyHash = hasher.digest('base64');

  const fields: string[] = [];
  for (const key of keys) {
    const algorithm = `${keyType(key.algorithm)}-sha256`;
    const domain = domainToASCII(key.domain) || key.domain;
    const { canonicalizedHeader, dkimHeaderOpts } = relaxedModule.relaxedHeaders('DKIM', signingLines, {
      signingDomain: domain,
      selector: key.selector,
      algorithm,
      canonicalization: CANONICALIZATION,
      bodyHash,
      signTime,
    });
    const privateKey = createPrivateKey(key.privateKey);
    if (privateKey.asymmetricKeyType !== keyType(key.algorithm)) {
      throw new Error(
        `DKIM key ${key.selector} of ${key.domain} is stored as ${key.algorithm} but holds a ${privateKey.asymmetricKeyType} key`,
      );
    }
    // RFC 8463: Ed25519 signs the SHA-256 hash of the canonicalized header (PureEdDSA over the digest).
    const signature =
      key.algorithm === 'ed25519'
        ? sign(null, createHash('sha256').update(canonicalizedHeader).digest(), privateKey)
        : sign('sha256', canonicalizedHeader, privateKey);
    fields.push(tools.formatSignatureHeaderLine('DKIM', { ...dkimHeaderOpts, b: signature.toString('base64') }, true));
  }
  return `${fields.join('\r\n')}\r\n`;
}

function displayName(field: string): string {
  return field.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/**
 * The DKIM-Signature field(s) for a message about to leave: signed with the active key of its
 * header From domain, or '' when that domain has no key (or the message no usable From).
 */
export async function signWithActiveKey(
  message: Buffer,
  store: Pick<Store, 'getActiveDkimKey'>,
  opts: SignOptions = {},
): Promise<string> {
  const domain = signingDomain(message);
  const key = domain === null ? null : await store.getActiveDkimKey(domain);
  return key ? signMessage(message, [key], opts) : '';
}
