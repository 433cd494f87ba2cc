import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/auth/password.js';
import { openStore } from '../../src/store/index.js';
import { cleanEnv, cliCommand, lines, runCli, workdir } from './helpers.js';

const CONFIG = 'dataDir: ./data\ndomains: [{ name: example.com }]\n';

async function storedHash(cwd: string, address: string): Promise<string> {
  const store = await openStore({ driver: 'sqlite', path: path.join(cwd, 'data', 'mailroom.db') });
  try {
    const user = await store.getUser(address);
    if (!user) throw new Error(`no user ${address}`);
    return user.passwordHash;
  } finally {
    await store.close();
  }
}

const ptyDriver = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pty-driver.py');
const hasPython = (() => {
  try {
    execFileSync('python3', ['-c', 'import pty'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Run the CLI on a pseudo-terminal, typing each reply once its prompt shows. */
function onTerminal(cwd: string, args: string[], steps: [string, string][]): Promise<{ code: number; screen: string }> {
  return new Promise((resolve) => {
    execFile(
      'python3',
      [ptyDriver, JSON.stringify(steps), ...cliCommand(args)],
      { cwd, env: cleanEnv(), timeout: 30_000 },
      (err, stdout) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, screen: stdout }),
    );
  });
}

describe('mailroom user', () => {
  it('adds a user with the password from stdin, stored as a scrypt hash', async () => {
    const cwd = workdir(CONFIG);
    const r = await runCli(['user', 'add', 'Alice@Example.com', '--password-stdin'], {
      cwd,
      input: 'correct horse battery\nsecond line is ignored\n',
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('user Alice@example.com added\n');
    expect(r.stdout + r.stderr).not.toContain('correct horse');
    const hash = await storedHash(cwd, 'alice@example.com');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('second line is ignored', hash)).toBe(false);
  });

  it('reads stdin without --password-stdin when stdin is not a terminal, and accepts CRLF', async () => {
    const cwd = workdir(CONFIG);
    const r = await runCli(['user', 'add', 'bob@example.com', '--quota', '2GB'], { cwd, input: 'pa ss\r\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('user bob@example.com added (quota 2 GB)\n');
    expect(await verifyPassword('pa ss', await storedHash(cwd, 'bob@example.com'))).toBe(true);
  });

  it.skipIf(!hasPython)('on a terminal asks twice without echo, and edits with backspace', async () => {
    const cwd = workdir(CONFIG);
    const r = await onTerminal(
      cwd,
      ['user', 'add', 'dave@example.com'],
      [
        ['New password: ', 'se\u001b[Dcrex\u007ft\r'],
        ['Repeat password: ', 'secret\r'],
      ],
    );
    expect(r.screen).toContain('user dave@example.com added');
    expect(r.code).toBe(0);
    expect(r.screen).not.toMatch(/sec|cre/);
    expect(await verifyPassword('secret', await storedHash(cwd, 'dave@example.com'))).toBe(true);
  });

  it.skipIf(!hasPython)('on a terminal refuses two different passwords and adds nobody', async () => {
    const cwd = workdir(CONFIG);
    const r = await onTerminal(
      cwd,
      ['user', 'add', 'erin@example.com'],
      [
        ['New password: ', 'one\r'],
        ['Repeat password: ', 'two\r'],
      ],
    );
    expect(r.code).toBe(1);
    expect(r.screen).toContain('error: the passwords do not match; run the command again');
    expect((await runCli(['user', 'list', '--json'], { cwd })).stdout.trim()).toBe('[]');
  });

  it('changes a password with passwd', async () => {
    const cwd = workdir(CONFIG);
    await runCli(['user', 'add', 'carol@example.com'], { cwd, input: 'old\n' });
    const r = await runCli(['user', 'passwd', 'CAROL@example.com', '--password-stdin'], { cwd, input: 'new' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('password changed for carol@example.com\n');
    const hash = await storedHash(cwd, 'carol@example.com');
    expect(await verifyPassword('new', hash)).toBe(true);
    expect(await verifyPassword('old', hash)).toBe(false);
  });

  it('lists users (all, per domain, --json without hashes) and removes them', async () => {
    const cwd = workdir(`${CONFIG}`);
    await runCli(['domain', 'add', 'other.example'], { cwd });
    await runCli(['user', 'add', 'alice@example.com', '--quota', '500MB'], { cwd, input: 'a\n' });
    await runCli(['user', 'add', 'zed@other.example'], { cwd, input: 'z\n' });

    const table = lines((await runCli(['user', 'list'], { cwd })).stdout);
    expect(table[0]).toMatch(/^ADDRESS\s+QUOTA\s+STATUS\s+CREATED$/);
    expect(table.slice(1).map((r) => r.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['alice@example.com', '500 MB', 'active'],
      ['zed@other.example', '-', 'active'],
    ]);

    const json = await runCli(['user', 'list', 'example.com', '--json'], { cwd });
    expect(json.code).toBe(0);
    expect(json.stdout).not.toContain('scrypt');
    const users = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(users).toEqual([
      { address: 'alice@example.com', quotaBytes: 500 * 1024 * 1024, disabled: false, createdAt: expect.any(String) },
    ]);

    const rm = await runCli(['user', 'rm', 'alice@example.com'], { cwd });
    expect(rm.code).toBe(0);
    expect(rm.stdout).toBe('user alice@example.com removed\n');
    const left = JSON.parse((await runCli(['user', 'list', '--json'], { cwd })).stdout) as { address: string }[];
    expect(left.map((u) => u.address)).toEqual(['zed@other.example']);
    expect((await runCli(['user', 'list', 'example.com'], { cwd })).stdout).toMatch(/^no users in example\.com/);
  });

  it('refuses a domain that is not local, with the command that fixes it', async () => {
    const cwd = workdir(CONFIG);
    const r = await runCli(['user', 'add', 'bob@example.org', '--password-stdin'], { cwd, input: 'pw\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: domain example.org is not local; add it first with `mailroom domain add example.org`\n',
    );
    expect(r.stdout).toBe('');
  });

  it('explains each mistake in one line and exits 1', async () => {
    const cwd = workdir(CONFIG);
    await runCli(['user', 'add', 'alice@example.com'], { cwd, input: 'pw\n' });
    const cases: [string[], string, RegExp][] = [
      [['user', 'add', 'alice'], 'pw\n', /^error: "alice" is not a mail address, expected local@domain/],
      [['user', 'add', 'a b@example.com'], 'pw\n', /^error: "a b@example\.com" is not a mail address/],
      [['user', 'add', 'new@example.com'], '', /^error: no password on stdin/],
      [['user', 'add', 'new@example.com'], '\n', /^error: no password on stdin/],
      [['user', 'add', 'new@example.com', '--quota', 'lots'], 'pw\n', /^error: quota "lots" is not a size/],
      [['user', 'add', 'ALICE@example.com'], 'pw\n', /^error: user alice@example\.com already exists; .*user passwd/],
      [['user', 'passwd', 'nobody@example.com'], 'pw\n', /^error: user nobody@example\.com does not exist/],
      [['user', 'rm', 'nobody@example.com'], '', /^error: user nobody@example\.com does not exist/],
    ];
    for (const [args, input, expected] of cases) {
      const r = await runCli(args, { cwd, input });
      expect(r.code, args.join(' ')).toBe(1);
      expect(lines(r.stderr), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(expected);
    }
  });
});
