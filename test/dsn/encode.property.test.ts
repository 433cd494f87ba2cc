// Properties of the two encoders every DSN leans on: header folding and quoted-printable.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { field, quotedPrintable } from '../../src/dsn/encode.js';
import { run } from '../helpers/run.js';
import { hasPython } from './helpers.js';

const QP_DECODE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'qp-decode.py');
const octets = (s: string) => Buffer.byteLength(s, 'utf8');
const text = (unit: string[], maxLength: number) => fc.string({ unit: fc.constantFrom(...unit), maxLength });

describe('field folding', () => {
  it('keeps every line within 998 octets and unfolds to the value, words intact when they fit', () => {
    const word = text(['a', 'Z', '5', '-', 'é', '€', '😀', '<', '>'], 120);
    const value = fc.array(fc.oneof(word, text(['x', 'ü'], 1500)), { maxLength: 40 }).map((ws) => ws.join(' '));
    fc.assert(
      fc.property(value, (v) => {
        const out = field('Diagnostic-Code', v);
        expect(out.endsWith('\r\n')).toBe(true);
        const lines = out.slice(0, -2).split('\r\n');
        for (const [i, l] of lines.entries()) {
          expect(octets(l)).toBeLessThanOrEqual(998);
          if (i > 0) expect(l).toMatch(/^ \S/);
          // Past 78 octets only when a single word needs the room.
          const body = i === 0 ? l.slice('Diagnostic-Code: '.length) : l.slice(1);
          if (octets(l) > 78) expect(body).not.toContain(' ');
        }
        const unfolded = lines.join('');
        const words = v.split(' ').filter(Boolean);
        if (words.every((w) => octets(w) < 900)) expect(unfolded).toBe(`Diagnostic-Code: ${words.join(' ')}`.trimEnd());
        else expect(unfolded.replace(/ /g, '')).toBe(`Diagnostic-Code:${words.join('')}`);
      }),
      { numRuns: 300 },
    );
  });

  it('turns CR, LF and other controls into spaces so a value cannot add a field', () => {
    expect(field('Remote-MTA', 'dns; evil\r\nAction: delivered')).toBe('Remote-MTA: dns; evil Action: delivered\r\n');
  });
});

describe.skipIf(!hasPython)('quoted-printable, decoded by Python quopri', () => {
  it('round-trips any UTF-8 text, with lines of at most 76 printable ASCII characters', async () => {
    const samples = fc.sample(text(['a', ' ', '\t', '=', '.', 'é', '€', '😀', '\n', '\r\n', 'Q'], 400), {
      numRuns: 300,
      seed: 3461,
    });
    samples.push('', ' ', 'ends with space ', 'tab\t', `${'x'.repeat(75)}=`, `${'é'.repeat(40)}`, '=\n=');
    const encoded = samples.map(quotedPrintable);
    for (const e of encoded) {
      for (const l of e.split('\r\n')) {
        expect(l.length).toBeLessThanOrEqual(76);
        expect(l).toMatch(/^[\x20-\x7e\t]*$/);
        expect(l).not.toMatch(/[ \t]$/);
      }
    }
    const r = await run(['python3', QP_DECODE], JSON.stringify(encoded));
    expect(r.stderr).toBe('');
    const decoded = JSON.parse(r.stdout) as string[];
    expect(decoded).toEqual(samples.map((s) => s.replace(/\r?\n/g, '\r\n')));
  });
});
