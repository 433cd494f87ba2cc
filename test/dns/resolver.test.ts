import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsResolver, parseServer, resolverFromConfig } from '../../src/dns/index.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

const LONG = `v=DKIM1; k=rsa; p=${'A'.repeat(400)}`;
let dns: TestDnsServer;

beforeAll(async () => {
  dns = await startDnsServer({
    'example.com': [
      { type: 'MX', data: { preference: 20, exchange: 'mx2.example.com' } },
      { type: 'MX', data: { preference: 10, exchange: 'mx1.example.com' } },
      { type: 'TXT', data: 'v=spf1 mx -all' },
      { type: 'TXT', data: ['two ', 'strings'] },
      { type: 'A', data: '192.0.2.1', ttl: 2 },
      { type: 'AAAA', data: '2001:db8::1' },
    ],
    'long._domainkey.example.com': [{ type: 'TXT', data: LONG }],
    '_submission._tcp.example.com': [
      { type: 'SRV', data: { priority: 0, weight: 1, port: 587, target: 'mx1.example.com' } },
    ],
    'autoconfig.example.com': [{ type: 'CNAME', data: 'mx1.example.com' }],
  });
});
afterAll(() => dns.close());

function resolver(opts: ConstructorParameters<typeof DnsResolver>[0] = {}) {
  return new DnsResolver({ servers: [dns.server], timeout: 2000, ...opts });
}

describe('DnsResolver against the in-process DNS server', () => {
  it('answers MX (sorted by preference), TXT (strings joined), A, AAAA, SRV and CNAME', async () => {
    const r = resolver();
    expect(await r.resolveMx('example.com')).toEqual([
      { exchange: 'mx1.example.com', priority: 10 },
      { exchange: 'mx2.example.com', priority: 20 },
    ]);
    expect((await r.resolveTxt('example.com')).sort()).toEqual(['two strings', 'v=spf1 mx -all']);
    expect(await r.resolveTxt('long._domainkey.example.com')).toEqual([LONG]);
    expect(await r.resolve4('example.com')).toEqual(['192.0.2.1']);
    expect(await r.resolve6('example.com')).toEqual(['2001:db8::1']);
    expect(await r.resolveSrv('_submission._tcp.example.com')).toEqual([
      { name: 'mx1.example.com', port: 587, priority: 0, weight: 1 },
    ]);
    expect(await r.resolveCname('autoconfig.example.com')).toEqual(['mx1.example.com']);
  });

  it('fails like node:dns: ENOTFOUND for no such name, ENODATA for no such record', async () => {
    const r = resolver();
    await expect(r.resolveTxt('nowhere.example.com')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(r.resolveSrv('example.com')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('offers a mailauth-style resolve(name, rrtype) with dns.promises.resolve shapes', async () => {
    const r = resolver();
    expect(await r.resolve('long._domainkey.example.com', 'TXT')).toEqual([[LONG.slice(0, 255), LONG.slice(255)]]);
    expect(await r.resolve('example.com', 'a')).toEqual(['192.0.2.1']);
    await expect(r.resolve('nowhere.example.com', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('caches answers, negative ones too, and asks again once they expire', async () => {
    let now = 1_000_000;
    const r = resolver({ now: () => now, cacheTtl: 60_000, negativeTtl: 5_000 });
    const asked = (q: string) => dns.queries.filter((x) => x === q).length;
    const before = asked('MX example.com');
    await r.resolveMx('example.com');
    await r.resolveMx('EXAMPLE.com.');
    expect(asked('MX example.com') - before).toBe(1);
    now += 61_000;
    await r.resolveMx('example.com');
    expect(asked('MX example.com') - before).toBe(2);

    const nx = asked('TXT missing.example.com');
    await expect(r.resolveTxt('missing.example.com')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(r.resolveTxt('missing.example.com')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(asked('TXT missing.example.com') - nx).toBe(1);
    now += 6_000;
    await expect(r.resolveTxt('missing.example.com')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(asked('TXT missing.example.com') - nx).toBe(2);
  });

  it('honours the TTL of address records when it is shorter than the cache time', async () => {
    let now = 0;
    const r = resolver({ now: () => now });
    const before = dns.queries.filter((q) => q === 'A example.com').length;
    await r.resolve4('example.com');
    now += 1_000;
    await r.resolve4('example.com');
    now += 1_500; // past the record's 2 s TTL
    await r.resolve4('example.com');
    expect(dns.queries.filter((q) => q === 'A example.com').length - before).toBe(2);
  });

  it('asks once for concurrent lookups of the same record', async () => {
    const r = resolver();
    const before = dns.queries.filter((q) => q === 'SRV _submission._tcp.example.com').length;
    await Promise.all([1, 2, 3].map(() => r.resolveSrv('_submission._tcp.example.com')));
    expect(dns.queries.filter((q) => q === 'SRV _submission._tcp.example.com').length - before).toBe(1);
  });

  it('gives up after the timeout when the server never answers', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    try {
      const r = new DnsResolver({ servers: [`127.0.0.1:${silent.address().port}`], timeout: 400 });
      const started = Date.now();
      await expect(r.resolveTxt('example.com')).rejects.toMatchObject({ code: 'ETIMEOUT' });
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      silent.close();
    }
  });

  it('takes its servers and timeout from config.dns', async () => {
    const r = resolverFromConfig({ dns: { servers: [dns.server], timeout: 1000 } });
    expect(r.servers).toEqual([dns.server]);
    expect(await r.resolveTxt('long._domainkey.example.com')).toEqual([LONG]);
  });
});

describe('parseServer', () => {
  it('accepts IP addresses with optional ports', () => {
    expect(parseServer('127.0.0.1')).toBe('127.0.0.1');
    expect(parseServer(' 127.0.0.1:5353 ')).toBe('127.0.0.1:5353');
    expect(parseServer('::1')).toBe('::1');
    expect(parseServer('[::1]:5353')).toBe('[::1]:5353');
    expect(parseServer('[2001:db8::53]')).toBe('2001:db8::53');
  });

  it('refuses host names and bad ports with what to write instead', () => {
    expect(() => parseServer('dns.example.com')).toThrow(/must be an IP address .* e\.g\. 127\.0\.0\.1:5353/);
    expect(() => parseServer('127.0.0.1:0')).toThrow(/invalid port/);
    expect(() => parseServer('127.0.0.1:70000')).toThrow(/invalid port/);
    expect(() => new DnsResolver({ servers: ['resolver.local:53'] })).toThrow(/must be an IP address/);
  });
});
