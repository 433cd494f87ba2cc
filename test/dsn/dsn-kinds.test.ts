// Each DSN kind built by src/dsn and read back by Python's email package, as a receiving MUA would.
import { describe, expect, it } from 'vitest';
import { buildDsn } from '../../src/dsn/index.js';
import { hasPython, input, ORIGINAL, parse, rcpt } from './helpers.js';

const later = new Date('2026-03-07T10:00:00Z');

describe.skipIf(!hasPython)(`DSN kinds${hasPython ? '' : ' (skipped: python3 is not installed)'}`, () => {
  it('failure: multipart/report from MAILER-DAEMON with text, delivery-status and the headers', async () => {
    const { message, subject } = buildDsn(input());
    expect(subject).toBe('Undelivered Mail Returned to Sender');
    const p = await parse(message);
    expect(p.headers.from).toBe('Mail Delivery System <MAILER-DAEMON@mx.example.com>');
    expect(p.headers.to).toBe('alice@example.com');
    expect(p.headers.subject).toBe(subject);
    expect(p.headers['auto-submitted']).toBe('auto-replied');
    expect(p.headers['mime-version']).toBe('1.0');
    expect(p.headers.date).toBe('Mon, 02 Mar 2026 10:16:00 +0000');
    expect(p.headers['message-id']).toMatch(/^<[^<>@\s]+@mx\.example\.com>$/);
    expect(p.content_type).toBe('multipart/report');
    expect(p.report_type).toBe('delivery-status');
    expect(p.parts.map((x) => x.type)).toEqual(['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
    expect(p.parts[0]?.charset).toBe('utf-8');

    expect(p.status.per_message).toEqual({
      'reporting-mta': 'dns; mx.example.com',
      'x-mailroom-queue-id': '3KX9QZ7B2C',
      'arrival-date': 'Mon, 2 Mar 2026 10:00:00 +0000',
    });
    expect(p.status.recipients).toEqual([
      {
        'original-recipient': 'rfc822;Bob@Example.ORG',
        'final-recipient': 'rfc822; bob@example.org',
        action: 'failed',
        status: '5.1.1',
        'remote-mta': 'dns; mx.example.org',
        'diagnostic-code': 'smtp; 550 5.1.1 <bob@example.org>: User unknown',
        'last-attempt-date': 'Mon, 2 Mar 2026 10:15:00 +0000',
        final: { type: 'rfc822', address: 'bob@example.org' },
      },
    ]);
    expect(p.original).toEqual({
      type: 'text/rfc822-headers',
      headers: {
        from: 'Alice <alice@example.com>',
        to: 'bob@example.org',
        subject: 'Lunch on Friday',
        'message-id': '<lunch.1@example.com>',
      },
      body: null,
    });
    const text = p.text.replace(/\s+/g, ' ');
    expect(text).toContain('could not be delivered');
    expect(text).toContain('<bob@example.org>: the mailbox does not exist (5.1.1)');
    expect(text).toContain('The server replied: 550 5.1.1 <bob@example.org>: User unknown');
    expect(text).toContain('What you can do: check the address for typing mistakes');
    expect(text).toContain('The headers of your message are attached.');
  });

  it('failure with RET=FULL returns the whole message as message/rfc822', async () => {
    const p = await parse(buildDsn(input({ ret: 'FULL' })).message);
    expect(p.parts[2]?.type).toBe('message/rfc822');
    expect(p.original?.headers.subject).toBe('Lunch on Friday');
    expect(p.original?.body).toBe('Shall we meet at noon?\r\n');
    expect(p.text).toContain('Your message is attached in full.');
  });

  it('failure with RET=HDRS, or no RET at all, returns only the headers', async () => {
    for (const ret of ['HDRS', null] as const) {
      const p = await parse(buildDsn(input({ ret })).message);
      expect(p.original?.type).toBe('text/rfc822-headers');
      expect(p.original?.body).toBeNull();
      expect(buildDsn(input({ ret })).message.includes('Shall we meet')).toBe(false);
    }
  });

  it('delay: Will-Retry-Until, its own subject, and headers only even for RET=FULL', async () => {
    const r = rcpt({
      action: 'delayed',
      status: '4.4.1',
      diagnosticCode: '421 4.4.1 mx.example.org: Connection timed out',
      willRetryUntil: later,
    });
    const { message, subject } = buildDsn(input({ ret: 'FULL', recipients: [r] }));
    expect(subject).toBe('Delayed Mail (still being retried)');
    const p = await parse(message);
    expect(p.headers.subject).toBe(subject);
    const [block] = p.status.recipients;
    expect(block?.action).toBe('delayed');
    expect(block?.status).toBe('4.4.1');
    expect(block?.['will-retry-until']).toBe('Sat, 7 Mar 2026 10:00:00 +0000');
    expect(p.original?.type).toBe('text/rfc822-headers');
    expect(message.includes('Shall we meet')).toBe(false);
    const text = p.text.replace(/\s+/g, ' ');
    expect(text).toContain('has not yet been delivered');
    expect(text).toContain('Delivery will be retried until Sat, 7 Mar 2026 10:00:00 +0000');
  });

  it('success: delivered, relayed and expanded recipients in one report, one block each', async () => {
    const ok = { status: '2.0.0', willRetryUntil: later };
    const recipients = [
      rcpt({ ...ok, action: 'delivered', diagnosticCode: '250 2.0.0 Ok: queued as 4F2A' }),
      rcpt({ ...ok, action: 'relayed', finalRecipient: 'carol@old.example', originalRecipient: null }),
      rcpt({ ...ok, action: 'expanded', finalRecipient: 'team@example.com', remoteMta: null, diagnosticCode: null }),
    ];
    const { message, subject } = buildDsn(input({ ret: 'FULL', recipients }));
    expect(subject).toBe('Successful Mail Delivery Report');
    const p = await parse(message);
    expect(p.status.recipients.map((b) => [b.final?.address, b.action, b.status])).toEqual([
      ['bob@example.org', 'delivered', '2.0.0'],
      ['carol@old.example', 'relayed', '2.0.0'],
      ['team@example.com', 'expanded', '2.0.0'],
    ]);
    // Will-Retry-Until means nothing once delivered, so it is left out even when given.
    expect(p.status.recipients.some((b) => 'will-retry-until' in b)).toBe(false);
    expect(p.status.recipients[2]).not.toHaveProperty('remote-mta');
    expect(p.status.recipients[2]).not.toHaveProperty('diagnostic-code');
    expect(p.original?.type).toBe('text/rfc822-headers');
    const text = p.text.replace(/\s+/g, ' ');
    expect(text).toContain('Your message reached the recipients below.');
    expect(text).toContain('does not report on delivery, so this is the last report');
    expect(text).toContain('delivered to a list or alias');
  });

  it('ENVID comes back as Original-Envelope-Id, and only when given', async () => {
    const p = await parse(buildDsn(input({ envid: 'QQ314159+x=y' })).message);
    expect(p.status.per_message['original-envelope-id']).toBe('QQ314159+x=y');
    expect(p.text).toContain('Envelope ID: QQ314159+x=y');
    const none = await parse(buildDsn(input()).message);
    expect(none.status.per_message).not.toHaveProperty('original-envelope-id');
  });

  it('ORCPT comes back verbatim as Original-Recipient, and only when given', async () => {
    const recipients = [
      rcpt({ originalRecipient: 'rfc822;Bob+Lists@EXAMPLE.org' }),
      rcpt({ finalRecipient: 'x400@gw.example', originalRecipient: 'x400;/G=Bob/S=Smith/O=Example/' }),
      rcpt({ finalRecipient: 'dave@example.org', originalRecipient: null }),
    ];
    const p = await parse(buildDsn(input({ recipients })).message);
    expect(p.status.recipients.map((b) => b['original-recipient'])).toEqual([
      'rfc822;Bob+Lists@EXAMPLE.org',
      'x400;/G=Bob/S=Smith/O=Example/',
      undefined,
    ]);
  });

  it('a non-SMTP reason is reported with the X-Mailroom diagnostic type; multi-line replies are joined', async () => {
    const recipients = [
      rcpt({ status: '5.4.4', remoteMta: null, diagnosticCode: 'Host or domain name not found (NXDOMAIN)' }),
      rcpt({ status: '5.7.1', diagnosticCode: '550-5.7.1 Rejected by policy.\r\n550 5.7.1 See https://e.org/p' }),
    ];
    const p = await parse(buildDsn(input({ recipients })).message);
    expect(p.status.recipients.map((b) => b['diagnostic-code'])).toEqual([
      'X-Mailroom; Host or domain name not found (NXDOMAIN)',
      'smtp; 550-5.7.1 Rejected by policy. 550 5.7.1 See https://e.org/p',
    ]);
    const text = p.text.replace(/\s+/g, ' ');
    expect(text).toContain('Reason: Host or domain name not found');
    expect(text).toContain("forward this report to the recipient's postmaster");
  });

  it('the original is byte-for-byte what was stored when it already uses CRLF', () => {
    const { message } = buildDsn(input({ ret: 'FULL' }));
    expect(message.includes(ORIGINAL)).toBe(true);
  });
});
