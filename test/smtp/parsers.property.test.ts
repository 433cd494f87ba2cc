import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePath } from '../../src/smtp/address.js';
import { parseCommand } from '../../src/smtp/server/command.js';
import { xtextDecode, xtextEncode } from '../../src/smtp/server/params.js';
import { decode, dotStuff, referenceDecode } from './data-helpers.js';

// Bytes that matter to the decoder, weighted so terminators and near-terminators show up often.
const dataByte = fc.constantFrom('\r', '\n', '.', '.', '\r\n', '\r\n.', 'a', 'b', '\0', ' ');
const dataInput = fc.array(dataByte, { maxLength: 60 }).map((parts) => parts.join(''));
const cutsFor = (length: number) =>
  fc.uniqueArray(fc.integer({ min: 0, max: length }), { maxLength: 12 }).map((c) => c.sort((x, y) => x - y));

function outcome(r: ReturnType<typeof decode>) {
  const d = r.decoder;
  return {
    body: r.body,
    done: r.done,
    rest: r.rest,
    size: d.size,
    flags: [d.overSize, d.lineTooLong, d.bareLineEnding, d.nul, d.failed],
  };
}

describe('DataDecoder properties', () => {
  it('output, flags and rest do not depend on how the input is chunked', () => {
    const opts = fc.record({
      maxSize: fc.integer({ min: 0, max: 40 }),
      maxLineLength: fc.integer({ min: 2, max: 12 }),
      bareLineEndings: fc.constantFrom('reject' as const, 'normalize' as const),
    });
    const scenario = dataInput.chain((input) => fc.tuple(fc.constant(input), opts, cutsFor(input.length)));
    fc.assert(
      fc.property(scenario, ([input, o, cuts]) => {
        expect(outcome(decode(input, o, cuts))).toEqual(outcome(decode(input, o)));
      }),
      { numRuns: 2000 },
    );
  });

  it('splitting at every single byte gives the same result as one push', () => {
    fc.assert(
      fc.property(dataInput, fc.constantFrom('reject' as const, 'normalize' as const), (input, mode) => {
        const every = Array.from({ length: input.length }, (_, i) => i);
        expect(outcome(decode(input, { bareLineEndings: mode }, every))).toEqual(
          outcome(decode(input, { bareLineEndings: mode })),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('matches the whole-buffer reference model of the termination rule', () => {
    const clean = dataInput.map((s) => s.replaceAll('\0', ''));
    fc.assert(
      fc.property(clean, fc.boolean(), (input, terminate) => {
        const text = terminate ? `${input}\r\n.\r\nQUIT\r\n` : input;
        const ref = referenceDecode(text);
        const got = decode(text);
        expect(got.done).toBe(ref.done);
        if (ref.done) expect({ body: got.body, rest: got.rest }).toEqual({ body: ref.body, rest: ref.rest });
      }),
      { numRuns: 2000 },
    );
  });

  it('decoding a dot-stuffed CRLF body gives the body back', () => {
    const line = fc.array(fc.constantFrom('.', 'a', ' ', 'ü', '\t'), { maxLength: 8 }).map((c) => c.join(''));
    const body = fc.array(line, { maxLength: 10 }).map((lines) => lines.map((l) => `${l}\r\n`).join(''));
    fc.assert(
      fc.property(body, fc.array(fc.nat(), { maxLength: 6 }), (text, rawCuts) => {
        const wire = Buffer.from(dotStuff(text) + 'NOOP\r\n', 'utf8');
        const cuts = [...new Set(rawCuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
        const r = decode(wire, { bareLineEndings: 'reject' }, cuts);
        expect(Buffer.from(r.body, 'latin1').toString('utf8')).toBe(text);
        expect(r).toMatchObject({ done: true, rest: 'NOOP\r\n' });
        expect(r.decoder.failed).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('xtext properties', () => {
  it('decode(encode(s)) === s for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const encoded = xtextEncode(s);
        expect(encoded).toMatch(/^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*$/);
        expect(xtextDecode(encoded)).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('decode never throws and whatever it accepts re-encodes to valid xtext', () => {
    const xtextish = fc.array(fc.constantFrom('+', '2', 'B', 'b', 'C3', 'A9', 'a', '=', ' ', 'F'), { maxLength: 12 });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          xtextish.map((p) => p.join('')),
        ),
        (s) => {
          const decoded = xtextDecode(s);
          if (decoded !== null) expect(xtextDecode(xtextEncode(decoded))).toBe(decoded);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('parseCommand properties', () => {
  const verbs = ['HELO', 'EHLO', 'MAIL FROM:', 'RCPT TO:', 'DATA', 'BDAT', 'AUTH', 'NOOP', 'VRFY', 'QUIT', 'xyz', ''];
  const line = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.tuple(fc.constantFrom(...verbs), fc.string({ unit: 'binary-ascii' })).map(([v, rest]) => v + rest),
    fc
      .tuple(
        fc.constantFrom('MAIL FROM:', 'RCPT TO:', 'mail from: '),
        fc.array(fc.constantFrom('<', '>', '"', '\\', 'a', '@', ' ', '=', 'X')),
      )
      .map(([v, parts]) => v + parts.join('')),
  );

  it('never throws and always answers failures with a 5xx code', () => {
    fc.assert(
      fc.property(line, (l) => {
        const r = parseCommand(l);
        if (!r.ok) {
          expect(r.code).toBeGreaterThanOrEqual(500);
          expect(r.code).toBeLessThan(600);
          expect(r.enhanced).toMatch(/^5\.\d\.\d+$/);
          expect(r.text).not.toMatch(/[\r\n]/);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('parsePath properties', () => {
  const pathish = fc
    .array(fc.constantFrom('<', '>', '"', '\\', '@', '.', ',', ':', '[', ']', 'a', 'B', '1', '-', ' ', 'ü', '%', '!'), {
      maxLength: 24,
    })
    .map((p) => p.join(''));
  const candidates = fc.oneof(
    fc.string({ unit: 'binary' }),
    pathish,
    pathish.map((p) => `<${p}>`),
  );

  it('never throws', () => {
    fc.assert(
      fc.property(candidates, fc.boolean(), fc.boolean(), (text, allowNull, smtputf8) => {
        const r = parsePath(text, { allowNull, smtputf8 });
        if (!r.ok) expect(r.enhanced).toMatch(/^5\.\d\.\d$/);
        else if (r.mailbox && !smtputf8) expect(r.mailbox.address).toMatch(/^[\x00-\x7f]*$/);
      }),
      { numRuns: 3000 },
    );
  });

  it('a parsed address parses again to itself', () => {
    fc.assert(
      fc.property(candidates, (text) => {
        const r = parsePath(text, { allowNull: false, smtputf8: true });
        if (!r.ok || !r.mailbox) return;
        const again = parsePath(`<${r.mailbox.address}>`, { allowNull: false, smtputf8: true });
        expect(again.ok && again.mailbox?.address).toBe(r.mailbox.address);
      }),
      { numRuns: 3000 },
    );
  });
});
