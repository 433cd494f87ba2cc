import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCredentials } from '../../src/auth/credentials.js';
import { SmtpClientError } from '../../src/smtp/client/index.js';
import { inbox } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { connect, envelope, message, queuedId } from './helpers.js';

// A real mailroom server as the peer: PIPELINING, SIZE, 8BITMIME, SMTPUTF8, CHUNKING, BINARYMIME, DSN, STARTTLS.
let t: TestServer;
let small: TestServer;
let ca: string;
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  // hold.test is a sandbox domain: its mail stays queued, so the stored envelope can be read back.
  t = await startTestServer({
    domains: [
      { name: 'example.test', transport: 'mailbox' },
      { name: 'hold.test', transport: 'sandbox' },
    ],
  });
  const creds = await makeCredentials(PASSWORD);
  await t.server.resources.store.addUser('bob@example.test', creds.passwordHash, { scram: creds.scram });
  ca = fs.readFileSync(path.join(t.dataDir, 'tls', 'cert.pem'), 'utf8');
  small = await startTestServer({ limits: { messageSize: 2000, recipients: 2 } });
});
afterAll(async () => {
  await t?.stop();
  await small?.stop();
});

describe('against mailroom', () => {
  it('delivers with STARTTLS, PIPELINING and CHUNKING; records the unverified self-signed certificate', async () => {
    const c = await connect(t.port('smtp'), { tls: 'opportunistic', servername: 'mx.test' });
    expect(c.tls).toMatchObject({ authorized: false, version: 'TLSv1.3' });
    expect(c.tls?.authorizationError).toMatch(/SELF_SIGNED/);
    for (const ext of ['PIPELINING', 'CHUNKING', 'SIZE', 'DSN', 'SMTPUTF8', '8BITMIME', 'BINARYMIME']) {
      expect(c.extensions.has(ext), ext).toBe(true);
    }
    const msg = message('.leading dot\r\nplain line', 'chunked');
    const r = await c.send(envelope(['bob@example.test'], msg), msg);
    expect(r.mail).toMatchObject({ code: 250, enhanced: '2.1.0' });
    expect(r.recipients[0]?.reply).toMatchObject({ code: 250, enhanced: '2.1.5' });
    expect(r.data).toMatchObject({ code: 250, enhanced: '2.0.0' });
    const [stored] = await inbox(t, 'bob@example.test');
    expect(stored?.subarray(stored.length - msg.length).equals(msg)).toBe(true);
    await c.quit();
  });

  it('verifies the certificate when given its CA and the MX name', async () => {
    const c = await connect(t.port('smtp'), { tls: 'required', servername: 'mx.test', tlsOptions: { ca } });
    expect(c.tls).toMatchObject({ authorized: true, authorizationError: null });
    await c.quit();
    await expect(
      connect(t.port('smtp'), { tls: 'required', servername: 'other.test', tlsOptions: { ca } }),
    ).rejects.toMatchObject({ stage: 'starttls', temporary: true });
  });

  it('a verify hook replaces the CA check: it accepts, refuses (required), or is recorded (opportunistic)', async () => {
    const seen: string[] = [];
    const accept = (peer: { subject: { CN?: string | string[] } }) => {
      seen.push(String(peer.subject.CN));
      return null;
    };
    const ok = await connect(t.port('smtp'), {
      tls: 'required',
      servername: 'mx.test',
      tlsOptions: { verify: accept },
    });
    expect(ok.tls).toMatchObject({ authorized: false, verified: true });
    expect(seen).toEqual(['mx.test']);
    await ok.quit();
    const refuse = () => 'not the key we expected';
    await expect(
      connect(t.port('smtp'), { tls: 'required', servername: 'mx.test', tlsOptions: { verify: refuse } }),
    ).rejects.toMatchObject({ stage: 'starttls', temporary: true, message: /TLS peer not accepted: not the key/ });
    const noted = await connect(t.port('smtp'), { tls: 'opportunistic', tlsOptions: { verify: refuse } });
    expect(noted.tls).toMatchObject({ verified: false });
    await noted.quit();
  });

  it('honours a per-recipient 550 for an unknown user within one transaction', async () => {
    const c = await connect(t.port('smtp'));
    const msg = message();
    const r = await c.send(envelope(['nobody@example.test', 'bob@example.test'], msg), msg);
    expect(r.recipients.map((x) => [x.reply.code, x.reply.enhanced])).toEqual([
      [550, '5.1.1'],
      [250, '2.1.5'],
    ]);
    expect(r.data?.code).toBe(250);
    await c.quit();
  });

  it('passes DSN parameters, BODY and SMTPUTF8 through to the stored envelope', async () => {
    const c = await connect(t.port('smtp'), { tls: 'opportunistic' });
    const msg = Buffer.from('Subject: caf\xc3\xa9\r\n\r\nna\xc3\xafve\r\n', 'latin1');
    const r = await c.send(
      {
        from: 'séverine@elsewhere.test',
        recipients: [
          { address: 'x@hold.test', notify: ['SUCCESS', 'DELAY'], orcpt: 'rfc822;x+orig=1@hold.test' },
          { address: 'y@hold.test', notify: ['NEVER'] },
        ],
        size: msg.length,
        bodyType: '8BITMIME',
        smtputf8: true,
        dsn: { ret: 'HDRS', envid: 'env id+1' },
      },
      msg,
    );
    expect(r.data?.code).toBe(250);
    const id = queuedId(r.data?.lines);
    const { store } = t.server.resources;
    expect(await store.getMessage(id)).toMatchObject({
      mailFrom: 'séverine@elsewhere.test',
      bodyType: '8BITMIME',
      smtputf8: true,
      dsnRet: 'HDRS',
      dsnEnvid: 'env id+1',
    });
    expect((await store.getRecipients(id)).map((x) => [x.address, x.notify, x.orcpt])).toEqual([
      ['x@hold.test', ['SUCCESS', 'DELAY'], 'rfc822;x+orig=1@hold.test'],
      ['y@hold.test', ['NEVER'], null],
    ]);
    await c.quit();
  });

  it('sends BINARYMIME bodies with BDAT', async () => {
    const c = await connect(t.port('smtp'));
    const msg = Buffer.concat([Buffer.from('Subject: bin\r\n\r\n'), Buffer.from([0, 1, 2, 0xff, 0x0a, 0x2e, 0x0d])]);
    const r = await c.send(envelope(['z@hold.test'], msg, { bodyType: 'BINARYMIME' }), msg);
    expect(r.data?.code).toBe(250);
    expect(await t.server.resources.store.getMessage(queuedId(r.data?.lines))).toMatchObject({
      bodyType: 'BINARYMIME',
    });
    await c.quit();
  });

  it('reuses one connection for several messages, with RSET in between', async () => {
    const c = await connect(t.port('smtp'));
    for (let i = 0; i < 3; i++) {
      const msg = message(`number ${i}`);
      expect((await c.send(envelope(['w@hold.test'], msg), msg)).data?.code).toBe(250);
      expect(c.usable).toBe(true);
      expect((await c.rset()).code).toBe(250);
    }
    await c.quit();
    expect(c.usable).toBe(false);
  });

  it('AUTH PLAIN on the submission port after STARTTLS; a wrong password is a temporary auth error', async () => {
    const opts = { tls: 'required' as const, servername: 'mx.test', tlsOptions: { ca } };
    const c = await connect(t.port('submission'), { ...opts, auth: { user: 'bob@example.test', pass: PASSWORD } });
    const msg = Buffer.from('From: bob@example.test\r\nSubject: submitted\r\n\r\nHi\r\n');
    const r = await c.send(envelope(['bob@example.test'], msg, { from: 'bob@example.test' }), msg);
    expect(r.data?.code).toBe(250);
    await c.quit();
    const err = await connect(t.port('submission'), {
      ...opts,
      auth: { user: 'bob@example.test', pass: 'nope' },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmtpClientError);
    expect(err).toMatchObject({ stage: 'auth', temporary: true, reply: { code: 535, enhanced: '5.7.8' } });
  });
});

describe('against mailroom with small limits', () => {
  it('refuses locally when the message exceeds the declared SIZE', async () => {
    const c = await connect(small.port('smtp'));
    expect(c.maxSize).toBe(2000);
    const msg = message('x'.repeat(3000));
    const r = await c.send(envelope(['bob@example.test'], msg), msg);
    expect(r.mail).toMatchObject({ code: 552, enhanced: '5.3.4' });
    expect(c.usable).toBe(true);
    await c.quit();
  });

  it('an understated size is caught by the server at BDAT; the connection stays usable', async () => {
    const c = await connect(small.port('smtp'));
    const msg = message('x'.repeat(3000));
    const r = await c.send(envelope(['nobody@example.test'], msg, { size: 100 }), msg);
    expect(r.recipients[0]?.reply.code).toBe(550);
    expect(r.data).toBeNull();
    await small.server.resources.store.addUser('bob@example.test', '!');
    const r2 = await c.send(envelope(['bob@example.test'], msg, { size: 100 }), msg);
    expect(r2.data).toMatchObject({ code: 552, enhanced: '5.3.4' });
    expect(c.usable).toBe(true);
    await c.quit();
  });

  it('452 past the recipient limit; the rest go in a second transaction', async () => {
    const c = await connect(small.port('smtp'));
    const msg = message();
    const rcpts = ['bob@example.test', 'bob@example.test', 'bob@example.test'];
    const r = await c.send(envelope(rcpts, msg), msg);
    expect(r.recipients.map((x) => x.reply.code)).toEqual([250, 250, 452]);
    expect(r.recipients[2]?.reply.enhanced).toBe('4.5.3');
    expect(r.data?.code).toBe(250);
    const r2 = await c.send(envelope(['bob@example.test'], msg), msg);
    expect(r2.data?.code).toBe(250);
    await c.quit();
  });
});
