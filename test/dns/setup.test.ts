import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimRecord, generateDkimKey } from '../../src/dkim/index.js';
import {
  checkRecords,
  DnsResolver,
  mtaStsPolicy,
  publicPorts,
  type RecordCheck,
  requiredRecords,
  zoneLine,
} from '../../src/dns/index.js';
import { startDnsServer, type TestDnsServer, type TestZone } from '../helpers/dns-server.js';

const key = { domain: 'example.com', selector: 'mr1', algorithm: 'ed25519' as const, active: true };
const pair = generateDkimKey('ed25519');
const dkimKey = { ...key, publicKey: pair.publicKey };
const records = requiredRecords({ domain: 'example.com', hostname: 'mx.example.com', dkimKeys: [dkimKey] });
const byName = (list: { purpose: string; name: string }[], name: string) => list.find((r) => r.name === name);

describe('requiredRecords', () => {
  it('lists MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, SRV and autoconfig records', () => {
    expect(records.map((r) => [r.purpose, r.type, r.name, r.value])).toEqual([
      ['MX', 'MX', 'example.com', '10 mx.example.com'],
      ['SPF', 'TXT', 'example.com', 'v=spf1 mx -all'],
      ['DKIM', 'TXT', 'mr1._domainkey.example.com', `v=DKIM1; k=ed25519; p=${pair.publicKey}`],
      ['DMARC', 'TXT', '_dmarc.example.com', 'v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com'],
      ['MTA-STS', 'TXT', '_mta-sts.example.com', `v=STSv1; id=${mtaStsPolicy('example.com', 'mx.example.com').id}`],
      ['TLS-RPT', 'TXT', '_smtp._tls.example.com', 'v=TLSRPTv1; rua=mailto:postmaster@example.com'],
      ['SRV', 'SRV', '_submission._tcp.example.com', '0 1 587 mx.example.com'],
      ['SRV', 'SRV', '_submissions._tcp.example.com', '0 1 465 mx.example.com'],
      ['SRV', 'SRV', '_imaps._tcp.example.com', '0 1 993 mx.example.com'],
      ['SRV', 'SRV', '_pop3s._tcp.example.com', '0 1 995 mx.example.com'],
      ['autoconfig', 'CNAME', 'autoconfig.example.com', 'mx.example.com'],
    ]);
  });

  it('says how to make a DKIM key when there is none, and lists every key for rotation', () => {
    const none = requiredRecords({ domain: 'example.com', hostname: 'mx.example.com', dkimKeys: [] });
    expect(none.find((r) => r.purpose === 'DKIM')).toMatchObject({
      value: null,
      note: 'no DKIM key yet: run `mailroom dkim generate example.com`',
    });
    const old = { ...dkimKey, selector: 'mr0', active: false };
    const two = requiredRecords({ domain: 'example.com', hostname: 'mx.example.com', dkimKeys: [old, dkimKey] });
    expect(two.filter((r) => r.purpose === 'DKIM').map((r) => [r.selector, r.note?.split(' ')[0]])).toEqual([
      ['mr1', 'active'],
      ['mr0', 'inactive'],
    ]);
  });

  it('advertises the ports of public listeners, the standard ports otherwise', () => {
    const ports = publicPorts([
      { protocol: 'submission', address: '0.0.0.0', port: 2587 },
      { protocol: 'imaps', address: '127.0.0.1', port: 2993 },
      { protocol: 'smtp', address: '0.0.0.0', port: 25 },
    ]);
    expect(ports).toEqual({ submission: 2587 });
    const srv = requiredRecords({ domain: 'example.com', hostname: 'mx.example.com', dkimKeys: [], ports });
    expect(byName(srv, '_submission._tcp.example.com')).toMatchObject({ value: '0 1 2587 mx.example.com' });
    expect(byName(srv, '_imaps._tcp.example.com')).toMatchObject({ value: '0 1 993 mx.example.com' });
  });

  it('writes zone-file lines with absolute names and TXT values in strings of at most 255 octets', () => {
    expect(zoneLine({ type: 'MX', name: 'example.com', value: '10 mx.example.com' })).toBe(
      'example.com. IN MX 10 mx.example.com.',
    );
    expect(zoneLine({ type: 'CNAME', name: 'autoconfig.example.com', value: 'mx.example.com' })).toBe(
      'autoconfig.example.com. IN CNAME mx.example.com.',
    );
    const rsa = dkimRecord({ domain: 'example.com', selector: 's', algorithm: 'rsa-2048', publicKey: 'A'.repeat(392) });
    const line = zoneLine({ type: 'TXT', ...rsa });
    const strings = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    expect(strings.map((s) => s.length)).toEqual([255, rsa.value.length - 255]);
    expect(strings.join('')).toBe(rsa.value);
    expect(zoneLine({ type: 'TXT', name: 'q.example.com', value: 'say "hi" \\ bye' })).toBe(
      'q.example.com. IN TXT "say \\"hi\\" \\\\ bye"',
    );
  });

  it('makes an MTA-STS policy whose id follows its content', () => {
    const a = mtaStsPolicy('example.com', 'mx.example.com');
    expect(a.url).toBe('https://mta-sts.example.com/.well-known/mta-sts.txt');
    expect(a.text).toBe('version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 604800\n');
    expect(a.id).toMatch(/^[0-9a-f]{16}$/);
    expect(mtaStsPolicy('example.com', 'mx2.example.com').id).not.toBe(a.id);
  });
});

describe('checkRecords against the in-process DNS server', () => {
  let dns: TestDnsServer;
  let checks: RecordCheck[];
  const zone: TestZone = {
    // MX points elsewhere → wrong
    'example.com': [
      { type: 'MX', data: { preference: 10, exchange: 'mail.other.example' } },
      { type: 'TXT', data: 'v=spf1 mx ~all' },
      { type: 'TXT', data: 'google-site-verification=abc' },
    ],
    'mx.example.com': [{ type: 'A', data: '192.0.2.10' }],
    // DKIM published as the stored key, split in strings → ok
    'mr1._domainkey.example.com': [{ type: 'TXT', data: `v=DKIM1; k=ed25519; p=${pair.publicKey}` }],
    // two DMARC records → wrong
    '_dmarc.example.com': [
      { type: 'TXT', data: 'v=DMARC1; p=none' },
      { type: 'TXT', data: 'v=DMARC1; p=reject' },
    ],
    '_mta-sts.example.com': [{ type: 'TXT', data: 'v=STSv1; id=20240501' }],
    // TLS-RPT without rua → wrong
    '_smtp._tls.example.com': [{ type: 'TXT', data: 'v=TLSRPTv1;' }],
    '_submission._tcp.example.com': [
      { type: 'SRV', data: { priority: 0, weight: 1, port: 587, target: 'mx.example.com' } },
    ],
    '_submissions._tcp.example.com': [
      { type: 'SRV', data: { priority: 0, weight: 1, port: 2465, target: 'mx.example.com' } },
    ],
    // autoconfig as an A record with the mail server's address → ok
    'autoconfig.example.com': [{ type: 'A', data: '192.0.2.10' }],
  };

  beforeAll(async () => {
    dns = await startDnsServer(zone);
    checks = await checkRecords(records, new DnsResolver({ servers: [dns.server], timeout: 2000 }));
  });
  afterAll(() => dns.close());

  it('marks each record OK, missing or wrong', () => {
    expect(checks.map((c) => [c.purpose, c.name, c.status])).toEqual([
      ['MX', 'example.com', 'wrong'],
      ['SPF', 'example.com', 'ok'],
      ['DKIM', 'mr1._domainkey.example.com', 'ok'],
      ['DMARC', '_dmarc.example.com', 'wrong'],
      ['MTA-STS', '_mta-sts.example.com', 'ok'],
      ['TLS-RPT', '_smtp._tls.example.com', 'wrong'],
      ['SRV', '_submission._tcp.example.com', 'ok'],
      ['SRV', '_submissions._tcp.example.com', 'wrong'],
      ['SRV', '_imaps._tcp.example.com', 'missing'],
      ['SRV', '_pop3s._tcp.example.com', 'missing'],
      ['autoconfig', 'autoconfig.example.com', 'ok'],
    ]);
  });

  it('says what was found and what to change', () => {
    const get = (purpose: string, name?: string) =>
      checks.find((c) => c.purpose === purpose && (!name || c.name === name))!;
    expect(get('MX')).toMatchObject({
      found: ['10 mail.other.example'],
      fix: 'mail for example.com goes to mail.other.example; publish instead example.com. IN MX 10 mx.example.com.',
    });
    expect(get('SPF')).toMatchObject({ found: ['v=spf1 mx ~all'], fix: null });
    expect(get('DMARC').fix).toMatch(/^there are 2 DMARC records .*publish instead _dmarc\.example\.com\. IN TXT/);
    expect(get('TLS-RPT').fix).toMatch(/^it has no rua= tag; publish instead/);
    expect(get('SRV', '_submissions._tcp.example.com').fix).toMatch(
      /^it points at mx\.example\.com:2465; publish instead .* 465 mx\.example\.com\.$/,
    );
    expect(get('SRV', '_imaps._tcp.example.com').fix).toBe(
      'add _imaps._tcp.example.com. IN SRV 0 1 993 mx.example.com.',
    );
  });

  it('tells a different DKIM key, a bad SPF record and a lookup failure apart', async () => {
    const other = generateDkimKey('ed25519').publicKey;
    dns.set('mr1._domainkey.example.com', [{ type: 'TXT', data: `v=DKIM1; k=ed25519; p=${other}` }]);
    dns.set('example.com', [{ type: 'TXT', data: 'v=spf1 +all' }]);
    const again = await checkRecords(records.slice(0, 3), new DnsResolver({ servers: [dns.server], timeout: 2000 }));
    expect(again.map((c) => [c.purpose, c.status, c.fix?.split(';')[0]])).toEqual([
      ['MX', 'missing', 'add example.com. IN MX 10 mx.example.com.'],
      ['SPF', 'wrong', '`+all` lets anyone send as the domain'],
      ['DKIM', 'wrong', 'it publishes a different key than the one stored'],
    ]);
    const dead = await checkRecords(records.slice(0, 1), new DnsResolver({ servers: ['127.0.0.1:9'], timeout: 300 }));
    expect(dead[0]).toMatchObject({ status: 'error' });
    expect(dead[0]?.fix).toMatch(/^the lookup failed \(E[A-Z]+\); check the DNS servers/);
  });
});
