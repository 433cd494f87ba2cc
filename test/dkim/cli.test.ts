import path from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { defaultSelector, signMessage } from '../../src/dkim/index.js';
import { DnsResolver } from '../../src/dns/index.js';
import { openResources } from '../../src/server/resources.js';
import { lines, runCli, workdir } from '../cli/helpers.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { MESSAGES } from './messages.js';

const CONFIG = 'dataDir: ./data\nhostname: mx.example.com\ndomains: [{ name: example.com }]\n';

interface ListedKey {
  domain: string;
  selector: string;
  algorithm: string;
  active: boolean;
  publicKey: string;
  record: { name: string; type: string; value: string; zone: string };
}

async function listKeys(cwd: string, domain?: string): Promise<ListedKey[]> {
  const r = await runCli(['dkim', 'list', ...(domain ? [domain] : []), '--json'], { cwd });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as ListedKey[];
}

describe('mailroom dkim', () => {
  it('generates a key, prints its record, and the stored key signs mail that verifies against it', async () => {
    const cwd = workdir(CONFIG);
    const gen = await runCli(['dkim', 'generate', 'Example.COM'], { cwd });
    expect(gen.stderr).toBe('');
    expect(gen.code).toBe(0);
    const selector = defaultSelector();
    const out = lines(gen.stdout);
    expect(out[0]).toBe(
      `DKIM key ${selector} (rsa-2048) for example.com stored; mail from example.com is signed with it from now on.`,
    );
    expect(out).toContain(`  name:  ${selector}._domainkey.example.com`);
    const value = out.find((l) => l.startsWith('  value: '))!.slice('  value: '.length);
    expect(value).toMatch(/^v=DKIM1; k=rsa; p=MII[A-Za-z0-9+/=]+$/);
    // The zone-file line carries the same value in strings of at most 255 characters.
    const zone = out.find((l) => l.includes(' IN TXT '))!;
    const strings = [...zone.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    expect(strings.length).toBe(2);
    expect(strings.every((s) => s.length <= 255)).toBe(true);
    expect(strings.join('')).toBe(value);
    expect(gen.stdout).not.toContain('PRIVATE KEY');

    const dns = await startDnsServer({ [`${selector}._domainkey.example.com`]: [{ type: 'TXT', data: strings }] });
    const config = parseConfig({ dataDir: path.join(cwd, 'data'), domains: [{ name: 'example.com' }] });
    const { store } = await openResources(config);
    try {
      const key = await store.getActiveDkimKey('example.com');
      expect(key?.selector).toBe(selector);
      const signed = Buffer.concat([Buffer.from(await signMessage(MESSAGES.plain!, [key!])), MESSAGES.plain!]);
      const resolver = new DnsResolver({ servers: [dns.server] });
      const { results } = await dkimVerify(signed, { resolver: resolver.resolve });
      expect(results[0]?.status.result).toBe('pass');
    } finally {
      await store.close();
      await dns.close();
    }
  });

  it('rotates: a second key waits until activated, the old one stays until removed', async () => {
    const cwd = workdir(CONFIG);
    expect((await runCli(['dkim', 'generate', 'example.com', '-s', 'old'], { cwd })).code).toBe(0);
    const second = await runCli(['dkim', 'generate', 'example.com', '--algorithm', 'ed25519'], { cwd });
    expect(second.code).toBe(0);
    const selector = defaultSelector();
    expect(lines(second.stdout)[0]).toBe(`DKIM key ${selector} (ed25519) for example.com stored, not active yet.`);
    expect(second.stdout).toContain(`\`mailroom dkim activate example.com ${selector}\``);
    // The default selector is taken now, so the next one gets a suffix.
    const third = await runCli(['dkim', 'generate', 'example.com', '-a', 'ed25519', '--activate'], { cwd });
    expect(lines(third.stdout)[0]).toMatch(new RegExp(`^DKIM key ${selector}-2 \\(ed25519\\) .* signed with it`));

    let keys = await listKeys(cwd);
    expect(keys.map((k) => [k.selector, k.algorithm, k.active])).toEqual([
      ['old', 'rsa-2048', false],
      [selector, 'ed25519', false],
      [`${selector}-2`, 'ed25519', true],
    ]);
    expect(keys[1]?.record).toMatchObject({ name: `${selector}._domainkey.example.com`, type: 'TXT' });
    expect(keys[1]?.record.value).toBe(`v=DKIM1; k=ed25519; p=${keys[1]?.publicKey}`);
    expect(JSON.stringify(keys)).not.toMatch(/PRIVATE|privateKey/);

    const table = await runCli(['dkim', 'list', 'example.com'], { cwd });
    expect(lines(table.stdout)[0]).toMatch(/^DOMAIN\s+SELECTOR\s+ALGORITHM\s+ACTIVE\s+CREATED\s+DNS NAME$/);
    expect(
      lines(table.stdout)
        .slice(1)
        .map((l) => l.split(/\s+/).slice(0, 4)),
    ).toEqual([
      ['example.com', 'old', 'rsa-2048', 'no'],
      ['example.com', selector, 'ed25519', 'no'],
      ['example.com', `${selector}-2`, 'ed25519', 'yes'],
    ]);

    const act = await runCli(['dkim', 'activate', 'example.com', 'OLD'], { cwd });
    expect(act.stdout).toBe(
      'mail from example.com is now signed with DKIM key old\n' +
        `keep the record of ${selector}-2 published while mail signed with it may still be checked (a week is plenty), ` +
        `then run \`mailroom dkim rm example.com ${selector}-2\`\n`,
    );
    expect((await runCli(['dkim', 'activate', 'example.com', 'old'], { cwd })).stdout).toBe(
      'DKIM key old of example.com is already active\n',
    );

    const refused = await runCli(['dkim', 'rm', 'example.com', 'old'], { cwd });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `error: DKIM key old is the active key of example.com; activate another first (\`mailroom dkim activate example.com ${selector}\`), or add --force to send unsigned\n`,
    );
    const rm = await runCli(['dkim', 'rm', 'example.com', `${selector}-2`], { cwd });
    expect(rm.stdout).toBe(
      `DKIM key ${selector}-2 of example.com removed; delete the TXT record ${selector}-2._domainkey.example.com too\n`,
    );
    keys = await listKeys(cwd, 'example.com');
    expect(keys.map((k) => [k.selector, k.active])).toEqual([
      ['old', true],
      [selector, false],
    ]);

    const record = await runCli(['dkim', 'record', 'example.com', selector], { cwd });
    expect(lines(record.stdout)[0]).toBe(`  name:  ${selector}._domainkey.example.com`);
    const all = await runCli(['dkim', 'record', 'example.com'], { cwd });
    expect(lines(all.stdout).filter((l) => l.startsWith('# '))).toEqual([
      '# old (rsa-2048, active)',
      `# ${selector} (ed25519)`,
    ]);
  });

  it('explains each mistake in one line and exits 1', async () => {
    const cwd = workdir(CONFIG);
    expect((await runCli(['dkim', 'generate', 'example.com', '-s', 'k1', '-a', 'ed25519'], { cwd })).code).toBe(0);
    const cases: [string[], RegExp][] = [
      [['dkim', 'generate', 'other.example'], /^error: domain other\.example is not local; add it first/],
      [
        ['dkim', 'generate', 'example.com', '-s', 'k1'],
        /^error: domain example\.com already has a DKIM key with selector k1; choose another/,
      ],
      [['dkim', 'generate', 'example.com', '-s', 'bad selector'], /^error: selector "bad selector" must be DNS labels/],
      [
        ['dkim', 'generate', 'example.com', '-a', 'rsa-1024'],
        /^error: option '-a, --algorithm <algorithm>' argument 'rsa-1024' is invalid/,
      ],
      [
        ['dkim', 'activate', 'example.com', 'nope'],
        /^error: domain example\.com has no DKIM key nope; its selectors: k1$/,
      ],
      [['dkim', 'rm', 'example.com', 'nope'], /^error: domain example\.com has no DKIM key nope/],
      [
        ['dkim', 'record', 'empty.example'],
        /^error: domain empty\.example has no DKIM keys; make one with `mailroom dkim generate empty\.example`$/,
      ],
    ];
    for (const [args, expected] of cases) {
      const r = await runCli(args, { cwd });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.split('\n')[0], args.join(' ')).toMatch(expected);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    const none = await runCli(['dkim', 'list', 'empty.example'], { cwd });
    expect(none.stdout).toBe('no DKIM keys for empty.example; make one with `mailroom dkim generate empty.example`\n');
  });
});
