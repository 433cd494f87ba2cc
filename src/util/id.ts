import crypto from 'node:crypto';

const ALPHABET = '0123456789BCDFGHJKLMNPQRSTVWXYZ'; // no vowels: ids never spell words
const BASE = BigInt(ALPHABET.length);

/**
 * A queue id: time-ordered (milliseconds) then 48 random bits, in a 31-letter alphabet.
 * Sorting ids sorts by arrival; the random tail spreads blob directories.
 */
export function newQueueId(now = Date.now()): string {
  const rand = crypto.randomBytes(6);
  let n = (BigInt(now) << 48n) | BigInt(`0x${rand.toString('hex')}`);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % BASE)] + out;
    n /= BASE;
  }
  return out;
}
