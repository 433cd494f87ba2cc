/*
 * DATA stream decoder (RFC 5321 4.1.1.4, 4.5.2).
 *
 * Termination rule: the message ends at the first byte sequence CR LF "." CR LF, where a CR LF is assumed just
 * before the first byte (so ".\r\n" alone is an empty message). Nothing else ends it: "\n.\n", "\r\n.\n",
 * "\n.\r\n", "\r.\r" and friends are ordinary content. Accepting any of them would let a sender smuggle a second
 * message past a downstream server that disagrees about where this one ends.
 *
 * Bare line endings: a CR not followed by LF, or an LF not preceded by CR.
 *  - 'reject': flags bareLineEnding and stops emitting (the session rejects the message).
 *  - 'normalize': each bare CR or bare LF becomes CR LF in the output. The line after a bare ending is a normal
 *    line for dot-unstuffing, but it can never end the message, because only real CR LF "." CR LF does.
 *    So "a\n.\r\nb\r\n.\r\n" decodes to "a\r\n\r\nb\r\n" (the lone "." line is unstuffed to an empty line).
 *
 * Dot-unstuffing: every line (however the previous one ended) that begins with "." loses that first ".".
 * Line length counts the line as transmitted (stuffing dot included) plus 2 for its CRLF.
 * Once any failure flag is set nothing more is emitted, but scanning continues so the session can find the end
 * of the message and answer in sync with the client.
 */

export interface DataDecoderOptions {
  maxSize: number;
  maxLineLength: number;
  bareLineEndings: 'reject' | 'normalize';
}

export interface DataPushResult {
  /** Decoded body bytes; each is a subarray of the input or a fresh buffer, so callers may retain it. */
  chunks: Buffer[];
  done: boolean;
  /** Bytes after the terminator (pipelined commands); null when not done or when nothing followed it. */
  rest: Buffer | null;
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const NUL = 0x00;

// Where we are relative to the current line; only these few scalars survive between pushes.
const START = 0; // at the first byte of a line
const DOT_SEEN = 1; // an eligible line began with "."; the dot has been dropped
const DOT_CR = 2; // ...followed by CR, which has not been emitted yet
const MID = 3; // inside a line
const CR_SEEN = 4; // a CR inside a line was emitted; waiting to see if LF follows
const DONE = 5;

/** Incremental decoder for the DATA phase: finds the terminator, unstuffs dots, enforces limits. */
export class DataDecoder {
  private state = START;
  /** The current line started right after a real CR LF, so it may be the terminator line. */
  private eligible = true;
  private lineLen = 0;
  private bytes = 0;
  private over = false;
  private tooLong = false;
  private bare = false;
  private sawNul = false;

  constructor(private readonly opts: DataDecoderOptions) {}

  get size(): number {
    return this.bytes;
  }
  get overSize(): boolean {
    return this.over;
  }
  get lineTooLong(): boolean {
    return this.tooLong;
  }
  get bareLineEnding(): boolean {
    return this.bare;
  }
  get nul(): boolean {
    return this.sawNul;
  }
  get failed(): boolean {
    return this.over || this.tooLong || this.bare || this.sawNul;
  }

  /** Feed the next bytes from the socket. After done, further input is returned untouched as rest. */
  push(chunk: Buffer): DataPushResult {
    if (this.state === DONE) return { chunks: [], done: true, rest: chunk.length > 0 ? chunk : null };
    const out: Buffer[] = [];
    const n = chunk.length;
    const normalize = this.opts.bareLineEndings === 'normalize';
    let seg = 0; // start of the not yet emitted run of verbatim input
    // Cached positions of the next special bytes keep scanning linear however the lines are laid out.
    let nextCr = -1;
    let nextLf = -1;
    let nextNul = -1;
    const flush = (end: number): void => {
      if (end > seg) this.emit(chunk.subarray(seg, end), out);
      seg = end;
    };
    // Flushing before a flag is raised keeps the output identical however the input is split.
    const bareEnding = (i: number): void => {
      flush(i);
      this.state = START;
      this.eligible = false;
      this.lineLen = 0;
      if (!normalize) this.bare = true;
    };

    let i = 0;
    while (i < n) {
      const b = chunk[i]!;
      switch (this.state) {
        case START:
          if (b === DOT) {
            this.content(i, 1, flush);
            flush(i);
            seg = i + 1;
            this.state = this.eligible ? DOT_SEEN : MID;
            i++;
          } else {
            this.state = MID;
          }
          break;
        case DOT_SEEN:
          if (b === CR) {
            flush(i);
            seg = i + 1;
            this.state = DOT_CR;
            i++;
          } else {
            this.state = MID;
          }
          break;
        case DOT_CR:
          if (b === LF) {
            flush(i);
            this.state = DONE;
            const rest = chunk.subarray(i + 1);
            return { chunks: out, done: true, rest: rest.length > 0 ? rest : null };
          }
          // ".\r" then something else: the held-back CR was a bare one and is content after all.
          flush(i);
          this.emit(Buffer.from('\r'), out);
          if (normalize) this.emit(Buffer.from('\n'), out);
          bareEnding(i);
          break;
        case CR_SEEN:
          if (b === LF) {
            this.state = START;
            this.eligible = true;
            this.lineLen = 0;
            i++;
          } else {
            flush(i);
            if (normalize) this.emit(Buffer.from('\n'), out);
            bareEnding(i);
          }
          break;
        default: // MID
          if (b === CR) {
            this.state = CR_SEEN;
            i++;
          } else if (b === LF) {
            flush(i);
            if (normalize) this.emit(Buffer.from('\r'), out);
            bareEnding(i);
            // The LF itself stays in the next verbatim run.
            seg = i;
            i++;
          } else if (b === NUL) {
            this.content(i, 1, flush);
            flush(i);
            this.sawNul = true;
            i++;
          } else {
            if (nextCr < i) nextCr = indexOr(chunk, CR, i);
            if (nextLf < i) nextLf = indexOr(chunk, LF, i);
            if (nextNul < i) nextNul = indexOr(chunk, NUL, i);
            const end = Math.min(nextCr, nextLf, nextNul);
            this.content(i, end - i, flush);
            i = end;
          }
      }
    }
    flush(n);
    return { chunks: out, done: false, rest: null };
  }

  /** Account for `count` line octets starting at `at`; flags the first octet that makes the line too long. */
  private content(at: number, count: number, flush: (end: number) => void): void {
    const allowed = this.opts.maxLineLength - 2;
    if (!this.tooLong && this.lineLen + count > allowed) {
      flush(at + Math.max(0, allowed - this.lineLen));
      this.tooLong = true;
    }
    this.lineLen += count;
  }

  private emit(buf: Buffer, out: Buffer[]): void {
    const before = this.bytes;
    const wasFailed = this.failed;
    this.bytes += buf.length;
    if (this.bytes > this.opts.maxSize) this.over = true;
    if (wasFailed) return;
    // Emitting exactly up to the limit keeps the output independent of how the input was chunked.
    if (this.over) {
      const fit = this.opts.maxSize - before;
      if (fit > 0) out.push(buf.subarray(0, fit));
    } else {
      out.push(buf);
    }
  }
}

function indexOr(buf: Buffer, byte: number, from: number): number {
  const at = buf.indexOf(byte, from);
  return at < 0 ? buf.length : at;
}
