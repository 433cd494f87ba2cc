import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDialog } from '../helpers/dialog.js';
import { ehlo } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

// RFC 8314 implicit TLS on submissions, and RFC 6409 submission, which needs TLS and then AUTH.
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ limits: { commandTimeout: 2000 } });
});
afterAll(() => t.stop());

describe('submissions (implicit TLS)', () => {
  it('speaks TLS from the first byte, then SMTP', async () => {
    const c = await RawSmtp.connect(t.port('submissions'), { tls: true });
    const socket = c.socket as tls.TLSSocket;
    expect(socket.encrypted).toBe(true);
    expect(socket.getProtocol()).toMatch(/^TLSv1\.[23]$/);
    expect((await c.read()).raw).toBe('220 mx.test ESMTP mailroom\r\n');
    c.close();
  });

  it('offers AUTH but no STARTTLS; MAIL without AUTH is 530 5.7.0 Authentication required', async () => {
    const c = await runDialog(
      t.port('submissions'),
      `
      C: EHLO client.example
      S: 250-mx.test greets client.example
      S: 250-PIPELINING
      S: 250-SIZE 26214400
      S: 250-8BITMIME
      S: 250-SMTPUTF8
      S: 250-ENHANCEDSTATUSCODES
      S: 250-CHUNKING
      S: 250-BINARYMIME
      S: 250-DSN
      S: 250-AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256
      S: 250 HELP
      C: STARTTLS
      S: 503 5.5.1 *
      C: MAIL FROM:<alice@example.test>
      S: 530 5.7.0 Authentication required
      C: RCPT TO:<bob@example.test>
      S: 503 5.5.1 *
      C: QUIT
      S: 221 2.0.0 Bye
      `,
      { tls: true },
    );
    await c.waitClosed();
  });

  it('refuses a TLS 1.1 client', async () => {
    const err = await new Promise<Error | null>((resolve) => {
      const s = tls.connect({
        port: t.port('submissions'),
        host: '127.0.0.1',
        rejectUnauthorized: false,
        minVersion: 'TLSv1.1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      s.once('secureConnect', () => resolve(null));
      s.once('error', resolve);
    });
    expect(err?.message).toMatch(/protocol version|unsupported protocol/i);
  });

  it('a plaintext client gets no greeting, just a closed connection', async () => {
    const socket = net.connect({ port: t.port('submissions'), host: '127.0.0.1' });
    let received = '';
    socket.on('data', (d) => {
      received += d.toString('latin1');
    });
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    socket.write('EHLO plain.example\r\n');
    await new Promise((r) => socket.once('close', r));
    expect(received).not.toContain('220');
  });
});

describe('submission (port 587 style)', () => {
  it('without TLS, MAIL is 530 5.7.0 Must issue a STARTTLS command first', async () => {
    (
      await runDialog(
        t.port('submission'),
        `
        ${ehlo()}
        C: MAIL FROM:<alice@example.test>
        S: 530 5.7.0 Must issue a STARTTLS command first
        C: RCPT TO:<bob@example.test>
        S: 503 5.5.1 *
        `,
      )
    ).close();
  });

  it('after STARTTLS, MAIL is 530 5.7.0 Authentication required', async () => {
    const c = await runDialog(
      t.port('submission'),
      `
      C: EHLO client.example
      S: 250-*
      S: 250-*
      S: 250-*
      S: 250-*
      S: 250-*
      S: 250-*
      S: 250-*
      S: 250-*
      S: 250-*
      S: 250-STARTTLS
      S: 250 HELP
      C: STARTTLS
      S: 220 2.0.0 *
      `,
    );
    await c.startTls();
    expect((await c.cmd('EHLO client.example')).lines).not.toContain('STARTTLS');
    expect((await c.cmd('MAIL FROM:<alice@example.test>')).raw).toBe('530 5.7.0 Authentication required\r\n');
    c.close();
  });
});
