import { describe, expect, it } from 'vitest';
import { allSplits, decode } from './data-helpers.js';

// Each fake terminator is followed by a smuggled transaction; none of it may end the message early.
const SMUGGLED = 'MAIL FROM:<evil@x.test>\r\nRCPT TO:<victim@y.test>\r\nDATA\r\nevil\r\n';
const FAKE_TERMINATORS: [name: string, bytes: string][] = [
  ['LF . LF', '\n.\n'],
  ['CRLF . LF', '\r\n.\n'],
  ['LF . CRLF', '\n.\r\n'],
  ['CR . CR', '\r.\r'],
  ['CR . CRLF', '\r.\r\n'],
  ['CRLF . CR', '\r\n.\r'],
  ['LF . CR', '\n.\r'],
  ['CR . LF', '\r.\n'],
  ['CRLF . CR CRLF', '\r\n.\r\r\n'],
  ['CRLF . LF CRLF', '\r\n.\n\r\n'],
  ['CRLF . NUL CRLF', '\r\n.\0\r\n'],
  ['CRLF NUL . CRLF', '\r\n\0.\r\n'],
  ['CRLF SP . CRLF', '\r\n .\r\n'],
  ['CRLF . SP CRLF', '\r\n. \r\n'],
  ['CRLF .. CRLF', '\r\n..\r\n'],
  ['LF LF . LF LF', '\n\n.\n\n'],
];

describe('DATA smuggling: only CRLF . CRLF ends the message', () => {
  for (const [name, fake] of FAKE_TERMINATORS) {
    const input = `Subject: hi\r\n\r\nbody${fake}${SMUGGLED}`;

    it(`${name} does not terminate (normalize)`, () => {
      const r = decode(input);
      expect(r.done).toBe(false);
      // Completing the message with a real terminator keeps the smuggled lines inside the body.
      const full = decode(`${input}.\r\n`);
      expect(full.done).toBe(true);
      expect(full.rest).toBe('');
      if (fake.includes('\0')) {
        // NUL poisons the message; the session rejects it once the real end arrives.
        expect(full.decoder.nul).toBe(true);
      } else {
        expect(full.body).toContain('MAIL FROM:<evil@x.test>\r\n');
        expect(full.body.endsWith('evil\r\n')).toBe(true);
      }
    });

    it(`${name} does not terminate (reject)`, () => {
      const full = decode(`${input}.\r\n`, { bareLineEndings: 'reject' });
      expect(full.done).toBe(true);
      expect(full.rest).toBe('');
    });

    it(`${name} does not terminate at any split point`, () => {
      for (const cuts of allSplits(input.length)) {
        expect(decode(input, {}, cuts).done).toBe(false);
        expect(decode(input, { bareLineEndings: 'reject' }, cuts).done).toBe(false);
      }
    });
  }

  it('flags bare line endings in reject mode and emits nothing after them', () => {
    for (const [name, fake] of FAKE_TERMINATORS) {
      if (!/\r(?!\n)|(?<!\r)\n/.test(fake)) continue;
      const r = decode(`a${fake}b\r\n.\r\n`, { bareLineEndings: 'reject' });
      expect(r.decoder.bareLineEnding, name).toBe(true);
      expect(r.decoder.failed, name).toBe(true);
      expect(r.body, name).not.toContain('b');
    }
  });

  it('normalizes bare endings without ever creating a terminator', () => {
    expect(decode('a\n.\nb\r\n.\r\n').body).toBe('a\r\n\r\nb\r\n');
    expect(decode('a\r\n.\nb\r\n.\r\n').body).toBe('a\r\n\r\nb\r\n');
    expect(decode('a\n.\r\nb\r\n.\r\n').body).toBe('a\r\n\r\nb\r\n');
    expect(decode('a\r.\rb\r\n.\r\n').body).toBe('a\r\n\r\nb\r\n');
    expect(decode('a\r\n.\r\r\n.\r\n').body).toBe('a\r\n\r\n\r\n');
  });

  it('terminates when a bare CR is followed by a real CRLF . CRLF', () => {
    // The bytes CR LF . CR LF do occur here, after the bare CR.
    const r = decode('a\r\r\n.\r\nQUIT\r\n');
    expect(r).toMatchObject({ done: true, body: 'a\r\n\r\n', rest: 'QUIT\r\n' });
    const rejected = decode('a\r\r\n.\r\nQUIT\r\n', { bareLineEndings: 'reject' });
    expect(rejected).toMatchObject({ done: true, rest: 'QUIT\r\n' });
    expect(rejected.decoder.bareLineEnding).toBe(true);
  });

  it('terminates after a bare LF once a real CRLF follows', () => {
    expect(decode('a\n\r\n.\r\n')).toMatchObject({ done: true, body: 'a\r\n\r\n', rest: '' });
  });

  it('does not treat a leading LF . LF as the end of an empty message', () => {
    expect(decode('\n.\n').done).toBe(false);
    expect(decode('.\n').done).toBe(false);
    expect(decode('.\r').done).toBe(false);
    expect(decode('.\r.\r\n').done).toBe(false);
  });
});
