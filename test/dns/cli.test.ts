import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lines, runCli, workdir } from '../cli/helpers.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

let dns: TestDnsServer;
beforeAll(async () => {
  dns = await startDnsServer({
    // OK: the MX is this server. Wrong: SPF does not authorize the MX hosts. Everything else: missing.
    'example.com': [
      { type: 'MX', data: { preference: 10, exchange: 'mx.example.com' } },
      { type: 'TXT', data: 'v=spf1 ip4:192.0.2.1 -all' },
    ],
  });
});
afterAll(() => dns.close());

const config = () =>
  `dataDir: ./data\nhostname: mx.example.com\ndomains: [{ name: example.com }]\n` +
  `dns: { servers: ["${dns.server}"], timeout: 2s }\n`;

interface JsonRecord {
  purpose: string;
  type: string;
  name: string;
  value: string | null;
  zone: string | null;
  status?: string;
  found?: string[];
  fix?: string | null;
}

describe('mailroom dns', () => {
  it('prints the records a domain needs, as a table, zone-file lines and the MTA-STS policy', async () => {
    const cwd = workdir(config());
    await runCli(['dkim', 'generate', 'example.com', '-s', 'sel1', '-a', 'ed25519'], { cwd });
    const r = await runCli(['dns', 'example.com'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toBe('DNS records for example.com (mail server mx.example.com):');
    expect(out[1]).toMatch(/^PURPOSE\s+TYPE\s+NAME\s+VALUE$/);
    expect(out.slice(2, 13).map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual([
      'MX MX example.com',
      'SPF TXT example.com',
      'DKIM TXT sel1._domainkey.example.com',
      'DMARC TXT _dmarc.example.com',
      'MTA-STS TXT _mta-sts.example.com',
      'TLS-RPT TXT _smtp._tls.example.com',
      'SRV SRV _submission._tcp.example.com',
      'SRV SRV _submissions._tcp.example.com',
      'SRV SRV _imaps._tcp.example.com',
      'SRV SRV _pop3s._tcp.example.com',
      'autoconfig CNAME autoconfig.example.com',
    ]);
    expect(out).toContain('example.com. IN MX 10 mx.example.com.');
    expect(out).toContain('example.com. IN TXT "v=spf1 mx -all"');
    expect(out).toContain('_dmarc.example.com. IN TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com"');
    expect(out).toContain('_submission._tcp.example.com. IN SRV 0 1 587 mx.example.com.');
    expect(out).toContain('autoconfig.example.com. IN CNAME mx.example.com.');
    expect(out.some((l) => /^sel1\._domainkey\.example\.com\. IN TXT "v=DKIM1; k=ed25519; p=[^"]+"$/.test(l))).toBe(
      true,
    );
    expect(out).toContain('MTA-STS policy, to serve at https://mta-sts.example.com/.well-known/mta-sts.txt');
    expect(out).toContain('  mode: testing');
    expect(out).toContain('  mx: mx.example.com');
  });

  it('--check marks each record OK, missing or wrong, says what to change and exits 1', async () => {
    const cwd = workdir(config());
    const r = await runCli(['dns', 'example.com', '--check'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const out = lines(r.stdout);
    expect(out[1]).toMatch(/^PURPOSE\s+TYPE\s+NAME\s+STATUS\s+FOUND$/);
    const status = (name: string, purpose: string) =>
      out.find((l) => l.startsWith(`${purpose} `) && l.split(/\s+/)[2] === name)?.split(/\s+/)[3];
    expect(status('example.com', 'MX')).toBe('OK');
    expect(status('example.com', 'SPF')).toBe('WRONG');
    expect(status('_dmarc.example.com', 'DMARC')).toBe('missing');
    expect(status('*._domainkey.example.com', 'DKIM')).toBe('missing');
    expect(out).toContain('1 OK, 9 missing, 1 wrong, 0 not checked');
    expect(out).toContain(
      '  SPF example.com (WRONG): it does not authorize the MX hosts (no `mx` term; ignore this if it lists the ' +
        'server’s address itself); publish instead example.com. IN TXT "v=spf1 mx -all"',
    );
    expect(out).toContain(
      '  DMARC _dmarc.example.com (missing): add _dmarc.example.com. IN TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com"',
    );
    expect(out).toContain(
      '  DKIM *._domainkey.example.com (missing): no DKIM key yet: run `mailroom dkim generate example.com`',
    );
    expect(dns.queries).toContain('MX example.com');
  });

  it('--check --json gives every record with status, what was found and the fix', async () => {
    const cwd = workdir(config());
    await runCli(['dkim', 'generate', 'example.com', '-s', 'sel1', '-a', 'ed25519'], { cwd });
    const keys = JSON.parse((await runCli(['dkim', 'list', '--json'], { cwd })).stdout) as {
      record: { value: string };
    }[];
    dns.set('sel1._domainkey.example.com', [{ type: 'TXT', data: keys[0]!.record.value }]);
    const r = await runCli(['dns', 'example.com', '--check', '--json'], { cwd });
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as {
      domain: string;
      hostname: string;
      records: JsonRecord[];
      mtaStsPolicy: { url: string };
    };
    expect(json).toMatchObject({ domain: 'example.com', hostname: 'mx.example.com' });
    expect(json.mtaStsPolicy.url).toBe('https://mta-sts.example.com/.well-known/mta-sts.txt');
    const byPurpose = Object.fromEntries(json.records.map((x) => [x.purpose, x]));
    expect(byPurpose.MX).toMatchObject({ status: 'ok', found: ['10 mx.example.com'], fix: null });
    expect(byPurpose.DKIM).toMatchObject({ status: 'ok', name: 'sel1._domainkey.example.com' });
    expect(byPurpose.SPF).toMatchObject({ status: 'wrong', found: ['v=spf1 ip4:192.0.2.1 -all'] });
    expect(byPurpose.DMARC).toMatchObject({
      status: 'missing',
      found: [],
      zone: expect.stringMatching(/^_dmarc\.example\.com\. IN TXT /),
    });
  });

  it('refuses a domain that is not local, and a DNS server given as a host name', async () => {
    const cwd = workdir(config());
    const notLocal = await runCli(['dns', 'other.example'], { cwd });
    expect(notLocal.code).toBe(1);
    expect(notLocal.stderr).toBe(
      'error: domain other.example is not local; add it first with `mailroom domain add other.example`\n',
    );
    const bad = workdir(
      'dataDir: ./data\nhostname: mx.example.com\ndomains: [{ name: example.com }]\ndns: { servers: [dns.example.net] }\n',
    );
    const r = await runCli(['dns', 'example.com', '--check'], { cwd: bad });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: DNS server "dns\.example\.net" must be an IP address .*\(dns\.servers in the configuration\)\n$/,
    );
  });
});
