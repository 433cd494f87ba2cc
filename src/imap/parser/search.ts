import { parseDate } from './dates.js';
import { parseSequenceSet, type SequenceSet } from './sequence.js';
import { ParseError, type Tokens } from './tokens.js';

/** A search criterion (RFC 3501 6.4.4, plus MODSEQ from CONDSTORE). */
export type SearchKey =
  | { type: 'all' }
  | { type: 'and'; keys: SearchKey[] }
  | { type: 'or'; a: SearchKey; b: SearchKey }
  | { type: 'not'; key: SearchKey }
  /** A system flag or keyword is set (`set`) or not. */
  | { type: 'flag'; flag: string; set: boolean }
  | { type: 'new' | 'old' | 'recent' }
  | { type: 'seq'; set: SequenceSet }
  | { type: 'uid'; set: SequenceSet }
  /** A header field contains the text (`''` matches every message that has the field). */
  | { type: 'header'; field: string; value: string }
  | { type: 'body' | 'text'; value: string }
  /** `day` is a UTC day number (days since 1970-01-01). */
  | { type: 'internaldate' | 'sentdate'; op: 'before' | 'on' | 'since'; day: number }
  | { type: 'larger' | 'smaller'; size: number }
  | { type: 'modseq'; modseq: number };

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};
const HEADER_KEYS = new Set(['FROM', 'TO', 'CC', 'BCC', 'SUBJECT']);
const DATE_KEYS: Record<string, ['internaldate' | 'sentdate', 'before' | 'on' | 'since']> = {
  BEFORE: ['internaldate', 'before'],
  ON: ['internaldate', 'on'],
  SINCE: ['internaldate', 'since'],
  SENTBEFORE: ['sentdate', 'before'],
  SENTON: ['sentdate', 'on'],
  SENTSINCE: ['sentdate', 'since'],
};

/** Charsets we search in; RFC 3501 requires US-ASCII, and UTF-8 is its superset. */
const CHARSETS = new Set(['US-ASCII', 'UTF-8']);

/** Thrown for an unsupported CHARSET: answered `NO [BADCHARSET (US-ASCII UTF-8)]`. */
export class BadCharsetError extends Error {}

/** The arguments of SEARCH after the command name: `[CHARSET x] key *(SP key)`, ANDed together. */
export function parseSearchProgram(t: Tokens): SearchKey {
  const save = t.snapshot();
  if (t.name('a search key').toUpperCase() === 'CHARSET') {
    t.sp();
    const charset = t.astring('a charset').toUpperCase();
    if (!CHARSETS.has(charset)) throw new BadCharsetError(charset);
    t.sp();
  } else t.restore(save);
  const keys: SearchKey[] = [searchKey(t)];
  while (!t.atEnd()) {
    t.sp();
    keys.push(searchKey(t));
  }
  return keys.length === 1 ? keys[0]! : { type: 'and', keys };
}

function searchKey(t: Tokens, depth = 0): SearchKey {
  if (depth > 100) throw new ParseError('Search program nested too deeply');
  if (t.peek() === '(') {
    const keys = t.list(() => searchKey(t, depth + 1), 'a search key list');
    if (keys.length === 0) throw new ParseError('Empty search key list');
    return keys.length === 1 ? keys[0]! : { type: 'and', keys };
  }
  if (/[0-9*$]/.test(t.peek())) return { type: 'seq', set: parseSequenceSet(t.word('a sequence set')) };
  const name = t.name('a search key').toUpperCase();
  const flagKey = FLAG_KEYS[name];
  if (flagKey) return { type: 'flag', flag: flagKey[0], set: flagKey[1] };
  const dateKey = DATE_KEYS[name];
  if (dateKey) {
    t.sp();
    return { type: dateKey[0], op: dateKey[1], day: dayOf(t.astring('a date')) };
  }
  if (HEADER_KEYS.has(name)) {
    t.sp();
    return { type: 'header', field: name, value: t.astring('a search string') };
  }
  switch (name) {
    case 'ALL':
      return { type: 'all' };
    case 'NEW':
    case 'OLD':
    case 'RECENT':
      return { type: name.toLowerCase() as 'new' | 'old' | 'recent' };
    case 'KEYWORD':
    case 'UNKEYWORD':
      t.sp();
      return { type: 'flag', flag: t.atom('a keyword'), set: name === 'KEYWORD' };
    case 'BODY':
    case 'TEXT':
      t.sp();
      return { type: name === 'BODY' ? 'body' : 'text', value: t.astring('a search string') };
    case 'HEADER': {
      t.sp();
      const field = t.astring('a header field name').toUpperCase();
      t.sp();
      return { type: 'header', field, value: t.astring('a search string') };
    }
    case 'LARGER':
    case 'SMALLER':
      t.sp();
      return { type: name === 'LARGER' ? 'larger' : 'smaller', size: t.number('a size') };
    case 'NOT':
      t.sp();
      return { type: 'not', key: searchKey(t, depth + 1) };
    case 'OR': {
      t.sp();
      const a = searchKey(t, depth + 1);
      t.sp();
      return { type: 'or', a, b: searchKey(t, depth + 1) };
    }
    case 'UID':
      t.sp();
      return { type: 'uid', set: parseSequenceSet(t.word('a UID set')) };
    case 'MODSEQ': {
      t.sp();
      // Optional entry name and type (RFC 7162 3.1.5); we keep one modseq per message, so they only parse.
      if (t.peek() === '"') {
        t.string('an entry name');
        t.sp();
        t.atom('an entry type');
        t.sp();
      }
      return { type: 'modseq', modseq: t.bigNumber() };
    }
    default:
      throw new ParseError(`Unknown search key ${name.slice(0, 40)}`);
  }
}

function dayOf(text: string): number {
  const d = parseDate(text);
  if (d === null) throw new ParseError('Invalid date, expected e.g. 1-Feb-2024');
  return d;
}
