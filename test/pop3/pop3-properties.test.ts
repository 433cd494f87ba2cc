import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dotStuff, parseCommand } from '../../src/pop3/index.js';

// Pieces that matter to dot-stuffing, weighted towards line ends and dots.
const piece = fc.constantFrom('\r', '\n', '\r\n', '.', '..', 'a', 'b c', '\r\n.', '\r\n\r\n');
const message = fc.array(piece, { maxLength: 40 }).map((p) => p.join(''));

async function stuff(chunks: string[], bodyLines?: number): Promise<string> {
  const out: Buffer[] = [];
  const opts = bodyLines === undefined ? {} : { bodyLines };
  for await (const p of dotStuff(Readable.from(chunks.map((c) => Buffer.from(c, 'latin1'))), opts)) out.push(p);
  return Buffer.concat(out).toString('latin1');
}

/** What a client sees after it undoes the stuffing. */
function unstuff(wire: string): string {
  return wire.replace(/(^|\n)\./g, '$1');
}

/** The message with every line ended by CRLF (bare LF completed, a last line terminated). */
function normalized(msg: string): string {
  let s = msg.replace(/\r?\n/g, '\r\n');
  if (s.length > 0 && !s.endsWith('\r\n')) s += s.endsWith('\r') ? '\n' : '\r\n';
  return s;
}

describe('dotStuff properties', () => {
  it('never lets a line of the body look like the terminator, and the client gets the message back', async () => {
    await fc.assert(
      fc.asyncProperty(message, fc.array(fc.nat(), { maxLength: 6 }), async (msg, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (msg.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...points, msg.length]
          .slice(1)
          .map((end, i, all) => msg.slice(i === 0 ? 0 : all[i - 1], end));
        const wire = await stuff(chunks.length > 0 ? chunks : [msg]);
        expect(wire.split('\r\n')).not.toContain('.');
        expect(wire === '' || wire.endsWith('\r\n')).toBe(true);
        expect(unstuff(wire)).toBe(normalized(msg));
      }),
      { numRuns: 300 },
    );
  });

  it('TOP output is a prefix of RETR output', async () => {
    await fc.assert(
      fc.asyncProperty(message, fc.nat({ max: 5 }), async (msg, n) => {
        const whole = await stuff([msg]);
        const top = await stuff([msg], n);
        expect(whole.startsWith(top)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('parseCommand properties', () => {
  it('never throws, and what it accepts has a 3-4 letter keyword and no control characters', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (line) => {
        const c = parseCommand(line);
        if (c === null) return;
        expect(c.verb).toMatch(/^[A-Z]{3,4}$/);
        for (const a of c.args) expect(a).not.toMatch(/[\u0000-\u0008\u000a-\u001f\u007f]/);
      }),
      { numRuns: 1000 },
    );
  });
});
