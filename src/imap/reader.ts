/** A complete command as it arrived: text segments with the literal bytes between them. */
export type CommandParts = (string | Buffer)[];

/** What the reader found in the bytes given to it, in order. */
export type ReaderEvent =
  /** A whole command (all its literals read). */
  | { type: 'command'; parts: CommandParts }
  /** A synchronizing literal was announced and accepted: send `+ Ready for literal data`. */
  | { type: 'continue' }
  /**
   * A literal over the limit was announced. `sync` literals are refused before any byte is
   * sent; a non-synchronizing one is already on its way and is skipped without being kept.
   * Either way the command is answered `NO [TOOBIG]` and the connection goes on.
   */
  | { type: 'toobig'; tag: string; size: number }
  /** A command line longer than the line limit; the rest of the command is dropped. */
  | { type: 'toolong'; tag: string };

export interface ReaderLimits {
  /** Longest command text (all lines and small literals together), in octets. */
  commandSize: number;
  /** Largest literal an APPEND may carry (the message size limit). */
  appendSize: number;
}

const LITERAL_AT_END = /(~?)\{(\d{1,20})(\+?)\}$/;

/**
 * Splits IMAP input into commands: lines end with CRLF (a bare LF is tolerated), a line ending in
 * `{n}` or `{n+}` is followed by n octets of literal data that belong to the same command.
 * Memory stays bounded: an over-long line is dropped as it arrives and a literal is refused
 * from its announced size before it is read.
 */
export class CommandReader {
  private parts: CommandParts = [];
  private pending: Buffer[] = [];
  private pendingSize = 0;
  private commandSize = 0;
  /** Octets of literal still expected, and whether they are kept or skipped. */
  private literalLeft = 0;
  private literalChunks: Buffer[] = [];
  private skipping = false;
  /** Dropping an over-long line until its end. */
  private discardLine = false;
  private limits: ReaderLimits;

  constructor(limits: ReaderLimits) {
    this.limits = limits;
  }

  /** Feed bytes; returns what was completed. */
  push(chunk: Buffer): ReaderEvent[] {
    const events: ReaderEvent[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, chunk.length - pos);
        if (!this.skipping) this.literalChunks.push(chunk.subarray(pos, pos + take));
        this.literalLeft -= take;
        pos += take;
        if (this.literalLeft === 0) {
          if (!this.skipping) this.parts.push(Buffer.concat(this.literalChunks));
          this.literalChunks = [];
        }
        continue;
      }
      const lf = chunk.indexOf(0x0a, pos);
      const end = lf === -1 ? chunk.length : lf + 1;
      const piece = chunk.subarray(pos, end);
      pos = end;
      if (this.discardLine) {
        if (lf !== -1) this.discardLine = false;
        continue;
      }
      this.pending.push(piece);
      this.pendingSize += piece.length;
      if (lf === -1) {
        if (this.commandSize + this.pendingSize > this.limits.commandSize) {
          events.push({ type: 'toolong', tag: this.currentTag() });
          this.reset();
          this.discardLine = true;
        }
        continue;
      }
      const ev = this.lineDone();
      if (ev) events.push(ev);
    }
    return events;
  }

  /** Forget any half-read command (after STARTTLS, the clear-text leftovers must not be used). */
  reset(): void {
    this.parts = [];
    this.pending = [];
    this.pendingSize = 0;
    this.commandSize = 0;
    this.literalLeft = 0;
    this.literalChunks = [];
    this.skipping = false;
  }

  /** Whether a command is half-read (bytes waiting for their end). */
  get busy(): boolean {
    return this.parts.length > 0 || this.pendingSize > 0 || this.literalLeft > 0;
  }

  private lineDone(): ReaderEvent | null {
    let line = Buffer.concat(this.pending).toString('utf8');
    this.pending = [];
    this.commandSize += this.pendingSize;
    this.pendingSize = 0;
    line = line.endsWith('\r\n') ? line.slice(0, -2) : line.slice(0, -1);
    if (this.commandSize > this.limits.commandSize) {
      const tag = this.tagOf(line);
      this.reset();
      return { type: 'toolong', tag };
    }
    const m = LITERAL_AT_END.exec(line);
    if (this.skipping) {
      // The line after a skipped literal ends the refused command; its own literals are skipped too.
      if (!m) {
        this.reset();
        return null;
      }
      this.literalLeft = Number(m[2]);
      return null;
    }
    if (!m) {
      this.parts.push(line);
      const parts = this.parts;
      this.reset();
      return { type: 'command', parts };
    }
    const size = Number(m[2]);
    const sync = m[3] !== '+';
    this.parts.push(line.slice(0, m.index + m[1]!.length));
    const max = this.isAppend() ? this.limits.appendSize : this.limits.commandSize - this.commandSize;
    if (size > max || !Number.isSafeInteger(size)) {
      const tag = this.currentTag();
      if (sync) {
        this.reset();
      } else {
        this.parts = [];
        this.skipping = true;
        this.literalLeft = size;
      }
      return { type: 'toobig', tag, size };
    }
    if (!this.isAppend()) this.commandSize += size;
    this.literalLeft = size;
    if (size === 0) this.parts.push(Buffer.alloc(0));
    return sync ? { type: 'continue' } : null;
  }

  private isAppend(): boolean {
    const first = this.parts[0];
    if (typeof first !== 'string') return false;
    return /^\S+ APPEND /i.test(first);
  }

  private currentTag(): string {
    const first = this.parts[0] ?? Buffer.concat(this.pending).toString('utf8');
    return typeof first === 'string' ? this.tagOf(first) : '*';
  }

  private tagOf(line: string): string {
    const m = /^([\x21-\x7e]+) /.exec(line);
    const tag = m?.[1] ?? '*';
    return /[{%*"\\(]/.test(tag) ? '*' : tag;
  }
}
