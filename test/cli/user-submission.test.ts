/** `mailroom user` commands for submission: credentials, disable/enable, sender grants, failed logins. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScram } from '../../src/auth/credentials.js';
import { verifyPassword } from '../../src/auth/password.js';
import { openStore, type Store, type User } from '../../src/store/index.js';
import { lines, runCli, workdir } from './helpers.js';

const CONFIG = 'dataDir: ./data\ndomains: [{ name: example.com }]\n';

/** Open the store the CLI uses in `cwd` (creating it), to set up or check what a command did. */
async function withDb<T>(cwd: string, fn: (store: Store) => Promise<T>): Promise<T> {
  fs.mkdirSync(path.join(cwd, 'data'), { recursive: true });
  const store = await openStore({ driver: 'sqlite', path: path.join(cwd, 'data', 'mailroom.db') });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function storedUser(cwd: string, address: string): Promise<User> {
  const user = await withDb(cwd, (store) => store.getUser(address));
  if (!user) throw new Error(`no user ${address}`);
  return user;
}

async function ok(cwd: string, args: string[], input?: string): Promise<string> {
  const r = await runCli(args, { cwd, ...(input === undefined ? {} : { input }) });
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return r.stdout;
}

const cram = (password: string) => Buffer.from(password, 'utf8').toString('base64');

describe('mailroom user credentials', () => {
  it('adds users with SCRAM keys, and a CRAM-MD5 secret only with --cram-md5', async () => {
    const cwd = workdir(CONFIG);
    expect(await ok(cwd, ['user', 'add', 'plain@example.com'], 'pw one\n')).toBe('user plain@example.com added\n');
    expect(await ok(cwd, ['user', 'add', 'Old@example.com', '--cram-md5', '--quota', '1GB'], 'pw two\n')).toBe(
      'user Old@example.com added (quota 1 GB, CRAM-MD5 enabled)\n',
    );

    const plain = await storedUser(cwd, 'plain@example.com');
    expect(await verifyPassword('pw one', plain.passwordHash)).toBe(true);
    expect(plain.scram).not.toBeNull();
    expect(parseScram(plain.scram!)).not.toBeNull();
    expect(plain.cramSecret).toBeNull();

    const old = await storedUser(cwd, 'old@example.com');
    expect(parseScram(old.scram!)).not.toBeNull();
    expect(old.cramSecret).toBe(cram('pw two'));
  });

  it('says in the help that CRAM-MD5 stores a password-equivalent secret', async () => {
    const cwd = workdir(CONFIG);
    for (const sub of ['add', 'passwd']) {
      const help = await ok(cwd, ['user', sub, '--help']);
      expect(help.replace(/\s+/g, ' ')).toMatch(/--cram-md5 .*password-equivalent secret/);
    }
  });

  it('passwd replaces every secret and keeps CRAM-MD5 as it was unless told', async () => {
    const cwd = workdir(CONFIG);
    await ok(cwd, ['user', 'add', 'carol@example.com'], 'old\n');
    await ok(cwd, ['user', 'add', 'dave@example.com', '--cram-md5'], 'old\n');
    const before = await storedUser(cwd, 'carol@example.com');

    expect(await ok(cwd, ['user', 'passwd', 'carol@example.com'], 'new\n')).toBe(
      'password changed for carol@example.com\n',
    );
    const carol = await storedUser(cwd, 'carol@example.com');
    expect(await verifyPassword('new', carol.passwordHash)).toBe(true);
    expect(carol.scram).not.toBe(before.scram);
    expect(carol.cramSecret).toBeNull();

    expect(await ok(cwd, ['user', 'passwd', 'DAVE@example.com'], 'new\n')).toBe(
      'password changed for dave@example.com (CRAM-MD5 enabled)\n',
    );
    expect((await storedUser(cwd, 'dave@example.com')).cramSecret).toBe(cram('new'));

    expect(await ok(cwd, ['user', 'passwd', 'dave@example.com', '--no-cram-md5'], 'newer\n')).toBe(
      'password changed for dave@example.com (CRAM-MD5 disabled)\n',
    );
    const dave = await storedUser(cwd, 'dave@example.com');
    expect(dave.cramSecret).toBeNull();
    expect(await verifyPassword('newer', dave.passwordHash)).toBe(true);

    await ok(cwd, ['user', 'passwd', 'carol@example.com', '--cram-md5'], 'newest\n');
    expect((await storedUser(cwd, 'carol@example.com')).cramSecret).toBe(cram('newest'));
  });

  it('passwd gives SCRAM keys to a user stored without them', async () => {
    const cwd = workdir(CONFIG);
    await withDb(cwd, (store) => store.addUser('legacy@example.com', 'scrypt$old'));
    expect((await ok(cwd, ['user', 'show', 'legacy@example.com'])).replace(/ +/g, ' ')).toContain('SCRAM-SHA-256: off');
    await ok(cwd, ['user', 'passwd', 'legacy@example.com'], 'fresh\n');
    const u = await storedUser(cwd, 'legacy@example.com');
    expect(parseScram(u.scram!)).not.toBeNull();
    expect(u.cramSecret).toBeNull();
  });
});

describe('mailroom user disable / enable', () => {
  it('disables and enables a user, and says when nothing changes', async () => {
    const cwd = workdir(CONFIG);
    await ok(cwd, ['user', 'add', 'Erin@example.com'], 'pw\n');
    expect(await ok(cwd, ['user', 'disable', 'erin@example.com'])).toBe('user Erin@example.com disabled\n');
    expect((await storedUser(cwd, 'erin@example.com')).disabled).toBe(true);
    expect(await ok(cwd, ['user', 'disable', 'erin@example.com'])).toBe('user Erin@example.com is already disabled\n');
    const table = lines(await ok(cwd, ['user', 'list']));
    expect(table[1]?.split(/\s{2,}/).slice(0, 3)).toEqual(['Erin@example.com', '-', 'disabled']);

    expect(await ok(cwd, ['user', 'enable', 'ERIN@example.com'])).toBe('user Erin@example.com enabled\n');
    expect((await storedUser(cwd, 'erin@example.com')).disabled).toBe(false);
    expect(await ok(cwd, ['user', 'enable', 'erin@example.com'])).toBe('user Erin@example.com is already enabled\n');
  });

  it('refuses an unknown user', async () => {
    const cwd = workdir(CONFIG);
    for (const sub of ['disable', 'enable']) {
      const r = await runCli(['user', sub, 'nobody@example.com'], { cwd });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('error: user nobody@example.com does not exist; see `mailroom user list`\n');
    }
  });
});

describe('mailroom user allow-sender / deny-sender / show', () => {
  it('grants addresses and domains and shows them with the aliases to the user', async () => {
    const cwd = workdir(CONFIG);
    await ok(cwd, ['user', 'add', 'alice@example.com', '--quota', '2GB'], 'pw\n');
    await withDb(cwd, async (store) => {
      await store.addAlias('postmaster@example.com', ['alice@example.com']);
      await store.addAlias('@example.com', ['ALICE@example.com', 'bob@example.com']);
      await store.addAlias('other@example.com', ['bob@example.com']);
    });

    expect(await ok(cwd, ['user', 'allow-sender', 'alice@example.com', 'Sales@Example.com'])).toBe(
      'alice@example.com may now send as sales@example.com\n',
    );
    expect(await ok(cwd, ['user', 'allow-sender', 'ALICE@example.com', '@Partner.Example'])).toBe(
      'alice@example.com may now send as any address of partner.example\n',
    );
    expect(await ok(cwd, ['user', 'allow-sender', 'alice@example.com', 'sales@example.com'])).toBe(
      'alice@example.com may already send as sales@example.com\n',
    );
    expect(await withDb(cwd, (s) => s.listSenderGrants('alice@example.com'))).toEqual([
      '@partner.example',
      'sales@example.com',
    ]);

    const text = await ok(cwd, ['user', 'show', 'Alice@example.com']);
    const fields = Object.fromEntries(
      lines(text).map((l) => {
        const [, k, v] = /^([^:]+):\s+(.*)$/.exec(l)!;
        return [k, v];
      }),
    );
    expect(fields).toEqual({
      address: 'alice@example.com',
      status: 'active',
      created: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d$/),
      quota: '2 GB',
      'CRAM-MD5': 'off',
      'SCRAM-SHA-256': 'on',
      'sender grants': '@partner.example, sales@example.com',
      'aliases to it': '@example.com, postmaster@example.com',
      'failed logins': 'none',
    });

    const json = JSON.parse(await ok(cwd, ['user', 'show', 'alice@example.com', '--json'])) as Record<string, unknown>;
    expect(json).toEqual({
      address: 'alice@example.com',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      quotaBytes: 2 * 1024 ** 3,
      disabled: false,
      cramMd5: false,
      scramSha256: true,
      senderGrants: ['@partner.example', 'sales@example.com'],
      aliases: ['@example.com', 'postmaster@example.com'],
      failedLogins: { count: 0, status: 'expired', lockedUntil: null },
    });
    expect(JSON.stringify(json)).not.toContain('scrypt');
  });

  it('takes grants back', async () => {
    const cwd = workdir(CONFIG);
    await withDb(cwd, async (store) => {
      await store.addUser('alice@example.com', 'h');
      await store.addSenderGrant('alice@example.com', 'sales@example.com');
      await store.addSenderGrant('alice@example.com', '@partner.example');
    });
    expect(await ok(cwd, ['user', 'deny-sender', 'alice@example.com', 'SALES@example.com'])).toBe(
      'alice@example.com may no longer send as sales@example.com\n',
    );
    const missing = await runCli(['user', 'deny-sender', 'alice@example.com', 'sales@example.com'], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'error: alice@example.com has no grant for sales@example.com; its grants are @partner.example\n',
    );
    expect(await ok(cwd, ['user', 'deny-sender', 'alice@example.com', '@partner.example'])).toBe(
      'alice@example.com may no longer send as any address of partner.example\n',
    );
    const after = JSON.parse(await ok(cwd, ['user', 'show', 'alice@example.com', '--json'])) as {
      senderGrants: string[];
    };
    expect(after.senderGrants).toEqual([]);
    expect(await ok(cwd, ['user', 'show', 'alice@example.com'])).toMatch(/^sender grants: +none/m);
  });

  it('shows a disabled user with CRAM-MD5 on', async () => {
    const cwd = workdir(CONFIG);
    await ok(cwd, ['user', 'add', 'old@example.com', '--cram-md5'], 'pw\n');
    await ok(cwd, ['user', 'disable', 'old@example.com']);
    const json = JSON.parse(await ok(cwd, ['user', 'show', 'old@example.com', '--json'])) as Record<string, unknown>;
    expect(json).toMatchObject({ disabled: true, cramMd5: true, quotaBytes: null, aliases: [], senderGrants: [] });
    const text = await ok(cwd, ['user', 'show', 'old@example.com']);
    expect(text).toMatch(/^status: +disabled$/m);
    expect(text).toMatch(/^CRAM-MD5: +on$/m);
    expect(text).not.toContain(cram('pw'));
  });

  it('explains each mistake in one line and exits 1', async () => {
    const cwd = workdir(CONFIG);
    await withDb(cwd, (store) => store.addUser('alice@example.com', 'h'));
    const cases: [string[], RegExp][] = [
      [['user', 'allow-sender', 'nobody@example.com', 'x@example.com'], /^error: user nobody@example\.com does not/],
      [['user', 'allow-sender', 'alice@example.com', 'sales'], /^error: sender "sales" is not an address or @domain/],
      [['user', 'allow-sender', 'alice@example.com', '@'], /^error: sender "@" is not an address or @domain/],
      [['user', 'allow-sender', 'alice@example.com', 'ALICE@example.com'], /own address; a user may always send/],
      [
        ['user', 'deny-sender', 'alice@example.com', 'x@example.com'],
        /has no grant for x@example\.com; it has none\n$/,
      ],
      [['user', 'deny-sender', 'nobody@example.com', 'x@example.com'], /^error: user nobody@example\.com does not/],
      [['user', 'show', 'nobody@example.com'], /^error: user nobody@example\.com does not exist/],
      [['user', 'show', 'alice'], /^error: "alice" is not a mail address/],
    ];
    for (const [args, expected] of cases) {
      const r = await runCli(args, { cwd });
      expect(r.code, args.join(' ')).toBe(1);
      expect(lines(r.stderr), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(expected);
    }
  });
});

describe('mailroom user failures / unlock', () => {
  const LOCK_CONFIG = `${CONFIG}auth: { failures: { window: 1h, delayAfter: 2, ipLockAfter: 3, userLockAfter: 5 } }\n`;

  async function seed(cwd: string): Promise<number> {
    const now = Date.now();
    await withDb(cwd, async (store) => {
      for (let i = 0; i < 4; i++) await store.recordAuthFailure('ip', '192.0.2.7', now - 60_000 + i, 3_600_000);
      await store.recordAuthFailure('user', 'Alice@example.com', now - 30_000, 3_600_000);
      await store.recordAuthFailure('user', 'alice@example.com', now - 20_000, 3_600_000);
      await store.recordAuthFailure('ip', '2001:DB8::5', now - 10_000, 3_600_000);
      // Two days ago: outside the default --since 24h.
      await store.recordAuthFailure('user', 'old@example.com', now - 2 * 86_400_000, 3_600_000);
    });
    return now;
  }

  it('lists failed logins as a table and as JSON, with the lock-out status', async () => {
    const cwd = workdir(LOCK_CONFIG);
    const now = await seed(cwd);

    const table = lines(await ok(cwd, ['user', 'failures']));
    expect(table[0]).toMatch(/^KIND\s+IP OR USER\s+COUNT\s+FIRST\s+LAST\s+STATUS$/);
    expect(table.slice(1).map((r) => r.split(/\s{2,}/))).toEqual([
      ['ip', '2001:db8::5', '1', expect.any(String), expect.any(String), 'counting'],
      ['user', 'alice@example.com', '2', expect.any(String), expect.any(String), 'delayed'],
      [
        'ip',
        '192.0.2.7',
        '4',
        expect.any(String),
        expect.any(String),
        expect.stringMatching(/^locked until \d{4}-\d\d-\d\d \d\d:\d\d$/),
      ],
    ]);

    const json = JSON.parse(await ok(cwd, ['user', 'failures', '--json'])) as Record<string, unknown>[];
    expect(json.map((e) => [e.kind, e.key, e.count, e.status])).toEqual([
      ['ip', '2001:db8::5', 1, 'counting'],
      ['user', 'alice@example.com', 2, 'delayed'],
      ['ip', '192.0.2.7', 4, 'locked'],
    ]);
    expect(json[2]).toMatchObject({
      firstAt: new Date(now - 60_000).toISOString(),
      lastAt: new Date(now - 60_000 + 3).toISOString(),
      lockedUntil: new Date(now - 60_000 + 3_600_000).toISOString(),
    });

    const week = JSON.parse(await ok(cwd, ['user', 'failures', '--since', '7d', '--json'])) as { key: string }[];
    expect(week.map((e) => e.key)).toContain('old@example.com');
    expect((week.find((e) => e.key === 'old@example.com') as { status?: string }).status).toBe('expired');
    expect(await ok(cwd, ['user', 'failures', '--since', '5s'])).toBe('no failed logins in the last 5s\n');
    expect(await ok(cwd, ['user', 'failures', '--since', '5s', '--json'])).toBe('[]\n');

    const bad = await runCli(['user', 'failures', '--since', 'soon'], { cwd });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('error: --since "soon" is not a duration, expected e.g. 30m, 24h or 7d\n');
  });

  it('shows a user’s failed logins in user show', async () => {
    const cwd = workdir(LOCK_CONFIG);
    await ok(cwd, ['user', 'add', 'alice@example.com'], 'pw\n');
    await seed(cwd);
    expect(await ok(cwd, ['user', 'show', 'alice@example.com'])).toMatch(
      /^failed logins: +2 in the current window \(delayed\)$/m,
    );
  });

  it('unlocks a user or an IP address', async () => {
    const cwd = workdir(LOCK_CONFIG);
    await seed(cwd);
    expect(await ok(cwd, ['user', 'unlock', 'ALICE@example.com'])).toBe(
      'failed logins of ALICE@example.com cleared; it may log in again\n',
    );
    expect(await ok(cwd, ['user', 'unlock', '--ip', '192.0.2.7'])).toBe(
      'failed logins of IP 192.0.2.7 cleared; it may log in again\n',
    );
    expect(await ok(cwd, ['user', 'unlock', '--ip', '2001:db8::5'])).toBe(
      'failed logins of IP 2001:db8::5 cleared; it may log in again\n',
    );
    expect(await ok(cwd, ['user', 'unlock', '--ip', '192.0.2.7'])).toBe(
      'no failed logins recorded for IP 192.0.2.7; nothing to unlock\n',
    );
    const left = JSON.parse(await ok(cwd, ['user', 'failures', '--since', '30d', '--json'])) as { key: string }[];
    expect(left.map((e) => e.key)).toEqual(['old@example.com']);
  });

  it('needs exactly one of ADDRESS and --ip, and a valid one', async () => {
    const cwd = workdir(CONFIG);
    const cases: [string[], RegExp][] = [
      [['user', 'unlock'], /^error: give either a user address or --ip IP/],
      [['user', 'unlock', 'a@example.com', '--ip', '192.0.2.1'], /^error: give either a user address or --ip IP/],
      [['user', 'unlock', '--ip', '300.1.1.1'], /^error: "300\.1\.1\.1" is not an IP address/],
      [['user', 'unlock', 'alice'], /^error: "alice" is not a mail address/],
    ];
    for (const [args, expected] of cases) {
      const r = await runCli(args, { cwd });
      expect(r.code, args.join(' ')).toBe(1);
      expect(lines(r.stderr), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toMatch(expected);
    }
  });
});
