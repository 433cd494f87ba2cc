import { describe, expect, it } from 'vitest';
import { DataDecoder } from '../../src/smtp/data.js';
import { allSplits, decode, dotStuff, roomy } from './data-helpers.js';

describe('DataDecoder: termination and rest', () => {
  it('treats ".\\r\\n" alone as an empty message', () => {
    expect(decode('.\r\n')).toMatchObject({ body: '', done: true, rest: '' });
  });

  it('keeps the CRLF that ends the last line', () => {
    expect(decode('hello\r\n.\r\n')).toMatchObject({ body: 'hello\r\n', done: true });
    expect(decode('\r\n.\r\n')).toMatchObject({ body: '\r\n', done: true });
  });

  it('returns pipelined bytes after the terminator as rest', () => {
    const r = decode('a\r\n.\r\nMAIL FROM:<b@c.test>\r\nRCPT TO:<d@e.test>\r\n');
    expect(r).toMatchObject({ body: 'a\r\n', done: true, rest: 'MAIL FROM:<b@c.test>\r\nRCPT TO:<d@e.test>\r\n' });
  });

  it('reports rest as null when nothing follows the terminator', () => {
    const d = new DataDecoder(roomy);
    expect(d.push(Buffer.from('a\r\n.\r\n'))).toEqual({ chunks: [Buffer.from('a\r\n')], done: true, rest: null });
  });

  it('hands later input back untouched once done', () => {
    const d = new DataDecoder(roomy);
    d.push(Buffer.from('.\r\n'));
    const more = Buffer.from('QUIT\r\n');
    expect(d.push(more)).toEqual({ chunks: [], done: true, rest: more });
    expect(d.push(Buffer.alloc(0))).toEqual({ chunks: [], done: true, rest: null });
  });

  it('is not done while the terminator is incomplete', () => {
    for (const partial of ['a', 'a\r', 'a\r\n', 'a\r\n.', 'a\r\n.\r', '.', '.\r']) {
      expect(decode(partial).done, JSON.stringify(partial)).toBe(false);
    }
  });

  it('handles empty pushes', () => {
    const d = new DataDecoder(roomy);
    expect(d.push(Buffer.alloc(0))).toEqual({ chunks: [], done: false, rest: null });
  });
});

describe('DataDecoder: dot-unstuffing', () => {
  it('removes exactly one leading dot per line', () => {
    expect(decode('..\r\n.\r\n').body).toBe('.\r\n');
    expect(decode('..x\r\n...\r\n.\r\n').body).toBe('.x\r\n..\r\n');
    expect(decode('.x\r\n.\r\n').body).toBe('x\r\n');
  });

  it('leaves dots elsewhere in the line alone', () => {
    expect(decode('a.b.\r\n a\r\n.\r\n').body).toBe('a.b.\r\n a\r\n');
  });

  it('unstuffs identically at every chunk edge', () => {
    const body = '.\r\n..\r\n.a.\r\nx\r\n...\r\n\r\n.\r\n';
    const input = dotStuff(body);
    for (const cuts of allSplits(input.length)) {
      expect(decode(input, {}, cuts), JSON.stringify(cuts)).toMatchObject({ body, done: true, rest: '' });
    }
  });

  it('splits rest correctly at every chunk edge', () => {
    const input = 'a\r\n..\r\n.\r\nQUIT\r\n';
    for (const cuts of allSplits(input.length)) {
      expect(decode(input, {}, cuts)).toMatchObject({ body: 'a\r\n.\r\n', done: true, rest: 'QUIT\r\n' });
    }
  });
});

describe('DataDecoder: bare line endings', () => {
  it('normalizes bare CR and bare LF to CRLF', () => {
    expect(decode('a\nb\rc\r\n.\r\n').body).toBe('a\r\nb\r\nc\r\n');
    expect(decode('a\r\rb\n\nc\r\n.\r\n').body).toBe('a\r\n\r\nb\r\n\r\nc\r\n');
    // The "." line follows a bare LF, so it is content (an unstuffed empty line), not the terminator.
    expect(decode('\n.\r\n')).toMatchObject({ body: '\r\n\r\n', done: false });
  });

  it('unstuffs lines that follow a bare ending', () => {
    expect(decode('a\n..b\r\n.\r\n').body).toBe('a\r\n.b\r\n');
  });

  it('rejects instead when asked to, but still finds the end', () => {
    const r = decode('a\r\nb\nc\r\n.\r\nQUIT\r\n', { bareLineEndings: 'reject' });
    expect(r).toMatchObject({ done: true, rest: 'QUIT\r\n', body: 'a\r\nb' });
    expect(r.decoder.bareLineEnding).toBe(true);
    expect(r.decoder.failed).toBe(true);
    const cr = decode('a\rb\r\n.\r\n', { bareLineEndings: 'reject' });
    expect(cr.decoder.bareLineEnding).toBe(true);
    expect(cr.body).toBe('a\r');
  });

  it('does not flag clean input', () => {
    const r = decode('a\r\nb\r\n.\r\n', { bareLineEndings: 'reject' });
    expect(r.decoder.failed).toBe(false);
    expect(r.decoder.bareLineEnding).toBe(false);
  });

  it('hands out fresh buffers for inserted line-ending bytes', () => {
    const first = new DataDecoder(roomy).push(Buffer.from('a\nb'));
    for (const c of first.chunks) c.fill(0x21);
    expect(decode('a\nb\r\n.\r\n').body).toBe('a\r\nb\r\n');
  });
});

describe('DataDecoder: size', () => {
  it('counts decoded octets (no stuffing dots, no terminator, normalized endings)', () => {
    expect(decode('..ab\r\n.\r\n').decoder.size).toBe(5);
    expect(decode('a\nb\r\n.\r\n').decoder.size).toBe(6);
    expect(decode('.\r\n').decoder.size).toBe(0);
  });

  it('allows exactly maxSize octets', () => {
    const r = decode('abc\r\n.\r\n', { maxSize: 5 });
    expect(r.decoder.overSize).toBe(false);
    expect(r.body).toBe('abc\r\n');
  });

  it('flags one octet more, emits at most maxSize, keeps counting and scanning', () => {
    const input = 'abcd\r\nmore lines\r\n.\r\nQUIT\r\n';
    for (const cuts of allSplits(input.length)) {
      const r = decode(input, { maxSize: 5 }, cuts);
      expect(r.decoder.overSize).toBe(true);
      expect(r.decoder.failed).toBe(true);
      expect(r.body).toBe('abcd\r');
      expect(r.decoder.size).toBe(18);
      expect(r).toMatchObject({ done: true, rest: 'QUIT\r\n' });
    }
  });
});

describe('DataDecoder: line length', () => {
  const opts = { maxLineLength: 10 };

  it('allows lines of maxLineLength octets including CRLF', () => {
    const r = decode(`${'x'.repeat(8)}\r\n.\r\n`, opts);
    expect(r.decoder.lineTooLong).toBe(false);
    expect(r.body).toBe(`${'x'.repeat(8)}\r\n`);
  });

  it('flags a longer line, stops emitting and still finds the end', () => {
    const input = `ok\r\n${'x'.repeat(9)}\r\nafter\r\n.\r\nQUIT\r\n`;
    for (const cuts of allSplits(input.length)) {
      const r = decode(input, opts, cuts);
      expect(r.decoder.lineTooLong).toBe(true);
      expect(r.body).toBe(`ok\r\n${'x'.repeat(8)}`);
      expect(r).toMatchObject({ done: true, rest: 'QUIT\r\n' });
    }
  });

  it('counts the stuffing dot, as it is on the wire', () => {
    expect(decode(`.${'x'.repeat(7)}\r\n.\r\n`, opts).decoder.lineTooLong).toBe(false);
    expect(decode(`.${'x'.repeat(8)}\r\n.\r\n`, opts).decoder.lineTooLong).toBe(true);
  });

  it('measures each line separately, including after bare endings', () => {
    const r = decode(`${'x'.repeat(8)}\n${'y'.repeat(8)}\r${'z'.repeat(8)}\r\n.\r\n`, opts);
    expect(r.decoder.lineTooLong).toBe(false);
  });
});

describe('DataDecoder: NUL', () => {
  it('flags NUL, stops emitting and still finds the end', () => {
    const input = 'ab\r\nc\0d\r\n.\r\nQUIT\r\n';
    for (const cuts of allSplits(input.length)) {
      const r = decode(input, {}, cuts);
      expect(r.decoder.nul).toBe(true);
      expect(r.decoder.failed).toBe(true);
      expect(r.body).toBe('ab\r\nc');
      expect(r).toMatchObject({ done: true, rest: 'QUIT\r\n' });
    }
  });

  it('flags NUL at the start of a line and after a dot', () => {
    expect(decode('\0\r\n.\r\n').decoder.nul).toBe(true);
    expect(decode('.\0\r\n.\r\n').decoder.nul).toBe(true);
  });
});

describe('DataDecoder: bounded memory and zero-copy', () => {
  it('streams a 100 MB line without a newline, keeping state bounded', () => {
    const block = Buffer.alloc(1 << 20, 0x61);
    const d = new DataDecoder({ maxSize: 10 << 20, maxLineLength: 1000, bareLineEndings: 'reject' });
    let emitted = 0;
    for (let i = 0; i < 100; i++) {
      const r = d.push(block);
      expect(r.done).toBe(false);
      emitted += r.chunks.reduce((n, c) => n + c.length, 0);
    }
    expect(d.lineTooLong).toBe(true);
    expect(d.size).toBe(100 << 20);
    expect(emitted).toBe(998);
    expect(d.push(Buffer.from('\r\n.\r\n'))).toMatchObject({ done: true, rest: null });
    // Nothing of the input may be kept: the decoder's own fields are a handful of scalars.
    const state = Object.entries(d).filter(([key]) => key !== 'opts');
    expect(state.every(([, v]) => typeof v === 'number' || typeof v === 'boolean')).toBe(true);
  });

  it('counts size past the limit on a long stream', () => {
    const block = Buffer.from('0123456789abcd\r\n'.repeat(65536));
    const d = new DataDecoder({ maxSize: 1000, maxLineLength: 1000, bareLineEndings: 'reject' });
    const emitted = Array.from({ length: 10 }, () => d.push(block).chunks.reduce((n, c) => n + c.length, 0));
    expect(emitted).toEqual([1000, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(d.size).toBe(block.length * 10);
    expect(d.overSize).toBe(true);
  });

  it('emits subarrays of the input when nothing needs rewriting', () => {
    const input = Buffer.from('line one\r\nline two\r\n.\r\n');
    const r = new DataDecoder(roomy).push(input);
    expect(r.chunks.length).toBe(1);
    expect(r.chunks[0]!.buffer).toBe(input.buffer);
  });
});
