import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { DsnInput, DsnRecipient } from '../../src/dsn/index.js';
import { run } from '../helpers/run.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const hasPython = spawnSync('python3', ['--version'], { stdio: 'ignore' }).status === 0;

/** Fields of one delivery-status block, names lower-cased, values unfolded by Python. */
export type Block = Record<string, string> & { final?: { type: string; address: string } };

/** What Python's email package made of a DSN (see fixtures/parse-dsn.py). */
export interface Parsed {
  headers: Record<string, string>;
  content_type: string;
  report_type: string | null;
  parts: { type: string; cte: string | null; charset: string | null }[];
  text: string;
  status: { per_message: Record<string, string>; recipients: Block[] };
  original: { type: string; headers: Record<string, string>; body: string | null } | null;
  defects: string[];
}

/** Parse with Python, after checking the wire form: CRLF only, no line over 998 octets. */
export async function parse(message: Buffer): Promise<Parsed> {
  expectWireSafe(message);
  const r = await run(['python3', path.join(FIXTURES, 'parse-dsn.py')], message);
  if (r.code !== 0) throw new Error(`parse-dsn.py failed: ${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as Parsed;
  expect(parsed.defects).toEqual([]);
  return parsed;
}

/** Every line ends in CRLF (no bare CR or LF) and has at most 998 octets. */
export function expectWireSafe(message: Buffer): void {
  const text = message.toString('latin1');
  expect(text.endsWith('\r\n')).toBe(true);
  expect(/\r(?!\n)|(?<!\r)\n/.test(text)).toBe(false);
  const longest = Math.max(...text.split('\r\n').map((l) => l.length));
  expect(longest).toBeLessThanOrEqual(998);
}

export const ORIGINAL = Buffer.from(
  'From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: Lunch on Friday\r\n' +
    'Message-ID: <lunch.1@example.com>\r\n\r\nShall we meet at noon?\r\n',
);

/** A failed recipient with everything filled in; override what a test is about. */
export function rcpt(over: Partial<DsnRecipient> = {}): DsnRecipient {
  return {
    finalRecipient: 'bob@example.org',
    originalRecipient: 'rfc822;Bob@Example.ORG',
    action: 'failed',
    status: '5.1.1',
    remoteMta: 'mx.example.org',
    diagnosticCode: '550 5.1.1 <bob@example.org>: User unknown',
    lastAttemptDate: new Date('2026-03-02T10:15:00Z'),
    willRetryUntil: null,
    ...over,
  };
}

/** A failure DSN input for one recipient; override what a test is about. */
export function input(over: Partial<DsnInput> = {}): DsnInput {
  return {
    reportingMta: 'mx.example.com',
    from: 'MAILER-DAEMON@mx.example.com',
    to: 'alice@example.com',
    envid: null,
    arrivalDate: new Date('2026-03-02T10:00:00Z'),
    ret: null,
    original: ORIGINAL,
    queueId: '3KX9QZ7B2C',
    recipients: [rcpt()],
    now: new Date('2026-03-02T10:16:00Z'),
    ...over,
  };
}
