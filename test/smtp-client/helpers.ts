import { type Envelope, SmtpClient, type SmtpClientOptions } from '../../src/smtp/client/index.js';

/** Connect to a loopback server with test defaults (no TLS unless asked). */
export function connect(port: number, opts: Partial<SmtpClientOptions> = {}): Promise<SmtpClient> {
  return SmtpClient.connect({ host: '127.0.0.1', port, heloName: 'client.test', tls: 'none', ...opts });
}

/** A plain envelope for `message`; `extra` overrides any field. */
export function envelope(rcpts: string[], message: Buffer, extra: Partial<Envelope> = {}): Envelope {
  return {
    from: 'sender@client.test',
    recipients: rcpts.map((address) => ({ address })),
    size: message.length,
    bodyType: '7BIT',
    smtputf8: false,
    ...extra,
  };
}

/** A small CRLF message. */
export function message(body = 'Hello.', subject = 'test'): Buffer {
  return Buffer.from(`From: sender@client.test\r\nTo: rcpt@example.test\r\nSubject: ${subject}\r\n\r\n${body}\r\n`);
}

/** The `queued as ID` of a final reply. */
export function queuedId(lines: string[] | undefined): string {
  const m = /queued as ([0-9A-Za-z]+)/.exec((lines ?? []).join(' '));
  if (!m) throw new Error(`no queue id in ${JSON.stringify(lines)}`);
  return m[1] as string;
}
