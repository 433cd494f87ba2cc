// Connection-time checks over real sockets: DNS blocklists with return codes, the allow-list,
// forward-confirmed reverse DNS, HELO rules and the per-IP connection rate (fake clock).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

let dns: TestDnsServer;
const servers: TestServer[] = [];

beforeAll(async () => {
  dns = await startDnsServer({
    // 127.0.0.1 is listed in bl.test (code 127.0.0.2) and in codes.test with a code nobody counts.
    '1.0.0.127.bl.test': [{ type: 'A', data: '127.0.0.2' }],
    '1.0.0.127.codes.test': [{ type: 'A', data: '127.0.0.10' }],
    // 127.0.0.2 has a PTR that resolves back; 127.0.0.3 one that does not; 127.0.0.4 none; .5 fails.
    '2.0.0.127.in-addr.arpa': [{ type: 'PTR', data: 'good.client.test' }],
    'good.client.test': [{ type: 'A', data: '127.0.0.2' }],
    '3.0.0.127.in-addr.arpa': [{ type: 'PTR', data: 'liar.client.test' }],
    'liar.client.test': [{ type: 'A', data: '192.0.2.1' }],
  });
  // A blocklist zone that is down, and a reverse zone that fails (SERVFAIL).
  dns.fail('1.0.0.127.broken.test');
  dns.fail('5.0.0.127.in-addr.arpa');
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});
afterAll(() => dns?.close());

async function server(inbound: Record<string, unknown>, now?: () => number): Promise<TestServer> {
  const s = await startTestServer({ dns: { servers: [dns.server], timeout: 2000 }, inbound }, { now });
  servers.push(s);
  return s;
}

async function greeting(s: TestServer, localAddress = '127.0.0.1'): Promise<string> {
  const c = await RawSmtp.connect(s.port('smtp'), { localAddress });
  try {
    return (await c.read()).raw;
  } finally {
    c.close();
  }
}

describe('DNS blocklists', () => {
  it('a listed client gets 554 5.7.1 as greeting and the connection ends', async () => {
    const s = await server({ dnsbl: { zones: [{ zone: 'bl.test' }] } });
    const c = await RawSmtp.connect(s.port('smtp'));
    expect((await c.read()).raw).toBe('554 5.7.1 Service unavailable; client [127.0.0.1] blocked using bl.test\r\n');
    await c.waitClosed();
  });

  it('only configured return codes count', async () => {
    const counted = await server({
      dnsbl: { zones: [{ zone: 'codes.test', codes: { '127.0.0.10': 'spam source' } }] },
    });
    expect(await greeting(counted)).toMatch(/^554 5\.7\.1 .*blocked using codes\.test/);
    const other = await server({ dnsbl: { zones: [{ zone: 'codes.test', codes: { '127.0.0.4': 'exploits' } }] } });
    expect(await greeting(other)).toMatch(/^220 /);
  });

  it('an unlisted client, and a zone that fails to answer, let the client in', async () => {
    const s = await server({ dnsbl: { zones: [{ zone: 'broken.test' }, { zone: 'bl.test' }] } });
    expect(await greeting(s, '127.0.0.2')).toMatch(/^220 /);
  });

  it('allow-listed networks skip the blocklists', async () => {
    const s = await server({ allow: ['127.0.0.0/30'], dnsbl: { zones: [{ zone: 'bl.test' }] } });
    expect(await greeting(s)).toMatch(/^220 /);
  });
});

describe('reverse DNS (requireReverseDns)', () => {
  it('a PTR name that resolves back is accepted', async () => {
    const s = await server({ requireReverseDns: true });
    expect(await greeting(s, '127.0.0.2')).toMatch(/^220 /);
  });
  it('a PTR name that does not resolve back: 550 5.7.25', async () => {
    const s = await server({ requireReverseDns: true });
    expect(await greeting(s, '127.0.0.3')).toBe(
      '550 5.7.25 Client host rejected: cannot find your hostname, [127.0.0.3]\r\n',
    );
  });
  it('no PTR at all: 550 5.7.25', async () => {
    const s = await server({ requireReverseDns: true });
    expect(await greeting(s, '127.0.0.4')).toMatch(/^550 5\.7\.25 /);
  });
  it('a failing lookup: 450 4.7.25 (try again later)', async () => {
    const s = await server({ requireReverseDns: true });
    expect(await greeting(s, '127.0.0.5')).toBe(
      '450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.5]\r\n',
    );
  });
  it('off by default', async () => {
    const s = await server({});
    expect(await greeting(s, '127.0.0.4')).toMatch(/^220 /);
  });
});

describe('HELO checks', () => {
  async function helo(s: TestServer, name: string): Promise<string> {
    const c = await RawSmtp.connect(s.port('smtp'));
    try {
      await c.read();
      return (await c.cmd(`EHLO ${name}`)).raw;
    } finally {
      c.close();
    }
  }
  it('requireFqdn refuses a bare name, accepts a FQDN and an address literal', async () => {
    const s = await server({ helo: { requireFqdn: true } });
    expect(await helo(s, 'localhost')).toBe('550 5.7.1 Helo command rejected: need fully-qualified hostname\r\n');
    expect(await helo(s, 'mail.client.test')).toMatch(/^250-/);
    expect(await helo(s, '[127.0.0.1]')).toMatch(/^250-/);
  });
  it('rejectOurName refuses a client greeting with our host name', async () => {
    const s = await server({ helo: { rejectOurName: true } });
    expect(await helo(s, 'MX.test')).toBe('550 5.7.1 Helo command rejected: you are not me\r\n');
    expect(await helo(s, 'localhost')).toMatch(/^250-/);
  });
  it('both off by default', async () => {
    const s = await server({});
    expect(await helo(s, 'localhost')).toMatch(/^250-/);
  });
});

describe('per-IP connection rate', () => {
  it('past the rate new connections get 421 4.7.0; after the window they get in again', async () => {
    let now = 1_000_000;
    const s = await server({ connectionRate: '2/min' }, () => now);
    expect(await greeting(s)).toMatch(/^220 /);
    expect(await greeting(s)).toMatch(/^220 /);
    expect(await greeting(s)).toBe('421 4.7.0 Too many connections from your address, try again later\r\n');
    // Another address has its own count.
    expect(await greeting(s, '127.0.0.2')).toMatch(/^220 /);
    now += 61_000;
    expect(await greeting(s)).toMatch(/^220 /);
  });
  it('counts only the smtp listener: users on the submission port are not limited by it', async () => {
    const s = await server({ connectionRate: '1/min' }, () => 5);
    for (let i = 0; i < 3; i++) {
      const c = await RawSmtp.connect(s.port('submission'));
      expect((await c.read()).raw).toMatch(/^220 /);
      c.close();
    }
    expect(await greeting(s)).toMatch(/^220 /);
    expect(await greeting(s)).toMatch(/^421 4\.7\.0 /);
  });
  it('allow-listed networks are not counted', async () => {
    const s = await server({ connectionRate: '1/min', allow: ['127.0.0.1/32'] }, () => 5);
    for (let i = 0; i < 3; i++) expect(await greeting(s)).toMatch(/^220 /);
  });
});
