import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeCredentials } from '../../src/auth/credentials.js';
import { createMechanism } from '../../src/auth/index.js';
import { parseConfig } from '../../src/config/index.js';
import { AuthThrottle } from '../../src/policy/index.js';
import { MaildropLocks, Pop3Auth, Pop3Session } from '../../src/pop3/index.js';
import { type MailboxFixture, openMailboxFixture } from '../mailbox/fixtures.js';

// The session without sockets: lines in, output (lines, a body to stream, an action) out.
let f: MailboxFixture;
let locks: MaildropLocks;

function session(opts: { secure?: boolean; ip?: string } = {}): Pop3Session {
  const config = parseConfig({});
  const deps = {
    mechanisms: ['PLAIN', 'LOGIN', 'SCRAM-SHA-256'],
    create: (name: string) => createMechanism(name, { lookup: { user: (a) => f.store.getUser(a) }, hostname: 'h' }),
    throttle: new AuthThrottle(f.store, config.auth.failures),
    plaintextOnLoopback: false,
    logger: pino({ level: 'silent' }),
  };
  let s: Pop3Session | null = null;
  const auth = new Pop3Auth(deps, () => ({ ip: opts.ip ?? '192.0.2.7', secure: s?.isSecure ?? false, conn: 't' }));
  s = new Pop3Session(
    {
      hostname: 'pop.test',
      store: f.store,
      mailboxes: f.service,
      locks,
      auth,
      mechanisms: deps.mechanisms,
      tlsAvailable: true,
    },
    { secure: opts.secure ?? false },
  );
  return s;
}

beforeEach(async () => {
  f = await openMailboxFixture();
  locks = new MaildropLocks();
  const c = await makeCredentials('pw');
  const u = await f.store.addUser('sam@example.com', c.passwordHash, { scram: c.scram });
  await f.service.append(u.id, 'INBOX', Buffer.from('Subject: hi\r\n\r\nbody\r\n'));
});
afterEach(async () => {
  await f.close();
});

describe('Pop3Session', () => {
  it('asks for STLS in the clear, then logs in and returns RETR as a body to stream', async () => {
    const s = session();
    expect(s.greeting().lines).toEqual(['+OK pop.test POP3 mailroom ready']);
    expect((await s.handleLine('USER sam@example.com')).lines[0]).toMatch(/^-ERR \[AUTH\] /);
    expect(await s.handleLine('STLS')).toEqual({ lines: ['+OK Begin TLS negotiation'], action: 'starttls' });
    s.tlsStarted();
    expect(s.isSecure).toBe(true);
    expect(await s.handleLine('USER sam@example.com')).toEqual({ lines: ['+OK Send your password'] });
    expect((await s.handleLine('PASS pw')).lines[0]).toMatch(/^\+OK Logged in, 1 messages/);
    expect(s.user).toBe('sam@example.com');
    const retr = await s.handleLine('RETR 1');
    expect(retr.lines).toEqual(['+OK 21 octets']);
    expect(retr.body?.message).toMatchObject({ uid: 1, size: 21 });
    expect(retr.body?.bodyLines).toBeUndefined();
    expect((await s.handleLine('TOP 1 0')).body?.bodyLines).toBe(0);
    expect(locks.isHeld(retr.body!.message.mailboxId)).toBe(true);
    const quit = await s.handleLine('QUIT');
    expect(quit.action).toBe('close');
    expect(locks.isHeld(retr.body!.message.mailboxId)).toBe(false);
  });

  it('releases the lock without deleting when the connection goes away', async () => {
    const s = session({ secure: true });
    await s.handleLine('USER sam@example.com');
    await s.handleLine('PASS pw');
    expect((await s.handleLine('DELE 1')).lines).toEqual(['+OK Message 1 deleted']);
    const user = await f.store.getUser('sam@example.com');
    const id = (await f.service.require(user!.id, 'INBOX')).id;
    expect(locks.isHeld(id)).toBe(true);
    s.close();
    expect(locks.isHeld(id)).toBe(false);
    expect(await f.service.messages(id)).toHaveLength(1);
    expect(await s.handleLine('STAT')).toEqual({ lines: [] });
  });

  it('times out and refuses over-long lines with a closing action', async () => {
    expect(session().timeout()).toEqual({ lines: ['-ERR Autologout; idle for too long'], action: 'close' });
    expect(session().lineTooLong()).toEqual({ lines: ['-ERR Line too long'], action: 'close' });
    expect(session().shutdown()).toEqual({ lines: ['-ERR [SYS/TEMP] Server shutting down'], action: 'close' });
  });
});
