import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsResolver, resolveMailRoute } from '../../src/dns/index.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

let dns: TestDnsServer;
let resolver: DnsResolver;

beforeAll(async () => {
  dns = await startDnsServer({
    'multi.test': [
      { type: 'MX', data: { preference: 20, exchange: 'backup.multi.test' } },
      { type: 'MX', data: { preference: 10, exchange: 'a.multi.test' } },
      { type: 'MX', data: { preference: 10, exchange: 'b.multi.test' } },
    ],
    'a.multi.test': [{ type: 'A', data: '127.0.0.2' }],
    'b.multi.test': [
      { type: 'A', data: '127.0.0.3' },
      { type: 'AAAA', data: '::1' },
    ],
    'backup.multi.test': [{ type: 'A', data: '127.0.0.4' }],
    'implicit.test': [{ type: 'A', data: '127.0.0.5' }],
    'nullmx.test': [{ type: 'MX', data: { preference: 0, exchange: '' } }],
    'dangling.test': [{ type: 'MX', data: { preference: 10, exchange: 'missing.dangling.test' } }],
  });
  resolver = new DnsResolver({ servers: [dns.server], cacheTtl: 0 });
});
afterAll(() => dns.close());

describe('resolveMailRoute (RFC 5321 5.1, RFC 7505)', () => {
  it('orders MX hosts by preference and lists IPv6 before IPv4 addresses', async () => {
    const route = await resolveMailRoute(resolver, 'multi.test', () => 0.99);
    expect(route.kind).toBe('hosts');
    if (route.kind !== 'hosts') return;
    expect(route.hosts.map((h) => h.preference)).toEqual([10, 10, 20]);
    expect(route.hosts.at(-1)).toMatchObject({ name: 'backup.multi.test', addresses: ['127.0.0.4'] });
    expect(route.hosts.find((h) => h.name === 'b.multi.test')?.addresses).toEqual(['::1', '127.0.0.3']);
  });

  it('shuffles hosts of equal preference', async () => {
    const firsts = new Set<string>();
    for (const r of [0, 0.99]) {
      const route = await resolveMailRoute(resolver, 'multi.test', () => r);
      if (route.kind === 'hosts') firsts.add(route.hosts[0]?.name ?? '');
    }
    expect(firsts).toEqual(new Set(['a.multi.test', 'b.multi.test']));
  });

  it('falls back to the domain itself when there is no MX (implicit MX)', async () => {
    expect(await resolveMailRoute(resolver, 'implicit.test')).toEqual({
      kind: 'hosts',
      implicit: true,
      hosts: [{ name: 'implicit.test', preference: 0, addresses: ['127.0.0.5'] }],
    });
  });

  it('recognizes a null MX, and a domain with no mail host at all', async () => {
    expect(await resolveMailRoute(resolver, 'nullmx.test')).toEqual({ kind: 'null-mx' });
    expect(await resolveMailRoute(resolver, 'nosuchdomain.test')).toEqual({ kind: 'none' });
    expect(await resolveMailRoute(resolver, 'dangling.test')).toEqual({ kind: 'none' });
  });

  it('reports a DNS failure as temporary', async () => {
    const dead = new DnsResolver({ servers: ['127.0.0.1:9'], timeout: 300, cacheTtl: 0 });
    expect((await resolveMailRoute(dead, 'multi.test')).kind).toBe('temporary');
  });
});
