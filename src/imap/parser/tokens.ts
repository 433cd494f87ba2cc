import type { CommandParts } from '../reader.js';

/** A syntax error in a command; its message becomes the text of the `BAD` reply. */
export class ParseError extends Error {}

// RFC 3501 atom-specials: ( ) { SP CTL % * " \ ]   (']' is allowed in astrings).
const ATOM_CHAR = /[^\x00-\x20\x7f(){%*"\\\]]/;
const ASTRING_CHAR = /[^\x00-\x20\x7f(){%*"\\]/;
const LIST_CHAR = /[^\x00-\x20\x7f(){"\\]/;

/**
 * A cursor over one command: text segments and literal bytes. Every read either consumes what
 * it asked for or throws ParseError with a reason that can be shown to the client.
 */
export class Tokens {
  private i = 0;
  private pos = 0;

  constructor(private readonly parts: CommandParts) {}

  private get text(): string {
    const p = this.parts[this.i];
    return typeof p === 'string' ? p : '';
  }

  /** The next character, or '' at the end of the current text (before a literal or the end). */
  peek(): string {
    return this.text[this.pos] ?? '';
  }

  /** Whether the whole command has been read. */
  atEnd(): boolean {
    return this.i >= this.parts.length - 1 && this.pos >= this.text.length;
  }

  /** Consume one exact character. */
  expect(ch: string, what = `"${ch}"`): void {
    if (this.peek() !== ch) throw new ParseError(`Expected ${what}`);
    this.pos++;
  }

  /** Consume the character if present. */
  accept(ch: string): boolean {
    if (this.peek() !== ch) return false;
    this.pos++;
    return true;
  }

  /** Exactly one space. */
  sp(): void {
    this.expect(' ', 'a space');
  }

  /** The end of the command. */
  end(): void {
    if (!this.atEnd()) throw new ParseError('Unexpected extra arguments');
  }

  /** Characters matching `re` (one or more). */
  private run(re: RegExp, what: string): string {
    const t = this.text;
    const start = this.pos;
    while (this.pos < t.length && re.test(t[this.pos]!)) this.pos++;
    if (this.pos === start) throw new ParseError(`Expected ${what}`);
    return t.slice(start, this.pos);
  }

  /** An atom. */
  atom(what = 'an atom'): string {
    return this.run(ATOM_CHAR, what);
  }

  /** A keyword made of letters, digits, dots and dashes (command names, fetch attributes). */
  name(what = 'a keyword'): string {
    return this.run(/[A-Za-z0-9.-]/, what);
  }

  /** The position, to go back to with restore(). */
  snapshot(): [number, number] {
    return [this.i, this.pos];
  }

  /** Go back to a snapshot. */
  restore(s: [number, number]): void {
    [this.i, this.pos] = s;
  }

  /** Step back one character in the current text. */
  back(): void {
    if (this.pos > 0) this.pos--;
  }

  /** An atom that may contain list wildcards (% and *) and ']' (LIST patterns). */
  listChars(): string {
    return this.run(LIST_CHAR, 'a mailbox pattern');
  }

  /** A run of characters up to a space, ')' or the end (sequence sets, dates, numbers). */
  word(what: string): string {
    return this.run(/[^\x00-\x20()]/, what);
  }

  /** A number (RFC 3501 number: up to 2^32-1; modseqs up to 2^63-1 use `bigNumber`). */
  number(what = 'a number', max = 0xffffffff): number {
    const w = this.run(/[0-9]/, what);
    const n = Number(w);
    if (!Number.isSafeInteger(n) || n > max) throw new ParseError(`${what} out of range`);
    return n;
  }

  /** A 63-bit mod-sequence value, as a JS number (safe up to 2^53). */
  bigNumber(what = 'a mod-sequence'): number {
    return this.number(what, Number.MAX_SAFE_INTEGER);
  }

  /** A quoted string (with \\ and \" escapes) or a literal. */
  string(what = 'a string'): string {
    return this.stringBytes(what).toString('utf8');
  }

  /** A string as bytes (literal contents are returned as sent). */
  stringBytes(what = 'a string'): Buffer {
    const c = this.peek();
    if (c === '"') return Buffer.from(this.quoted(), 'utf8');
    if (c === '' && this.literalNext()) return this.literal();
    throw new ParseError(`Expected ${what}`);
  }

  /** Whether a literal follows at this point. */
  literalNext(): boolean {
    return this.pos >= this.text.length && Buffer.isBuffer(this.parts[this.i + 1]);
  }

  /** The literal that follows (the `{n}` text was removed by the reader). */
  literal(): Buffer {
    if (!this.literalNext()) throw new ParseError('Expected a literal');
    const buf = this.parts[this.i + 1] as Buffer;
    this.i += 2;
    this.pos = 0;
    if (this.i >= this.parts.length) throw new ParseError('Missing end of command after literal');
    return buf;
  }

  private quoted(): string {
    const t = this.text;
    let out = '';
    let p = this.pos + 1;
    while (p < t.length) {
      const c = t[p]!;
      if (c === '"') {
        this.pos = p + 1;
        return out;
      }
      if (c === '\\') {
        const n = t[p + 1];
        if (n !== '"' && n !== '\\') throw new ParseError('Bad escape in quoted string');
        out += n;
        p += 2;
        continue;
      }
      if (c === '\r' || c === '\n' || c === '\0') throw new ParseError('Bad character in quoted string');
      out += c;
      p++;
    }
    throw new ParseError('Unterminated quoted string');
  }

  /** An astring: atom (']' allowed), quoted string or literal. */
  astring(what = 'a string'): string {
    const c = this.peek();
    if (c === '"' || (c === '' && this.literalNext())) return this.string(what);
    return this.run(ASTRING_CHAR, what);
  }

  /** NIL or a string. */
  nstring(what = 'a string'): string | null {
    if (/^nil$/i.test(this.text.slice(this.pos, this.pos + 3)) && !ATOM_CHAR.test(this.text[this.pos + 3] ?? ' ')) {
      this.pos += 3;
      return null;
    }
    return this.string(what);
  }

  /** A mailbox name or LIST pattern: astring or list-chars. */
  listMailbox(): string {
    const c = this.peek();
    if (c === '"' || (c === '' && this.literalNext())) return this.string('a mailbox pattern');
    return this.listChars();
  }

  /** A parenthesized list read element by element with `item`; `()` gives []. */
  list<T>(item: () => T, what = 'a list'): T[] {
    this.expect('(', what);
    const out: T[] = [];
    if (this.accept(')')) return out;
    for (;;) {
      out.push(item());
      if (this.accept(')')) return out;
      this.sp();
    }
  }

  /** A flag: `\Word` or an atom keyword. */
  flag(): string {
    if (this.accept('\\')) {
      if (this.accept('*')) return '\\*';
      return `\\${this.atom('a flag name')}`;
    }
    return this.atom('a flag');
  }
}
