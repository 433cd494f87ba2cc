// The hard corners of a DSN's wire form: RFC 6533 for UTF-8, folding, size limits, line ends, boundaries.
import { describe, expect, it } from 'vitest';
import { buildDsn } from '../../src/dsn/index.js';
import { hasPython, input, ORIGINAL, parse, rcpt } from './helpers.js';

const bigBody = (n: number) => Buffer.concat([ORIGINAL, Buffer.from(`${'x'.repeat(70)}\r\n`.repeat(n))]);

describe.skipIf(!hasPython)(`DSN encoding${hasPython ? '' : ' (skipped: python3 is not installed)'}`, () => {
  it('a non-ASCII recipient makes message/global-delivery-status with the utf-8 address type', async () => {
    const recipients = [
      rcpt({ finalRecipient: 'jörg@bücher.example', originalRecipient: 'utf-8;j\\x{00F6}rg@b\\x{00FC}cher.example' }),
      rcpt(),
    ];
    const p = await parse(buildDsn(input({ recipients })).message);
    expect(p.parts[1]?.type).toBe('message/global-delivery-status');
    expect(p.parts[1]?.cte).toBe('8bit');
    const [first, second] = p.status.recipients;
    expect(first?.['final-recipient']).toBe('utf-8; jörg@bücher.example');
    expect(first?.final).toEqual({ type: 'utf-8', address: 'jörg@bücher.example' });
    expect(first?.['original-recipient']).toBe('utf-8;j\\x{00F6}rg@b\\x{00FC}cher.example');
    expect(second?.final).toEqual({ type: 'rfc822', address: 'bob@example.org' });
    expect(p.status.per_message['reporting-mta']).toBe('dns; mx.example.com');
    expect(p.text).toContain('<jörg@bücher.example>');
    expect(p.parts[0]?.cte).toBe('quoted-printable');
  });

  it('ASCII addresses stay in plain message/delivery-status', async () => {
    const p = await parse(buildDsn(input()).message);
    expect(p.parts[1]?.type).toBe('message/delivery-status');
    expect(p.parts[1]?.cte).toBeNull();
  });

  it('a UTF-8 address holding a backslash is written in the escaped unitext form, and decodes back', async () => {
    const finalRecipient = '"jö\\\\rg+x"@bücher.example';
    const { message } = buildDsn(input({ recipients: [rcpt({ finalRecipient })] }));
    expect(message.toString('utf8')).toContain('Final-Recipient: utf-8; "jö\\x{5C}\\x{5C}rg\\x{2B}x"@bücher.example');
    const p = await parse(message);
    expect(p.status.recipients[0]?.final).toEqual({ type: 'utf-8', address: finalRecipient });
  });

  it('a UTF-8 sender gets the DSN addressed to it unencoded (RFC 6532)', async () => {
    const dsn = buildDsn(input({ to: 'zoë@bücher.example' }));
    expect(dsn.smtputf8).toBe(true);
    expect(buildDsn(input()).smtputf8).toBe(false);
    const p = await parse(dsn.message);
    expect(p.headers.to).toBe('zoë@bücher.example');
  });

  it('a long Diagnostic-Code is folded at spaces and unfolds to the same text', async () => {
    const words = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
    const diagnosticCode = `550 5.7.1 ${words}`;
    const { message } = buildDsn(input({ recipients: [rcpt({ status: '5.7.1', diagnosticCode })] }));
    const raw = message.toString('utf8');
    const start = raw.indexOf('Diagnostic-Code:');
    const lines = raw.slice(start).split('\r\n');
    const end = lines.findIndex((l, i) => i > 0 && !/^[ \t]/.test(l));
    expect(end).toBeGreaterThan(5);
    for (const l of lines.slice(0, end)) expect(l.length).toBeLessThanOrEqual(78);
    const p = await parse(message);
    expect(p.status.recipients[0]?.['diagnostic-code']).toBe(`smtp; ${diagnosticCode}`);
  });

  it('an unbreakable 3000-octet reply is split into lines of at most 998 octets', async () => {
    const token = 'é'.repeat(1500);
    const diagnosticCode = `550 5.1.1 ${token}`;
    const { message } = buildDsn(input({ recipients: [rcpt({ diagnosticCode })] }));
    const p = await parse(message);
    const value = p.status.recipients[0]?.['diagnostic-code'] ?? '';
    // Each fold inside the word adds one space when unfolded; nothing else changes.
    expect(value.replace(/ /g, '')).toBe(`smtp;${diagnosticCode.replace(/ /g, '')}`);
    expect(p.parts[1]?.type).toBe('message/global-delivery-status');
  });

  it('RET=FULL for a message over maxFullSize returns headers only and says why', async () => {
    const original = bigBody(2000);
    const { message } = buildDsn(input({ ret: 'FULL', original, maxFullSize: 100_000 }));
    expect(message.length).toBeLessThan(10_000);
    const p = await parse(message);
    expect(p.original?.type).toBe('text/rfc822-headers');
    expect(p.original?.headers.subject).toBe('Lunch on Friday');
    expect(p.text.replace(/\s+/g, ' ')).toContain('larger than 100000 bytes');
    const small = await parse(buildDsn(input({ ret: 'FULL', original: bigBody(10), maxFullSize: 100_000 })).message);
    expect(small.original?.type).toBe('message/rfc822');
  });

  it('RET=FULL for a message with a line over 998 octets returns headers only', async () => {
    const original = Buffer.concat([ORIGINAL, Buffer.from(`${'y'.repeat(1500)}\r\n`)]);
    const p = await parse(buildDsn(input({ ret: 'FULL', original })).message);
    expect(p.original?.type).toBe('text/rfc822-headers');
    expect(p.text.replace(/\s+/g, ' ')).toContain('lines too long to return intact');
  });

  it('an 8-bit body is returned labelled 8bit; UTF-8 headers use message/global and message/global-headers', async () => {
    const latin = Buffer.from('Subject: plain\r\n\r\ncaf\xe9\r\n', 'latin1');
    const dsn = buildDsn(input({ ret: 'FULL', original: latin }));
    expect(dsn.bodyType).toBe('8BITMIME');
    expect(buildDsn(input({ ret: 'HDRS', original: latin })).bodyType).toBe('7BIT');
    const p = await parse(dsn.message);
    expect(p.parts[2]).toEqual({ type: 'message/rfc822', cte: '8bit', charset: null });
    expect(p.headers['content-transfer-encoding']).toBe('8bit');

    const utf8 = Buffer.from('Subject: Grüße\r\nFrom: zoë@bücher.example\r\n\r\nHallo\r\n', 'utf8');
    const full = await parse(buildDsn(input({ ret: 'FULL', original: utf8 })).message);
    expect(full.original?.type).toBe('message/global');
    expect(full.original?.headers.subject).toBe('Grüße');
    expect(full.original?.body).toBe('Hallo\r\n');
    const hdrs = await parse(buildDsn(input({ ret: 'HDRS', original: utf8 })).message);
    expect(hdrs.original?.type).toBe('message/global-headers');
    expect(hdrs.original?.headers.from).toBe('zoë@bücher.example');
  });

  it('an original stored with bare LF is returned with CRLF', async () => {
    const original = Buffer.from('Subject: lf\nTo: bob@example.org\n\nline one\nline two\n');
    const { message } = buildDsn(input({ ret: 'FULL', original }));
    const p = await parse(message);
    expect(p.original?.body).toBe('line one\r\nline two\r\n');
  });

  it('a boundary that occurs in the original is never used', async () => {
    const first = buildDsn(input({ ret: 'FULL' })).message.toString('latin1');
    const boundary = /boundary="([^"]+)"/.exec(first)?.[1];
    expect(boundary).toBeDefined();
    const original = Buffer.concat([ORIGINAL, Buffer.from(`--${boundary}\r\nContent-Type: text/plain\r\n\r\nx\r\n`)]);
    const second = buildDsn(input({ ret: 'FULL', original }));
    expect(second.message.toString('latin1')).not.toContain(`boundary="${boundary}"`);
    const p = await parse(second.message);
    expect(p.parts).toHaveLength(3);
    expect(p.original?.body).toContain(`--${boundary}`);
  });

  it('is deterministic for the same input, and uses the current time without `now`', () => {
    expect(buildDsn(input()).message.equals(buildDsn(input()).message)).toBe(true);
    const before = Date.now();
    const { message } = buildDsn(input({ now: undefined }));
    const date = /\r\nDate: ([^\r]+)\r\n/.exec(message.toString())?.[1] ?? '';
    expect(Math.abs(Date.parse(date) - before)).toBeLessThan(5000);
  });
});

describe('DSN input checks', () => {
  it('refuses the null reverse-path', () => {
    expect(() => buildDsn(input({ to: '' }))).toThrow(/null reverse-path/);
    expect(() => buildDsn(input({ to: '<>' }))).toThrow(/null reverse-path/);
  });

  it('refuses an empty recipient list and mixed kinds', () => {
    expect(() => buildDsn(input({ recipients: [] }))).toThrow(/no recipients/);
    const delayed = rcpt({ action: 'delayed', status: '4.4.1' });
    expect(() => buildDsn(input({ recipients: [rcpt(), delayed] }))).toThrow(/separate DSNs/);
    const delivered = rcpt({ action: 'delivered', status: '2.0.0' });
    expect(() => buildDsn(input({ recipients: [delayed, delivered] }))).toThrow(/separate DSNs/);
  });

  it('refuses a status that does not fit its action, and accepts 4.x.x for a failure (expired)', () => {
    expect(() => buildDsn(input({ recipients: [rcpt({ status: '2.0.0' })] }))).toThrow(/does not fit/);
    expect(() => buildDsn(input({ recipients: [rcpt({ status: '550' })] }))).toThrow(/does not fit/);
    expect(() => buildDsn(input({ recipients: [rcpt({ action: 'delayed', status: '5.1.1' })] }))).toThrow(
      /does not fit/,
    );
    expect(() => buildDsn(input({ recipients: [rcpt({ action: 'relayed', status: '4.0.0' })] }))).toThrow(
      /does not fit/,
    );
    expect(buildDsn(input({ recipients: [rcpt({ status: '4.4.7' })] })).subject).toBe(
      'Undelivered Mail Returned to Sender',
    );
  });
});
