import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/imap/parser/command.js';
import { parseDateTime } from '../../src/imap/parser/dates.js';
import { formatSequenceSet, parseSequenceSet, selectFromSet } from '../../src/imap/parser/sequence.js';
import { CommandReader } from '../../src/imap/reader.js';

function parse(line: string, ...literals: Buffer[]) {
  const parts: (string | Buffer)[] = [];
  const segments = line.split('\u0000');
  segments.forEach((s, i) => {
    parts.push(s);
    if (i < segments.length - 1) parts.push(literals[i]!);
  });
  return parseCommand(parts);
}

function command(line: string, ...literals: Buffer[]) {
  const r = parse(line, ...literals);
  if (!r.ok) throw new Error(r.text);
  return r.command;
}

describe('IMAP command parser', () => {
  it('reads tags, simple commands and LOGIN with quoted strings and literals', () => {
    expect(command('a1 CAPABILITY')).toEqual({ name: 'CAPABILITY' });
    expect(command('a2 login "al\\"ice" secret')).toEqual({ name: 'LOGIN', user: 'al"ice', password: 'secret' });
    expect(command('a3 LOGIN \u0000 pw', Buffer.from('bob@example.com'))).toEqual({
      name: 'LOGIN',
      user: 'bob@example.com',
      password: 'pw',
    });
  });

  it('answers BAD with a reason for bad syntax', () => {
    const r = parse('a1 LOGIN onlyuser');
    expect(r).toMatchObject({ ok: false, tag: 'a1' });
    expect(parse('a1 FROB')).toMatchObject({ ok: false, text: expect.stringContaining('Unknown command') });
    expect(parse('a1 NOOP extra')).toMatchObject({ ok: false, text: expect.stringContaining('extra') });
    expect(parse('a1 LOGIN "unterminated')).toMatchObject({ ok: false });
    expect(parse('{x} NOOP')).toMatchObject({ ok: false, tag: '*' });
  });

  it('parses FETCH attributes, sections and partial ranges', () => {
    const c = command(
      'a UID FETCH 1:*,5 (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (From "To")]<0.100> BINARY[1] RFC822.SIZE)',
    );
    expect(c).toMatchObject({
      name: 'FETCH',
      uid: true,
      set: [
        { from: 1, to: null },
        { from: 5, to: 5 },
      ],
      atts: [
        { type: 'FLAGS' },
        {
          type: 'BODY[]',
          peek: true,
          section: { part: [1, 2], kind: 'HEADER.FIELDS', fields: ['FROM', 'TO'] },
          partial: { start: 0, length: 100 },
        },
        { type: 'BINARY', peek: false, part: [1], partial: null },
        { type: 'RFC822.SIZE' },
      ],
    });
    expect(command('a FETCH 1 ALL')).toMatchObject({ atts: [{ type: 'FLAGS' }, {}, {}, { type: 'ENVELOPE' }] });
    expect(command('a FETCH 1 BODY[]')).toMatchObject({
      atts: [{ type: 'BODY[]', section: { part: [], kind: 'full' } }],
    });
    expect(command('a FETCH 2 BODY[3.MIME]')).toMatchObject({ atts: [{ section: { part: [3], kind: 'MIME' } }] });
    expect(command('a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12 VANISHED)')).toMatchObject({
      changedSince: 12,
      vanished: true,
    });
    expect(parse('a FETCH 1 BODY[MIME]')).toMatchObject({ ok: false });
    expect(parse('a FETCH 0:1 FLAGS')).toMatchObject({ ok: false });
  });

  it('parses SEARCH programs with every key form', () => {
    const c = command(
      'a UID SEARCH CHARSET UTF-8 OR FROM "bob" (SUBJECT hi UNSEEN) NOT DELETED SINCE 1-Feb-2024 LARGER 10 UID 3:5 1,2 HEADER X-Tag "" MODSEQ 7',
    );
    expect(c).toMatchObject({ name: 'SEARCH', uid: true });
    const key = (c as { key: { type: string; keys: unknown[] } }).key;
    expect(key.type).toBe('and');
    expect(key.keys).toHaveLength(8);
    expect(parse('a SEARCH CHARSET KOI8-R ALL')).toMatchObject({ ok: false, badCharset: true });
    expect(parse('a SEARCH SINCE 31-Feb-2024')).toMatchObject({ ok: false });
    expect(command('a SEARCH RETURN (MIN COUNT) ALL')).toMatchObject({ esearch: ['MIN', 'COUNT'] });
  });

  it('parses STORE, APPEND, LIST, STATUS, SELECT and ID', () => {
    expect(command('a STORE 1:3 +FLAGS.SILENT (\\Seen $Junk)')).toMatchObject({
      mode: 'add',
      silent: true,
      flags: ['\\Seen', '$Junk'],
    });
    expect(command('a UID STORE 4 (UNCHANGEDSINCE 9) -FLAGS \\Deleted')).toMatchObject({
      mode: 'remove',
      unchangedSince: 9,
      flags: ['\\Deleted'],
    });
    const msg = Buffer.from('Subject: x\r\n\r\nhi\r\n');
    expect(command('a APPEND Sent (\\Seen) " 7-Feb-2024 10:00:00 +0100" \u0000', msg)).toMatchObject({
      name: 'APPEND',
      mailbox: 'Sent',
      flags: ['\\Seen'],
      date: Date.UTC(2024, 1, 7, 9),
      message: msg,
    });
    expect(command('a LIST (SUBSCRIBED) "" ("INBOX" %) RETURN (CHILDREN STATUS (MESSAGES UNSEEN))')).toMatchObject({
      reference: '',
      patterns: ['INBOX', '%'],
      options: { select: ['SUBSCRIBED'], children: true, status: ['MESSAGES', 'UNSEEN'] },
    });
    expect(command('a LIST "" *')).toMatchObject({ patterns: ['*'] });
    expect(command('a STATUS INBOX (UIDNEXT MESSAGES)')).toMatchObject({ items: ['UIDNEXT', 'MESSAGES'] });
    expect(command('a SELECT INBOX (QRESYNC (67890007 2005071519404500 41:211))')).toMatchObject({
      qresync: { uidValidity: 67890007, modseq: 2005071519404500, knownUids: [{ from: 41, to: 211 }] },
    });
    expect(command('a ID ("name" "x" "version" NIL)')).toMatchObject({ params: { name: 'x', version: null } });
    expect(command('a ID NIL')).toMatchObject({ params: null });
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const r = parseCommand([`a ${s}`]);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('sequence sets and dates', () => {
  it('selects, formats and round-trips sets', () => {
    expect(selectFromSet(parseSequenceSet('2:*'), [1, 3, 5])).toEqual([3, 5]);
    expect(selectFromSet(parseSequenceSet('*:4'), [1, 3, 5])).toEqual([5]);
    expect(selectFromSet(parseSequenceSet('*'), [])).toEqual([]);
    expect(formatSequenceSet([1, 2, 3, 5, 7, 8])).toBe('1:3,5,7:8');
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 500 }), { minLength: 1 }), (nums) => {
        const sorted = [...nums].sort((a, b) => a - b);
        expect(selectFromSet(parseSequenceSet(formatSequenceSet(sorted)), sorted)).toEqual(sorted);
      }),
    );
  });

  it('parses date-time with zones', () => {
    expect(parseDateTime('17-Jul-1996 02:44:25 -0700')).toBe(Date.UTC(1996, 6, 17, 9, 44, 25));
    expect(parseDateTime('30-Feb-1996 02:44:25 -0700')).toBeNull();
  });
});

describe('command reader', () => {
  const limits = { commandSize: 1000, appendSize: 50 };

  it('asks for continuation on a synchronizing literal and joins the command', () => {
    const r = new CommandReader(limits);
    expect(r.push(Buffer.from('a LOGIN {3}\r\n'))).toEqual([{ type: 'continue' }]);
    expect(r.push(Buffer.from('bob "pw"\r\nb NOOP\r\n'))).toEqual([
      { type: 'command', parts: ['a LOGIN ', Buffer.from('bob'), ' "pw"'] },
      { type: 'command', parts: ['b NOOP'] },
    ]);
  });

  it('reads LITERAL+ on without a continuation, split at every offset', () => {
    const input = Buffer.from('a APPEND Sent {5+}\r\nhello\r\nb NOOP\r\n');
    for (let cut = 0; cut <= input.length; cut++) {
      const r = new CommandReader(limits);
      const events = [...r.push(input.subarray(0, cut)), ...r.push(input.subarray(cut))];
      expect(events).toEqual([
        { type: 'command', parts: ['a APPEND Sent ', Buffer.from('hello'), ''] },
        { type: 'command', parts: ['b NOOP'] },
      ]);
    }
  });

  it('refuses an over-size literal before reading it, and skips a non-synchronizing one', () => {
    const r = new CommandReader(limits);
    expect(r.push(Buffer.from('a APPEND INBOX {51}\r\nc NOOP\r\n'))).toEqual([
      { type: 'toobig', tag: 'a', size: 51 },
      { type: 'command', parts: ['c NOOP'] },
    ]);
    const big = `b APPEND INBOX {60+}\r\n${'x'.repeat(60)}\r\nd NOOP\r\n`;
    expect(r.push(Buffer.from(big))).toEqual([
      { type: 'toobig', tag: 'b', size: 60 },
      { type: 'command', parts: ['d NOOP'] },
    ]);
    expect(r.push(Buffer.from('e LOGIN {5000}\r\n'))).toEqual([{ type: 'toobig', tag: 'e', size: 5000 }]);
  });

  it('drops an over-long line without keeping it', () => {
    const r = new CommandReader(limits);
    expect(r.push(Buffer.from(`a NOOP ${'x'.repeat(1200)}`))).toEqual([{ type: 'toolong', tag: 'a' }]);
    expect(r.push(Buffer.from(`${'y'.repeat(3000)}\r\nb NOOP\r\n`))).toEqual([{ type: 'command', parts: ['b NOOP'] }]);
  });
});

describe('command reader, property', () => {
  it('gives the same commands however the bytes are split', () => {
    const commands = [
      'a1 LOGIN {5}\r\nalice "pw"\r\n',
      'a2 APPEND INBOX (\\Seen) {12+}\r\nSubject: x\r\n\r\n',
      'a3 FETCH 1:* (FLAGS BODY.PEEK[HEADER])\r\n',
      'a4 SEARCH CHARSET UTF-8 TEXT {5+}\r\ngrün\r\n',
      'a5 NOOP\n',
    ];
    const input = Buffer.from(commands.join(''));
    const limits = { commandSize: 10_000, appendSize: 10_000 };
    const whole = new CommandReader(limits).push(input).filter((e) => e.type === 'command');
    expect(whole).toHaveLength(5);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: input.length }), { maxLength: 12 }), (cuts) => {
        const r = new CommandReader(limits);
        const events = [];
        let pos = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          events.push(...r.push(input.subarray(pos, Math.max(pos, cut))));
          pos = Math.max(pos, cut);
        }
        events.push(...r.push(input.subarray(pos)));
        expect(events.filter((e) => e.type === 'command')).toEqual(whole);
        expect(events.filter((e) => e.type === 'continue')).toHaveLength(1);
      }),
      { numRuns: 500 },
    );
  });
});
