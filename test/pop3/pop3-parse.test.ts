import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { dotStuff, parseCommand } from '../../src/pop3/index.js';

async function stuffed(chunks: (string | Buffer)[], bodyLines?: number): Promise<string> {
  const parts: Buffer[] = [];
  for await (const p of dotStuff(
    Readable.from(chunks.map((c) => Buffer.from(c))),
    bodyLines === undefined ? {} : { bodyLines },
  )) {
    parts.push(p);
  }
  return Buffer.concat(parts).toString('latin1');
}

describe('parseCommand', () => {
  it('splits keyword and arguments, upper-cases the keyword', () => {
    expect(parseCommand('retr 1')).toEqual({ verb: 'RETR', args: ['1'] });
    expect(parseCommand('TOP 1 10')).toEqual({ verb: 'TOP', args: ['1', '10'] });
    expect(parseCommand('STAT')).toEqual({ verb: 'STAT', args: [] });
    expect(parseCommand('CAPA ')).toEqual({ verb: 'CAPA', args: [] });
  });

  it('keeps a password with spaces whole', () => {
    expect(parseCommand('PASS  two  spaces ')).toEqual({ verb: 'PASS', args: [' two  spaces '] });
  });

  it('refuses empty, non-keyword and control-character lines', () => {
    for (const bad of ['', ' STAT', 'ST', 'STATUS', '1234', 'USER a\u0000b', 'RETR\t1', 'LIST\u001b[1']) {
      expect(parseCommand(bad)).toBeNull();
    }
  });
});

describe('dotStuff', () => {
  it('doubles leading dots, completes bare LF and a missing final CRLF', async () => {
    expect(await stuffed(['a\r\n.b\r\n..c\r\n.'])).toBe('a\r\n..b\r\n...c\r\n..\r\n');
    expect(await stuffed(['x\ny\n'])).toBe('x\r\ny\r\n');
    expect(await stuffed(['.\r\n'])).toBe('..\r\n');
    expect(await stuffed([''])).toBe('');
  });

  it('gives the same bytes however the input is split', async () => {
    const msg = 'Subject: s\r\n\r\n.one\r\ntwo\r\n..three\r\n.\r\nend';
    const whole = await stuffed([msg]);
    for (let i = 0; i <= msg.length; i++) {
      expect(await stuffed([msg.slice(0, i), msg.slice(i)])).toBe(whole);
    }
    const bytes = [...msg].map((c) => c);
    expect(await stuffed(bytes)).toBe(whole);
  });

  it('sends the header, the blank line and n body lines for TOP', async () => {
    const msg = 'A: 1\r\nB: 2\r\n\r\n.l1\r\nl2\r\nl3\r\n';
    expect(await stuffed([msg], 0)).toBe('A: 1\r\nB: 2\r\n\r\n');
    expect(await stuffed([msg], 2)).toBe('A: 1\r\nB: 2\r\n\r\n..l1\r\nl2\r\n');
    expect(await stuffed([msg], 99)).toBe(`A: 1\r\nB: 2\r\n\r\n..l1\r\nl2\r\nl3\r\n`);
    expect(await stuffed(['A: 1\r\nno body'], 5)).toBe('A: 1\r\nno body\r\n');
  });
});
