import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers/server.js';
import { type Dovecot, dovecotInstalled, startDovecot } from './dovecot.js';
import { imapPort, login, PASSWORD, RawImap, startImapServer } from './helpers.js';

const USER = 'alice@example.test';

/** A message with nesting, encodings and an attached message: where BODYSTRUCTURE is easy to get wrong. */
const MESSAGE = [
  'From: "Alice A." <alice@example.test>',
  'To: bob@example.net, Team: carol@example.org;',
  'Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= and parts',
  'Date: Mon, 5 Feb 2024 10:00:00 +0100',
  'Message-ID: <compare@example.test>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  'preamble',
  '--outer',
  'Content-Type: multipart/alternative; boundary=inner',
  '',
  '--inner',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Gr=C3=BC=C3=9Fe aus Berlin',
  '--inner',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>hello</p>',
  '--inner--',
  '--outer',
  'Content-Type: application/octet-stream; name="data.bin"',
  'Content-Disposition: attachment; filename="data.bin"',
  'Content-Transfer-Encoding: base64',
  '',
  'AAECAwQFBgc=',
  '--outer',
  'Content-Type: message/rfc822',
  '',
  'From: zed@example.com',
  'Subject: inner',
  '',
  'inner body',
  '--outer--',
  '',
].join('\r\n');

/** Commands whose answers should be the same on both servers (after removing timings). */
const SAME = [
  'FETCH 1 (BODYSTRUCTURE)',
  'FETCH 1 (ENVELOPE)',
  'FETCH 1 (BODY)',
  'FETCH 1 (RFC822.SIZE BODY.PEEK[1.1.MIME])',
  'FETCH 1 (BODY.PEEK[3.HEADER])',
  'FETCH 1 (BODY.PEEK[3.TEXT])',
  'FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT DATE)])',
  'FETCH 1 (BODY.PEEK[1.1]<4.10>)',
  'FETCH 1 (BINARY.PEEK[2] BINARY.SIZE[1.1])',
  'SEARCH CHARSET UTF-8 SUBJECT "grüße"',
  'SEARCH TO carol BODY berlin',
  'SEARCH HEADER Message-ID compare',
  'SEARCH NOT FROM alice',
  'FROB',
];

/** Commands both servers refuse with BAD, with reasons worded differently (see docs/imap.md). */
const BOTH_BAD = ['FETCH 1 FLAGS extra', 'SEARCH (', 'STORE 1 FLAGS (\\Recent)', 'LIST', 'SELECT "INBOX'];

let ours: TestServer;
let dovecot: Dovecot | null = null;
const skip = !dovecotInstalled();
if (skip) console.warn('dovecot-imapd is not installed: skipping the comparison with Dovecot');

async function session(port: number, dove: boolean): Promise<RawImap> {
  const { c } = await RawImap.connect(port);
  if (dove) await c.cmd(`LOGIN ${USER} "${PASSWORD}"`);
  else await login(c, USER);
  const lit = `APPEND INBOX (\\Seen) "05-Feb-2024 10:00:00 +0100" {${Buffer.byteLength(MESSAGE)}+}\r\n${MESSAGE}`;
  expect((await c.cmd(lit)).at(-1)).toMatch(/OK/);
  await c.cmd('SELECT INBOX');
  return c;
}

/** Drop what differs by design: command timings in Dovecot's tagged replies, tag numbers. */
function normalise(lines: string[]): string[] {
  return lines.map((l) =>
    l.replace(/ \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)\.$/, '.').replace(/^t\d+ /, 'TAG '),
  );
}

describe.skipIf(skip)('the same commands against Dovecot', () => {
  beforeAll(async () => {
    ours = await startImapServer();
    dovecot = await startDovecot(USER, PASSWORD);
  });
  afterAll(async () => {
    await dovecot?.stop();
    await ours?.stop();
  });

  it('gives the same BODYSTRUCTURE, ENVELOPE, sections, BINARY and SEARCH results', async () => {
    const a = await session(imapPort(ours), false);
    const b = await session(dovecot!.port, true);
    const differences: { command: string; mine: string[]; dovecot: string[] }[] = [];
    for (const command of SAME) {
      const mine = normalise(await a.cmd(command));
      const theirs = normalise(await b.cmd(command));
      if (JSON.stringify(mine) !== JSON.stringify(theirs)) differences.push({ command, mine, dovecot: theirs });
    }
    expect(differences).toEqual([]);
    for (const command of BOTH_BAD) {
      expect((await a.cmd(command)).at(-1), command).toMatch(/^t\d+ BAD /);
      expect((await b.cmd(command)).at(-1), command).toMatch(/^t\d+ BAD /);
    }
    a.close();
    b.close();
  });
});
