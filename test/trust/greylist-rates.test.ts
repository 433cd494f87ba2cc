// Greylisting and rate limits on a fake clock, state in the store: every refusal code is asserted.
import { afterEach, describe, expect, it } from 'vitest';
import { makeCredentials } from '../../src/auth/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp, type ServerReply } from '../helpers/smtp-client.js';
import { message, transact } from './helpers.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const clock = (start = 10_000_000) => {
  const c = { now: start, fn: () => c.now };
  return c;
};

async function server(
  inbound: Record<string, unknown>,
  now: () => number,
  extra: Record<string, unknown> = {},
): Promise<TestServer> {
  const s = await startTestServer({ inbound: { authentication: { enabled: false }, ...inbound }, ...extra }, { now });
  servers.push(s);
  const { store } = s.server.resources;
  for (const u of ['bob@example.test', 'carol@example.test']) await store.addUser(u, '!');
  await store.addDomain('other.test', 'mailbox');
  await store.addUser('dave@other.test', '!');
  return s;
}

/** One transaction from `localAddress`; the RCPT replies and the final reply. */
async function attempt(
  s: TestServer,
  from: string,
  to: string[],
  localAddress = '127.0.0.1',
): Promise<{ mail: ServerReply; rcpts: ServerReply[]; end: ServerReply | null }> {
  const c = await RawSmtp.connect(s.port('smtp'), { localAddress });
  try {
    await c.read();
    await c.cmd('EHLO client.example');
    return await transact(c, from, to, message(from, to[0] as string, 'greylist'));
  } finally {
    c.close();
  }
}

describe('greylisting', () => {
  const cfg = { greylist: { enabled: true, delay: '5m', retryWindow: '4h', autoAllowAfter: 0 } };

  it('defers a new triplet with 451 4.7.1, refuses an early retry, passes after the delay and stays passed', async () => {
    const c = clock();
    const s = await server(cfg, c.fn);
    const first = await attempt(s, 'a@sender.test', ['bob@example.test']);
    expect(first.rcpts[0]?.raw).toBe('451 4.7.1 Greylisted, please try again in 300 seconds\r\n');
    c.now += 100_000;
    const early = await attempt(s, 'a@sender.test', ['bob@example.test']);
    expect(early.rcpts[0]?.raw).toBe('451 4.7.1 Greylisted, please try again in 200 seconds\r\n');
    c.now += 200_000;
    const retry = await attempt(s, 'a@sender.test', ['bob@example.test']);
    expect(retry.rcpts[0]?.code).toBe(250);
    expect(retry.end?.code).toBe(250);
    c.now += 86_400_000;
    expect((await attempt(s, 'a@sender.test', ['bob@example.test'])).rcpts[0]?.code).toBe(250);
  });

  it('the triplet is client /24, sender and recipient: any other sender or recipient starts over', async () => {
    const c = clock();
    const s = await server(cfg, c.fn);
    await attempt(s, 'a@sender.test', ['bob@example.test']);
    c.now += 301_000;
    // Same /24 (127.0.0.2): passes. Another recipient or sender: greylisted.
    expect((await attempt(s, 'a@sender.test', ['bob@example.test'], '127.0.0.2')).rcpts[0]?.code).toBe(250);
    expect((await attempt(s, 'a@sender.test', ['carol@example.test'])).rcpts[0]?.code).toBe(451);
    expect((await attempt(s, 'b@sender.test', ['bob@example.test'])).rcpts[0]?.code).toBe(451);
  });

  it('a triplet not retried within the retry window expires and starts over', async () => {
    const c = clock();
    const s = await server(cfg, c.fn);
    await attempt(s, 'a@sender.test', ['bob@example.test']);
    c.now += 5 * 3_600_000;
    const late = await attempt(s, 'a@sender.test', ['bob@example.test']);
    expect(late.rcpts[0]?.raw).toBe('451 4.7.1 Greylisted, please try again in 300 seconds\r\n');
  });

  it('auto-allows a client network after N passed triplets', async () => {
    const c = clock();
    const s = await server({ greylist: { ...cfg.greylist, autoAllowAfter: 1 } }, c.fn);
    await attempt(s, 'a@sender.test', ['bob@example.test']);
    c.now += 301_000;
    expect((await attempt(s, 'a@sender.test', ['bob@example.test'])).rcpts[0]?.code).toBe(250);
    // A brand-new triplet from the same network is not greylisted any more.
    expect((await attempt(s, 'z@elsewhere.test', ['carol@example.test'])).rcpts[0]?.code).toBe(250);
  });

  it('only the configured domains are greylisted; the allow-list skips it', async () => {
    const c = clock();
    const s = await server({ greylist: { ...cfg.greylist, domains: ['other.test'] }, allow: ['127.0.0.2/32'] }, c.fn);
    expect((await attempt(s, 'a@sender.test', ['bob@example.test'])).rcpts[0]?.code).toBe(250);
    expect((await attempt(s, 'a@sender.test', ['dave@other.test'])).rcpts[0]?.code).toBe(451);
    expect((await attempt(s, 'a@sender.test', ['dave@other.test'], '127.0.0.2')).rcpts[0]?.code).toBe(250);
  });

  it('state survives a restart (it is in the store)', async () => {
    const c = clock();
    const s = await server(cfg, c.fn);
    await attempt(s, 'a@sender.test', ['bob@example.test']);
    const dataDir = s.dataDir;
    await s.server.stop('restart');
    servers.splice(servers.indexOf(s), 1);
    c.now += 301_000;
    const again = await startTestServer(
      { dataDir, inbound: { authentication: { enabled: false }, ...cfg } },
      { now: c.fn },
    );
    servers.push(again);
    expect((await attempt(again, 'a@sender.test', ['bob@example.test'])).rcpts[0]?.code).toBe(250);
  });
});

describe('rate limits', () => {
  it('per client IP: 450 4.7.1 at MAIL past the limit, and again after the window slides', async () => {
    const c = clock(60_000_000);
    const s = await server({ rateLimits: { clientIp: '2/h' } }, c.fn);
    expect((await attempt(s, 'a@x.test', ['bob@example.test'])).end?.code).toBe(250);
    expect((await attempt(s, 'a@x.test', ['bob@example.test'])).end?.code).toBe(250);
    const refused = await attempt(s, 'a@x.test', ['bob@example.test']);
    expect(refused.mail.raw).toMatch(
      /^450 4\.7\.1 Rate limit exceeded for your address, try again in \d+ seconds\r\n$/,
    );
    expect((await attempt(s, 'a@x.test', ['bob@example.test'], '127.0.0.2')).end?.code).toBe(250);
    c.now += 2 * 3_600_000;
    expect((await attempt(s, 'a@x.test', ['bob@example.test'])).end?.code).toBe(250);
  });

  it('per sender domain', async () => {
    const c = clock();
    const s = await server({ rateLimits: { senderDomain: '1/min' } }, c.fn);
    expect((await attempt(s, 'a@x.test', ['bob@example.test'])).end?.code).toBe(250);
    expect((await attempt(s, 'b@X.test', ['bob@example.test'])).mail.raw).toMatch(
      /^450 4\.7\.1 Rate limit exceeded for sender domain, try again in \d+ seconds/,
    );
    expect((await attempt(s, 'a@y.test', ['bob@example.test'])).end?.code).toBe(250);
  });

  it('per recipient: 450 4.7.1 at RCPT', async () => {
    const c = clock();
    const s = await server({ rateLimits: { recipient: '1/min' } }, c.fn);
    expect((await attempt(s, 'a@x.test', ['bob@example.test'])).end?.code).toBe(250);
    const r = await attempt(s, 'a@x.test', ['bob@example.test', 'carol@example.test']);
    expect(r.rcpts[0]?.raw).toMatch(/^450 4\.7\.1 Rate limit exceeded for recipient, try again in \d+ seconds/);
    expect(r.rcpts[1]?.code).toBe(250);
    expect(r.end?.code).toBe(250);
  });

  it('per authenticated user (submission)', async () => {
    const c = clock();
    const s = await server({ rateLimits: { user: '1/min' } }, c.fn);
    const { store } = s.server.resources;
    const creds = await makeCredentials('a long passphrase');
    await store.addUser('alice@example.test', creds.passwordHash, { scram: creds.scram });
    const submit = async () => {
      const conn = await RawSmtp.connect(s.port('submissions'), { tls: true });
      try {
        await conn.read();
        await conn.cmd('EHLO laptop.test');
        const b64 = Buffer.from('\0alice@example.test\0a long passphrase').toString('base64');
        expect((await conn.cmd(`AUTH PLAIN ${b64}`)).code).toBe(235);
        return (await conn.cmd('MAIL FROM:<alice@example.test>')).raw;
      } finally {
        conn.close();
      }
    };
    expect(await submit()).toMatch(/^250 /);
    expect(await submit()).toMatch(/^450 4\.7\.1 Rate limit exceeded for your account, try again in \d+ seconds/);
    c.now += 120_000;
    expect(await submit()).toMatch(/^250 /);
  });
});
