import selfsigned from 'selfsigned';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_SIZE, SmtpClientError } from '../../src/smtp/client/index.js';
import { esmtp, type FakeServer, type FakeSession, fakeServer } from './fake-server.js';
import { connect, envelope, message } from './helpers.js';

// Extension negotiation against scripted servers offering exactly what each case needs.
let server: FakeServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});
const start = async (script: Parameters<typeof fakeServer>[0]) => {
  server = await fakeServer(script);
  return server;
};
const msg = message();
let cert: { key: string; cert: string };
beforeAll(async () => {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'fake.test' }], {
    keyType: 'ec',
    curve: 'P-256',
  });
  cert = { key: pems.private, cert: pems.cert };
});
/** Commands after EHLO in the first session: what the client actually sent for a transaction. */
const sent = (s: FakeServer) => s.sessions[0]?.commands.filter((c) => !c.startsWith('EHLO')) ?? [];

describe('refusals decided before sending', () => {
  it('SMTPUTF8 needed but not offered: 553 5.6.7 for everyone, nothing sent, still usable', async () => {
    const s = await start(esmtp());
    const c = await connect(s.port);
    for (const env of [
      envelope(['a@fake.test'], msg, { smtputf8: true }),
      envelope(['jöran@fake.test'], msg),
      envelope(['a@fake.test'], msg, { from: 'ünï@client.test' }),
    ]) {
      const r = await c.send(env, msg);
      expect(r.mail).toEqual({ code: 553, enhanced: '5.6.7', lines: ['Remote server does not support SMTPUTF8'] });
      expect(r.recipients[0]?.reply.code).toBe(553);
      expect(r.data).toBeNull();
    }
    expect(sent(s)).toEqual([]);
    expect(c.usable).toBe(true);
    c.close();
  });

  it('BINARYMIME without CHUNKING and BINARYMIME: 554 5.6.3', async () => {
    const s = await start(esmtp({ ehlo: ['PIPELINING', 'BINARYMIME'] }));
    const c = await connect(s.port);
    const r = await c.send(envelope(['a@fake.test'], msg, { bodyType: 'BINARYMIME' }), msg);
    expect(r.mail).toMatchObject({ code: 554, enhanced: '5.6.3' });
    expect(sent(s)).toEqual([]);
    c.close();
  });

  it('bigger than SIZE: 552 5.3.4 with the limit; smaller goes with SIZE=', async () => {
    const s = await start(esmtp({ ehlo: ['PIPELINING', 'SIZE 1000'] }));
    const c = await connect(s.port);
    expect(c.maxSize).toBe(1000);
    const r = await c.send(envelope(['a@fake.test'], msg, { size: 1001 }), msg);
    expect(r.mail).toEqual({ code: 552, enhanced: '5.3.4', lines: ['Message too big for remote server (limit 1000)'] });
    expect(r.recipients).toEqual([{ address: 'a@fake.test', reply: r.mail }]);
    expect(sent(s)).toEqual([]);
    expect((await c.send(envelope(['a@fake.test'], msg), msg)).data?.code).toBe(250);
    expect(sent(s)[0]).toBe(`MAIL FROM:<sender@client.test> SIZE=${msg.length}`);
    c.close();
  });

  it('an address that would break the command line is refused per recipient', async () => {
    const s = await start(esmtp());
    const c = await connect(s.port);
    const r = await c.send(envelope(['a@fake.test', 'b@x\r\nRSET'], msg), msg);
    expect(r.recipients.map((x) => x.reply.code)).toEqual([250, 501]);
    expect(sent(s)).toEqual(['MAIL FROM:<sender@client.test>', 'RCPT TO:<a@fake.test>', 'DATA']);
    c.close();
  });
});

describe('body transfer', () => {
  it('8-bit to a server without 8BITMIME goes as is, with a warning; with it, BODY=8BITMIME', async () => {
    const body = Buffer.from('Subject: caf\xe9\r\n\r\n\xe9t\xe9\r\n', 'latin1');
    for (const [ehlo, param, warnings] of [
      [['PIPELINING'], '', 1],
      [['PIPELINING', '8BITMIME'], ' BODY=8BITMIME', 0],
    ] as const) {
      const s = await start(esmtp({ ehlo: [...ehlo] }));
      const c = await connect(s.port);
      const r = await c.send(envelope(['a@fake.test'], body, { bodyType: '8BITMIME' }), body);
      expect(r.warnings).toHaveLength(warnings);
      expect(sent(s)[0]).toBe(`MAIL FROM:<sender@client.test>${param}`);
      expect(s.sessions[0]?.messages[0]?.raw.equals(body)).toBe(true);
      c.close();
      await s.close();
    }
  });

  it('DATA is dot-stuffed on the wire', async () => {
    const s = await start(esmtp());
    const c = await connect(s.port);
    const body = Buffer.from('Subject: dots\r\n\r\n.\r\n..two\r\n.end');
    await c.send(envelope(['a@fake.test'], body), body);
    expect(s.sessions[0]?.messages[0]?.raw.toString()).toBe('Subject: dots\r\n\r\n..\r\n...two\r\n..end\r\n');
    c.close();
  });

  it('CHUNKING with PIPELINING sends 1 MB BDAT chunks back to back; binary bytes arrive untouched', async () => {
    const s = await start(esmtp({ ehlo: ['PIPELINING', 'CHUNKING', 'BINARYMIME', '8BITMIME'] }));
    const c = await connect(s.port);
    const big = Buffer.alloc(CHUNK_SIZE * 2 + 10);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const r = await c.send(envelope(['a@fake.test'], big, { bodyType: 'BINARYMIME' }), big);
    expect(r.data?.code).toBe(250);
    const got = s.sessions[0]!;
    expect(got.commands.filter((x) => x.startsWith('BDAT'))).toEqual([
      `BDAT ${CHUNK_SIZE}`,
      `BDAT ${CHUNK_SIZE}`,
      'BDAT 10 LAST',
    ]);
    expect(got.commands[1]).toBe(`MAIL FROM:<sender@client.test> BODY=BINARYMIME`);
    expect(got.messages[0]?.via).toBe('BDAT');
    expect(got.messages[0]?.raw.equals(big)).toBe(true);
    c.close();
  });

  it('CHUNKING without PIPELINING stops at a refused chunk and resets', async () => {
    const s = await start(
      esmtp({ ehlo: ['CHUNKING'], on: (cmd) => (cmd.startsWith('BDAT') ? ['552 5.3.4 Too big'] : undefined) }),
    );
    const c = await connect(s.port);
    const big = Buffer.alloc(CHUNK_SIZE + 1, 'a');
    const r = await c.send(envelope(['a@fake.test'], big), big);
    expect(r.data).toMatchObject({ code: 552, enhanced: '5.3.4' });
    expect(sent(s)).toEqual(['MAIL FROM:<sender@client.test>', 'RCPT TO:<a@fake.test>', `BDAT ${CHUNK_SIZE}`, 'RSET']);
    expect(c.usable).toBe(true);
    c.close();
  });
});

/** A server offering STARTTLS (and AUTH LOGIN after it); `tamper` can break the upgrade. */
function tlsServer(tamper?: (s: FakeSession) => 'CLOSE' | undefined) {
  return esmtp({
    ehlo: ['PIPELINING', 'STARTTLS'],
    on: async (cmd, s) => {
      if (cmd === 'STARTTLS') {
        if (tamper) return tamper(s);
        s.reply('220 2.0.0 Ready to start TLS');
        await s.startTls({ key: cert.key, cert: cert.cert });
        return [];
      }
      if (cmd.startsWith('EHLO') && s.socket.constructor.name === 'TLSSocket') {
        return ['250-fake.test', '250-PIPELINING', '250 AUTH LOGIN'];
      }
      if (cmd === 'AUTH LOGIN') return ['334 VXNlcm5hbWU6'];
      if (cmd === Buffer.from('user').toString('base64')) return ['334 UGFzc3dvcmQ6'];
      if (cmd === Buffer.from('pw').toString('base64')) return ['235 2.7.0 Authentication successful'];
      return undefined;
    },
  });
}

describe('STARTTLS and AUTH', () => {
  it('opportunistic: upgrades, records an unverified certificate, re-reads EHLO, then AUTH LOGIN', async () => {
    const s = await start(tlsServer());
    const c = await connect(s.port, {
      tls: 'opportunistic',
      servername: 'fake.test',
      auth: { user: 'user', pass: 'pw' },
    });
    expect(c.tls).toMatchObject({ authorized: false, version: expect.stringMatching(/^TLSv1\.[23]$/) });
    expect(c.tls?.authorizationError).toBeTruthy();
    expect(c.extensions.has('STARTTLS')).toBe(false);
    expect(c.extensions.get('AUTH')).toBe('LOGIN');
    expect((await c.send(envelope(['a@fake.test'], msg), msg)).data?.code).toBe(250);
    c.close();
  });

  it('required + a CA that signed the certificate: verified', async () => {
    const s = await start(tlsServer());
    const c = await connect(s.port, { tls: 'required', servername: 'fake.test', tlsOptions: { ca: cert.cert } });
    expect(c.tls).toMatchObject({ authorized: true, authorizationError: null });
    c.close();
  });

  it('required: an unverifiable certificate, or no STARTTLS at all, is a temporary failure', async () => {
    const s = await start(tlsServer());
    await expect(connect(s.port, { tls: 'required', servername: 'fake.test' })).rejects.toMatchObject({
      stage: 'starttls',
      temporary: true,
    });
    const plain = await fakeServer(esmtp());
    await expect(connect(plain.port, { tls: 'required' })).rejects.toMatchObject({
      stage: 'starttls',
      temporary: true,
    });
    await plain.close();
  });

  it('opportunistic: a failed handshake reconnects once in plaintext and says so', async () => {
    const s = await start(
      tlsServer((sess) => {
        sess.reply('220 2.0.0 Ready', 'this is not a TLS record');
        return 'CLOSE';
      }),
    );
    const c = await connect(s.port, { tls: 'opportunistic' });
    expect(c.tls).toBeNull();
    expect(c.tlsFallback).toMatch(/TLS handshake/);
    expect(s.sessions).toHaveLength(2);
    expect(s.sessions[1]?.commands).not.toContain('STARTTLS');
    expect((await c.send(envelope(['a@fake.test'], msg), msg)).data?.code).toBe(250);
    c.close();
  });

  it('a reply pipelined behind 220 to STARTTLS (response injection) aborts the session', async () => {
    const s = await start(
      tlsServer((sess) => {
        sess.reply('220 2.0.0 Ready\r\n250-injected\r\n250 AUTH PLAIN');
        return undefined;
      }),
    );
    const err = await connect(s.port, { tls: 'opportunistic' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmtpClientError);
    expect(err).toMatchObject({ stage: 'starttls', temporary: true });
  });

  it('AUTH is never attempted without TLS', async () => {
    const s = await start(esmtp({ ehlo: ['AUTH PLAIN LOGIN'] }));
    await expect(connect(s.port, { auth: { user: 'user', pass: 'pw' } })).rejects.toMatchObject({ stage: 'auth' });
    expect(s.sessions[0]?.commands.some((x) => x.startsWith('AUTH'))).toBe(false);
  });
});
