import { expect } from 'vitest';
import { DataDecoder, type DataDecoderOptions } from '../../src/smtp/data.js';

export const roomy: DataDecoderOptions = { maxSize: 1 << 20, maxLineLength: 1 << 20, bareLineEndings: 'normalize' };

export interface Decoded {
  body: string;
  done: boolean;
  rest: string | null;
  decoder: DataDecoder;
}

/** Feed `input` to a fresh decoder in pieces ending at `cuts`, as latin1 so every byte maps to one char. */
export function decode(input: string | Buffer, opts: Partial<DataDecoderOptions> = {}, cuts: number[] = []): Decoded {
  const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const decoder = new DataDecoder({ ...roomy, ...opts });
  const chunks: Buffer[] = [];
  let done = false;
  let rest: Buffer | null = null;
  let from = 0;
  for (const to of [...cuts, buf.length]) {
    const r = decoder.push(buf.subarray(from, to));
    chunks.push(...r.chunks);
    if (r.done) {
      // Whatever was not yet pushed is part of the rest too.
      done = true;
      rest = Buffer.concat([r.rest ?? Buffer.alloc(0), buf.subarray(to)]);
      break;
    }
    expect(r.rest).toBeNull();
    from = to;
  }
  return {
    body: Buffer.concat(chunks).toString('latin1'),
    done,
    rest: rest === null || rest.length === 0 ? (done ? '' : null) : rest.toString('latin1'),
    decoder,
  };
}

/** Every way of cutting `input` into two pieces, plus one-byte-at-a-time. */
export function allSplits(length: number): number[][] {
  const out: number[][] = [[], Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1)];
  for (let i = 0; i <= length; i++) out.push([i]);
  return out;
}

/**
 * Whole-buffer model of the decoder for input without NULs or over-long lines, written as directly from the
 * documented rule as possible: the message is everything up to the first CRLF.CRLF (with a CRLF assumed in
 * front); every CR LF, bare CR or bare LF ends a line; each line loses one leading dot and gets CRLF.
 */
export function referenceDecode(input: string): { body: string; done: boolean; rest: string | null } {
  const s = `\r\n${input}`;
  const end = s.indexOf('\r\n.\r\n');
  if (end < 0) return { body: '', done: false, rest: null };
  const message = s.slice(2, end + 2);
  const lines = message === '' ? [] : message.split(/\r\n|\r|\n/).slice(0, -1);
  return {
    body: lines.map((l) => `${l.startsWith('.') ? l.slice(1) : l}\r\n`).join(''),
    done: true,
    rest: s.slice(end + 5),
  };
}

/** Dot-stuff a CRLF-normalized body and add the terminator, as a sending client would. */
export function dotStuff(body: string): string {
  return body.replace(/(^|\r\n)\./g, '$1..') + '.\r\n';
}
