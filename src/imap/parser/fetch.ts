import { ParseError, type Tokens } from './tokens.js';

/** A BODY[...] section: part path (empty for the whole message) and what of it. */
export interface Section {
  part: number[];
  kind: 'full' | 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';
  /** Upper-cased field names for HEADER.FIELDS (.NOT). */
  fields?: string[];
}

/** `<start.length>` of a partial fetch. */
export interface Partial {
  start: number;
  length: number;
}

export type FetchAtt =
  | {
      type: 'UID' | 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODYSTRUCTURE' | 'BODY' | 'MODSEQ';
    }
  | { type: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' }
  | { type: 'BODY[]'; peek: boolean; section: Section; partial: Partial | null }
  | { type: 'BINARY'; peek: boolean; part: number[]; partial: Partial | null }
  | { type: 'BINARY.SIZE'; part: number[] };

const SIMPLE = new Set(['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODYSTRUCTURE', 'MODSEQ']);
const MACROS: Record<string, string[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

/** FETCH's attribute argument: a macro, one attribute, or a parenthesized list. */
export function parseFetchAtts(t: Tokens): FetchAtt[] {
  if (t.peek() === '(') return t.list(() => fetchAtt(t), 'a list of fetch attributes');
  const word = peekName(t);
  const macro = MACROS[word];
  if (macro) {
    t.name();
    return macro.map((type) => ({ type }) as FetchAtt);
  }
  return [fetchAtt(t)];
}

function peekName(t: Tokens): string {
  const save = t.snapshot();
  try {
    return t.name().toUpperCase();
  } catch {
    return '';
  } finally {
    t.restore(save);
  }
}

function fetchAtt(t: Tokens): FetchAtt {
  const name = t.name('a fetch attribute').toUpperCase();
  if (SIMPLE.has(name)) return { type: name } as FetchAtt;
  if (name === 'RFC822' || name === 'RFC822.HEADER' || name === 'RFC822.TEXT') return { type: name };
  if (name === 'BODY' || name === 'BODY.PEEK') {
    if (t.peek() !== '[') {
      if (name === 'BODY.PEEK') throw new ParseError('BODY.PEEK needs a section');
      return { type: 'BODY' };
    }
    const section = parseSection(t);
    return { type: 'BODY[]', peek: name === 'BODY.PEEK', section, partial: parsePartial(t) };
  }
  if (name === 'BINARY' || name === 'BINARY.PEEK' || name === 'BINARY.SIZE') {
    t.expect('[', '"[" after BINARY');
    const part = t.peek() === ']' ? [] : partPath(t);
    t.expect(']');
    if (name === 'BINARY.SIZE') return { type: 'BINARY.SIZE', part };
    return { type: 'BINARY', peek: name === 'BINARY.PEEK', part, partial: parsePartial(t) };
  }
  throw new ParseError(`Unknown fetch attribute ${name.slice(0, 40)}`);
}

function partPath(t: Tokens): number[] {
  const part: number[] = [];
  for (;;) {
    part.push(t.number('a section part number'));
    if (part[part.length - 1] === 0) throw new ParseError('Section part numbers start at 1');
    if (t.peek() !== '.') return part;
    t.expect('.');
    if (!/[0-9]/.test(t.peek())) {
      // The dot before HEADER/TEXT/MIME: give it back to the caller.
      t.back();
      return part;
    }
  }
}

/** `[section]` after BODY or BODY.PEEK. */
export function parseSection(t: Tokens): Section {
  t.expect('[');
  let part: number[] = [];
  if (/[0-9]/.test(t.peek())) {
    part = partPath(t);
    if (t.accept(']')) return { part, kind: 'full' };
    t.expect('.');
  }
  if (t.accept(']')) return { part, kind: 'full' };
  const name = t.name('a section name').toUpperCase();
  let section: Section;
  if (name === 'HEADER' || name === 'TEXT') section = { part, kind: name };
  else if (name === 'MIME') {
    if (part.length === 0) throw new ParseError('MIME needs a part number');
    section = { part, kind: 'MIME' };
  } else if (name === 'HEADER.FIELDS' || name === 'HEADER.FIELDS.NOT') {
    t.sp();
    const fields = t.list(() => t.astring('a header field name').toUpperCase(), 'a list of header fields');
    if (fields.length === 0) throw new ParseError('Empty header field list');
    section = { part, kind: name, fields };
  } else throw new ParseError(`Unknown section ${name.slice(0, 40)}`);
  t.expect(']');
  return section;
}

/** An optional `<start.length>`. */
export function parsePartial(t: Tokens): Partial | null {
  if (!t.accept('<')) return null;
  const start = t.number('a partial start');
  t.expect('.', '"." in partial range');
  const length = t.number('a partial length');
  if (length === 0) throw new ParseError('Partial length must be positive');
  t.expect('>');
  return { start, length };
}
