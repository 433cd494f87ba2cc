import { ParseError } from './tokens.js';

/** One range of a sequence set; `null` stands for `*` (the largest number in use). */
export interface SeqRange {
  from: number | null;
  to: number | null;
}

/** A parsed sequence set such as `1:4,7,9:*`. */
export type SequenceSet = SeqRange[];

const SEQ_NUMBER = /^[1-9][0-9]*$/;

function seqNumber(s: string): number | null {
  if (s === '*') return null;
  if (!SEQ_NUMBER.test(s)) throw new ParseError('Invalid sequence set');
  const n = Number(s);
  if (n > 0xffffffff) throw new ParseError('Invalid sequence set: number out of range');
  return n;
}

/** Parse RFC 3501 sequence-set text. */
export function parseSequenceSet(text: string): SequenceSet {
  if (text === '') throw new ParseError('Invalid sequence set');
  return text.split(',').map((item) => {
    const [a, b, extra] = item.split(':');
    if (extra !== undefined || a === undefined) throw new ParseError('Invalid sequence set');
    const from = seqNumber(a);
    return { from, to: b === undefined ? from : seqNumber(b) };
  });
}

/** Whether n (a sequence number or UID) is in the set, where `*` means `max`. */
export function inSequenceSet(set: SequenceSet, n: number, max: number): boolean {
  for (const r of set) {
    const a = r.from ?? max;
    const b = r.to ?? max;
    if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
  }
  return false;
}

/**
 * The members of `sorted` (ascending numbers in use) that are in the set. With `max` 0 (an empty
 * mailbox) `*` matches nothing.
 */
export function selectFromSet(set: SequenceSet, sorted: readonly number[]): number[] {
  if (sorted.length === 0) return [];
  const max = sorted[sorted.length - 1]!;
  return sorted.filter((n) => inSequenceSet(set, n, max));
}

/** Format ascending numbers as a compact sequence set (`1:3,5`), as used in COPYUID and ESEARCH. */
export function formatSequenceSet(nums: readonly number[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < nums.length) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
    out.push(i === j ? `${nums[i]}` : `${nums[i]}:${nums[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
