import { describe, expect, it } from 'vitest';
import { lines, runCli, workdir } from './helpers.js';

const CONFIG = 'dataDir: ./data\ndomains: [{ name: config.example }]\n';

describe('mailroom domain', () => {
  it('adds, lists (table and --json) and removes domains', async () => {
    const cwd = workdir(CONFIG);
    const add = await runCli(['domain', 'add', 'Example.COM'], { cwd });
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toBe('domain example.com added (transport mailbox)\n');

    const relay = await runCli(['domain', 'add', 'lists.example.com', '--transport', 'relay:10.0.0.5:2525'], { cwd });
    expect(relay.stdout).toBe('domain lists.example.com added (transport relay:10.0.0.5:2525)\n');

    const table = await runCli(['domain', 'list'], { cwd });
    expect(table.code).toBe(0);
    const rows = lines(table.stdout);
    expect(rows[0]).toMatch(/^DOMAIN\s+TRANSPORT\s+SOURCE\s+CREATED$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/).slice(0, 3))).toEqual([
      ['config.example', 'mailbox', 'config'],
      ['example.com', 'mailbox', 'store'],
      ['lists.example.com', 'relay:10.0.0.5:2525', 'store'],
    ]);

    const json = await runCli(['domain', 'list', '--json'], { cwd });
    const domains = JSON.parse(json.stdout) as { name: string; transport: string; source: string; createdAt: string }[];
    expect(domains.map((d) => [d.name, d.transport, d.source])).toEqual([
      ['config.example', 'mailbox', 'config'],
      ['example.com', 'mailbox', 'store'],
      ['lists.example.com', 'relay:10.0.0.5:2525', 'store'],
    ]);
    expect(Date.parse(domains[1]!.createdAt)).toBeGreaterThan(0);

    const rm = await runCli(['domain', 'rm', 'example.com'], { cwd });
    expect(rm.code).toBe(0);
    expect(rm.stdout).toBe('domain example.com removed\n');
    const after = JSON.parse((await runCli(['domain', 'list', '--json'], { cwd })).stdout) as { name: string }[];
    expect(after.map((d) => d.name)).toEqual(['config.example', 'lists.example.com']);
  });

  it('explains each mistake in one line and exits 1', async () => {
    const cwd = workdir(CONFIG);
    expect((await runCli(['domain', 'add', 'example.com'], { cwd })).code).toBe(0);
    const cases: [string[], RegExp][] = [
      [
        ['domain', 'add', 'example.com'],
        /^error: domain example\.com already exists .*`mailroom domain rm example\.com`/,
      ],
      [['domain', 'add', 'config.example'], /^error: domain config\.example is already set in .*mailroom\.yaml/],
      [['domain', 'add', 'bad_domain!'], /^error: domain "bad_domain!" must be a DNS host name/],
      [['domain', 'add', 'x.example', '--transport', 'pigeon'], /^error: transport "pigeon" must be one of mailbox/],
      [
        ['domain', 'rm', 'nowhere.example'],
        /^error: domain nowhere\.example does not exist; see `mailroom domain list`/,
      ],
      [['domain', 'rm', 'config.example'], /^error: domain config\.example is set in .*mailroom\.yaml; remove it from/],
    ];
    for (const [args, expected] of cases) {
      const r = await runCli(args, { cwd });
      expect(r.code, args.join(' ')).toBe(1);
      expect(lines(r.stderr), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(expected);
      expect(r.stdout).toBe('');
    }
  });

  it('keeps a domain that still has users or aliases unless --force', async () => {
    const cwd = workdir(CONFIG);
    await runCli(['domain', 'add', 'example.com'], { cwd });
    await runCli(['user', 'add', 'alice@example.com'], { cwd, input: 'pw\n' });
    await runCli(['alias', 'add', 'info@example.com', 'alice@example.com'], { cwd });

    const refused = await runCli(['domain', 'rm', 'example.com'], { cwd });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'error: domain example.com still has 1 user and 1 alias; remove them first or run `mailroom domain rm example.com --force`\n',
    );

    const forced = await runCli(['domain', 'rm', 'example.com', '--force'], { cwd });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe('domain example.com removed with 1 user and 1 alias\n');
    expect(JSON.parse((await runCli(['user', 'list', '--json'], { cwd })).stdout)).toEqual([]);
    expect(JSON.parse((await runCli(['alias', 'list', '--json'], { cwd })).stdout)).toEqual([]);
  });

  it('never opens the store when the configuration is bad', async () => {
    const cwd = workdir('mode: test\n');
    const r = await runCli(['domain', 'list'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('mode: is not allowed');
    expect(r.stdout).toBe('');
  });
});
