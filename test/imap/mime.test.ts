import { describe, expect, it } from 'vitest';
import {
  filterHeader,
  locateSection,
  parseMessage,
  renderBodyStructure,
  renderEnvelope,
} from '../../src/imap/mime/index.js';
import { decodeMailboxName, encodeMailboxName } from '../../src/imap/mutf7.js';
import { parseCommand } from '../../src/imap/parser/command.js';
import { matches, type SearchMessage } from '../../src/imap/search.js';

const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, '\r\n'));

const simple = crlf(`From: "Alice A." <alice@example.com>
To: bob@example.net, Group: carol@example.org, dave@example.org;
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=
Date: Mon, 5 Feb 2024 10:00:00 +0100
Message-ID: <m1@example.com>

Hello
World
`);

const multi = crlf(`From: alice@example.com
Subject: parts
Content-Type: multipart/mixed; boundary="XX"

preamble
--XX
Content-Type: text/plain; charset=utf-8

first part
--XX
Content-Type: multipart/alternative; boundary=YY

--YY
Content-Type: text/plain

alt plain
--YY
Content-Type: text/html
Content-Transfer-Encoding: base64

PGI+aGk8L2I+
--YY--
--XX
Content-Type: message/rfc822
Content-Disposition: attachment; filename="inner.eml"

From: zed@example.com
Subject: inner

inner body
--XX--
epilogue
`);

function text(buf: Buffer, src: ReturnType<typeof locateSection>): string {
  if (src.kind === 'empty') return '';
  const slice = buf.subarray(src.start, src.end);
  return src.kind === 'range' ? slice.toString() : filterHeader(slice, src.fields, src.not).toString();
}

function section(spec: string) {
  const r = parseCommand([`a FETCH 1 BODY[${spec}]`]);
  if (!r.ok || r.command.name !== 'FETCH') throw new Error('bad');
  const att = r.command.atts[0]!;
  if (att.type !== 'BODY[]') throw new Error('bad');
  return att.section;
}

describe('MIME structure', () => {
  it('computes ENVELOPE with groups and default sender/reply-to', () => {
    const root = parseMessage(simple);
    expect(renderEnvelope(root.envelope!)).toBe(
      '("Mon, 5 Feb 2024 10:00:00 +0100" "=?utf-8?q?Gr=C3=BC=C3=9Fe?=" (("Alice A." NIL "alice" "example.com")) ' +
        '(("Alice A." NIL "alice" "example.com")) (("Alice A." NIL "alice" "example.com")) ' +
        '((NIL NIL "bob" "example.net")(NIL NIL "Group" NIL)(NIL NIL "carol" "example.org")(NIL NIL "dave" "example.org")(NIL NIL NIL NIL)) ' +
        'NIL NIL NIL "<m1@example.com>")',
    );
    expect(renderBodyStructure(root, true)).toBe(
      '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2 NIL NIL NIL NIL)',
    );
    expect(renderBodyStructure(root, false)).toBe('("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2)');
  });

  it('finds nested parts with byte offsets and renders BODYSTRUCTURE', () => {
    const root = parseMessage(multi);
    expect(root.children).toHaveLength(3);
    const bs = renderBodyStructure(root, true);
    expect(bs).toContain('("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 10 0 NIL NIL NIL NIL)');
    expect(bs).toContain('"alternative" ("boundary" "YY") NIL NIL NIL)');
    expect(bs).toContain('("text" "html" NIL NIL NIL "base64" 12 0 NIL NIL NIL NIL)');
    expect(bs).toContain('"message" "rfc822" NIL NIL NIL "7bit"');
    expect(bs).toContain('("attachment" ("filename" "inner.eml"))');
    expect(bs.endsWith('"mixed" ("boundary" "XX") NIL NIL NIL)')).toBe(true);

    expect(text(multi, locateSection(root, section('1'), multi.length))).toBe('first part');
    expect(text(multi, locateSection(root, section('2.1'), multi.length))).toBe('alt plain');
    expect(text(multi, locateSection(root, section('2.2'), multi.length))).toBe('PGI+aGk8L2I+');
    expect(text(multi, locateSection(root, section('2.2.MIME'), multi.length))).toBe(
      'Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n',
    );
    expect(text(multi, locateSection(root, section('3.HEADER'), multi.length))).toBe(
      'From: zed@example.com\r\nSubject: inner\r\n\r\n',
    );
    expect(text(multi, locateSection(root, section('3.TEXT'), multi.length))).toBe('inner body');
    expect(text(multi, locateSection(root, section('3.1'), multi.length))).toBe('inner body');
    expect(text(multi, locateSection(root, section('HEADER.FIELDS (SUBJECT)'), multi.length))).toBe(
      'Subject: parts\r\n\r\n',
    );
    expect(text(multi, locateSection(root, section('HEADER.FIELDS.NOT (SUBJECT CONTENT-TYPE)'), multi.length))).toBe(
      'From: alice@example.com\r\n\r\n',
    );
    expect(text(multi, locateSection(root, section('9'), multi.length))).toBe('');
    // Serialisable for the store cache.
    expect(JSON.parse(JSON.stringify(root))).toEqual(root);
  });

  it('survives malformed input', () => {
    for (const raw of ['', 'no header end', 'Content-Type: multipart/mixed\r\n\r\nno boundary', '\r\n\r\n']) {
      const root = parseMessage(Buffer.from(raw));
      expect(renderBodyStructure(root, true)).toMatch(/^\(/);
    }
  });
});

describe('search', () => {
  const msg = (buf: Buffer, extra: Partial<SearchMessage> = {}): SearchMessage => {
    const root = parseMessage(buf);
    return {
      seq: 1,
      uid: 10,
      flags: ['\\Seen'],
      internalDate: Date.UTC(2024, 1, 5),
      size: buf.length,
      modseq: 3,
      recent: false,
      structure: async () => root,
      content: async () => buf,
      ...extra,
    };
  };
  const search = async (program: string, m: SearchMessage) => {
    const r = parseCommand([`a SEARCH ${program}`]);
    if (!r.ok || r.command.name !== 'SEARCH') throw new Error(r.ok ? 'x' : r.text);
    return matches(r.command.key, m, { maxSeq: 1, maxUid: 10 });
  };

  it('matches header, body, date, flag and size keys', async () => {
    const m = msg(simple);
    expect(await search('FROM alice', m)).toBe(true);
    expect(await search('FROM "Alice A."', m)).toBe(true);
    expect(await search('TO carol', m)).toBe(true);
    expect(await search('SUBJECT "grüße"', m)).toBe(true);
    expect(await search('HEADER Message-ID m1@', m)).toBe(true);
    expect(await search('BODY world', m)).toBe(true);
    expect(await search('BODY alice', m)).toBe(false);
    expect(await search('TEXT alice', m)).toBe(true);
    expect(await search('SENTON 5-Feb-2024 ON 5-Feb-2024 SEEN NOT DELETED', m)).toBe(true);
    expect(await search('SINCE 6-Feb-2024', m)).toBe(false);
    expect(await search('OR LARGER 100000 UID 10', m)).toBe(true);
    expect(await search('1 MODSEQ 4', m)).toBe(false);
    const b = msg(multi);
    expect(await search('BODY "<b>hi</b>"', b)).toBe(true);
    expect(await search('BODY "inner body"', b)).toBe(true);
  });
});

describe('modified UTF-7 mailbox names', () => {
  it('round-trips', () => {
    for (const name of ['INBOX', 'Entwürfe', 'A&B', '台北', 'x/y~z']) {
      expect(decodeMailboxName(encodeMailboxName(name))).toBe(name);
    }
    expect(encodeMailboxName('Entwürfe')).toBe('Entw&APw-rfe');
    expect(encodeMailboxName('A&B')).toBe('A&-B');
    expect(decodeMailboxName('&Jjo-!')).toBe('☺!');
    expect(decodeMailboxName('bad&')).toBeNull();
  });
});
