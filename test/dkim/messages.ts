import { dkimRecord, generateDkimKey } from '../../src/dkim/index.js';
import type { DkimAlgorithm, DkimKey } from '../../src/store/types.js';

export const DOMAIN = 'example.com';

/** A stored-looking key made with generateDkimKey. */
export function makeKey(algorithm: DkimAlgorithm, selector: string, domain = DOMAIN): DkimKey {
  return { domain, selector, algorithm, ...generateDkimKey(algorithm), active: true, createdAt: Date.now() };
}

/** The TXT records publishing `keys`, by owner name. */
export function txtRecords(keys: DkimKey[]): Record<string, string> {
  return Object.fromEntries(keys.map((k) => dkimRecord(k)).map((r) => [r.name, r.value]));
}

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'));

/** Messages that exercise canonicalization: plain, oddly folded and spaced, and MIME with 8-bit text. */
export const MESSAGES: Record<string, Buffer> = {
  plain: crlf([
    'From: Alice <alice@example.com>',
    'To: bob@example.net',
    'Subject: Hello',
    'Date: Mon, 6 May 2024 10:00:00 +0000',
    'Message-ID: <plain.1@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'Hi Bob,',
    '',
    'see you at noon.',
    '',
  ]),
  spacing: crlf([
    'Received: from client (localhost [127.0.0.1]) by mx.example.com',
    'From: "Doe, Alice"   <alice@example.com>',
    'To: bob@example.net,',
    '\tcarol@example.org',
    'Cc:  dave@example.net  ',
    'Subject:   a subject that is rather long and so is folded',
    '  onto a second line    with   runs of spaces',
    'Date: Mon, 6 May 2024 10:00:00 +0000',
    'Message-ID: <spacing.1@example.com>',
    'List-Unsubscribe: <mailto:unsubscribe@example.com>',
    'X-Mailer: none',
    '',
    'trailing spaces   ',
    '\ttabs\tinside\t',
    '',
    '',
    '',
  ]),
  mime: crlf([
    'From: =?UTF-8?Q?J=C3=BCrgen?= <juergen@example.com>',
    'To: bob@example.net',
    'Subject: =?UTF-8?B?R3LDvMOfZQ==?=',
    'Date: Mon, 6 May 2024 10:00:00 +0000',
    'Message-ID: <mime.1@example.com>',
    'In-Reply-To: <x@example.net>',
    'References: <x@example.net>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Grüße aus Köln – ✓',
    '--b1',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('<p>Grüße aus Köln</p>').toString('base64'),
    '--b1--',
    '',
  ]),
};

/** The same message with a second From field on top, as a forger would add in transit. */
export function withForgedFrom(signed: Buffer): Buffer {
  return Buffer.concat([Buffer.from('From: Mallory <ceo@example.com>\r\n'), signed]);
}

/** The same message with one body character changed. */
export function withBodyChanged(signed: Buffer): Buffer {
  const s = signed.toString('binary');
  const at = s.indexOf('\r\n\r\n') + 4;
  return Buffer.from(`${s.slice(0, at)}X${s.slice(at + 1)}`, 'binary');
}
