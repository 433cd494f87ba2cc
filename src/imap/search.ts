import {
  decodeBody,
  decodeCharset,
  decodeWords,
  type EnvelopeAddress,
  type MimePart,
  parseHeaderFields,
} from './mime/index.js';
import { dayNumber, parseDate } from './parser/dates.js';
import type { SearchKey } from './parser/search.js';
import { inSequenceSet } from './parser/sequence.js';

/** What SEARCH may look at in one message; the costly parts are loaded only when a key needs them. */
export interface SearchMessage {
  seq: number;
  uid: number;
  flags: readonly string[];
  internalDate: number;
  size: number;
  modseq: number;
  recent: boolean;
  /** The parsed part tree (cached at delivery, so no body read). */
  structure(): Promise<MimePart>;
  /** The whole message (BODY, TEXT and header fields outside the envelope). */
  content(): Promise<Buffer>;
}

/** Numbers of the mailbox the keys are relative to (`*` in sequence sets). */
export interface SearchContext {
  maxSeq: number;
  maxUid: number;
}

/** Whether a message matches a search key. */
export async function matches(key: SearchKey, m: SearchMessage, ctx: SearchContext): Promise<boolean> {
  switch (key.type) {
    case 'all':
      return true;
    case 'and':
      for (const k of key.keys) if (!(await matches(k, m, ctx))) return false;
      return true;
    case 'or':
      return (await matches(key.a, m, ctx)) || (await matches(key.b, m, ctx));
    case 'not':
      return !(await matches(key.key, m, ctx));
    case 'flag':
      return hasFlag(m.flags, key.flag) === key.set;
    case 'new':
      return m.recent && !hasFlag(m.flags, '\\Seen');
    case 'old':
      return !m.recent;
    case 'recent':
      return m.recent;
    case 'seq':
      return inSequenceSet(key.set, m.seq, ctx.maxSeq);
    case 'uid':
      return inSequenceSet(key.set, m.uid, ctx.maxUid);
    case 'larger':
      return m.size > key.size;
    case 'smaller':
      return m.size < key.size;
    case 'modseq':
      return m.modseq >= key.modseq;
    case 'internaldate':
      return compareDay(dayNumber(m.internalDate), key.op, key.day);
    case 'sentdate': {
      const env = (await m.structure()).envelope;
      const day = env?.date ? sentDay(env.date) : null;
      return day !== null && compareDay(day, key.op, key.day);
    }
    case 'header':
      return headerMatches(key.field, key.value, m);
    case 'body':
    case 'text':
      return bodyMatches(key.type, key.value, m);
  }
}

function hasFlag(flags: readonly string[], flag: string): boolean {
  const lower = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === lower);
}

function compareDay(day: number, op: 'before' | 'on' | 'since', target: number): boolean {
  return op === 'before' ? day < target : op === 'on' ? day === target : day >= target;
}

/** The calendar day a Date: header names, in the sender's own time zone (RFC 3501 ignores the zone). */
function sentDay(date: string): number | null {
  const m = /(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})/.exec(date);
  if (m) {
    const year = m[3]!.length === 2 ? `${Number(m[3]) < 50 ? '20' : '19'}${m[3]}` : m[3];
    const day = parseDate(`${m[1]}-${m[2]}-${year}`);
    if (day !== null) return day;
  }
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? null : dayNumber(ms);
}

const ENVELOPE_FIELDS: Record<string, 'from' | 'to' | 'cc' | 'bcc'> = { FROM: 'from', TO: 'to', CC: 'cc', BCC: 'bcc' };

function addressText(list: EnvelopeAddress[]): string {
  return list.map((a) => `${a.name ? decodeWords(a.name) : ''} <${a.mailbox ?? ''}@${a.host ?? ''}>`).join(', ');
}

function contains(haystack: string, needle: string): boolean {
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

async function headerMatches(field: string, value: string, m: SearchMessage): Promise<boolean> {
  const structure = await m.structure();
  const env = structure.envelope;
  const envField = ENVELOPE_FIELDS[field];
  if (env && envField) {
    // The envelope holds exactly these headers, already parsed at delivery: no body read.
    const list = env[envField];
    if (list.length === 0) return false;
    return value === '' || contains(addressText(list), value);
  }
  if (env && field === 'SUBJECT') {
    if (env.subject === null) return false;
    return value === '' || contains(decodeWords(env.subject), value);
  }
  const content = await m.content();
  const fields = parseHeaderFields(content.subarray(structure.headerStart, structure.bodyStart).toString('utf8'));
  const lower = field.toLowerCase();
  return fields.some((f) => f.name.toLowerCase() === lower && (value === '' || contains(decodeWords(f.value), value)));
}

async function bodyMatches(kind: 'body' | 'text', value: string, m: SearchMessage): Promise<boolean> {
  const structure = await m.structure();
  const content = await m.content();
  if (kind === 'text') {
    const header = content.subarray(structure.headerStart, structure.bodyStart).toString('utf8');
    if (contains(decodeWords(header), value)) return true;
  }
  for (const text of textParts(structure, content)) if (contains(text, value)) return true;
  return false;
}

/** Decoded text of every text/* leaf (message/rfc822 parts included, with their headers). */
function* textParts(part: MimePart, content: Buffer): Generator<string> {
  if (part.children) {
    for (const c of part.children) yield* textParts(c, content);
    return;
  }
  if (part.message) {
    const inner = part.message;
    yield decodeWords(content.subarray(inner.headerStart, inner.bodyStart).toString('utf8'));
    yield* textParts(inner, content);
    return;
  }
  if (part.type.toLowerCase() !== 'text') return;
  const raw = decodeBody(content.subarray(part.bodyStart, part.end), part.encoding);
  const charset = part.params.find(([k]) => k.toLowerCase() === 'charset')?.[1];
  yield decodeCharset(raw, charset);
}
