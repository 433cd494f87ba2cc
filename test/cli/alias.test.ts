import { describe, expect, it } from 'vitest';
import { lines, runCli, workdir } from './helpers.js';

const CONFIG = 'dataDir: ./data\ndomains: [{ name: example.com }, { name: example.net }]\n';

interface JsonAlias {
  source: string;
  destinations: string[];
  createdAt: string;
}

async function aliases(cwd: string, ...args: string[]): Promise<JsonAlias[]> {
  const r = await runCli(['alias', 'list', ...args, '--json'], { cwd });
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as JsonAlias[];
}

describe('mailroom alias', () => {
  it('adds, extends, lists and removes aliases, including a catch-all', async () => {
    const cwd = workdir(CONFIG);
    const add = await runCli(['alias', 'add', 'Postmaster@Example.com', 'alice@example.com'], { cwd });
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toBe('alias postmaster@example.com -> alice@example.com added\n');

    const more = await runCli(['alias', 'add', 'postmaster@example.com', 'bob@remote.example', 'carol@example.com'], {
      cwd,
    });
    expect(more.stdout).toBe(
      'alias postmaster@example.com -> alice@example.com, bob@remote.example, carol@example.com added\n',
    );

    const catchAll = await runCli(['alias', 'add', '@example.net', 'alice@example.com'], { cwd });
    expect(catchAll.stdout).toBe('alias @example.net -> alice@example.com added\n');

    expect((await aliases(cwd)).map((a) => [a.source, a.destinations])).toEqual([
      ['@example.net', ['alice@example.com']],
      ['postmaster@example.com', ['alice@example.com', 'bob@remote.example', 'carol@example.com']],
    ]);
    expect((await aliases(cwd, 'example.net')).map((a) => a.source)).toEqual(['@example.net']);

    const table = lines((await runCli(['alias', 'list'], { cwd })).stdout);
    expect(table[0]).toMatch(/^SOURCE\s+DESTINATIONS\s+CREATED$/);
    expect(table[2]).toContain('postmaster@example.com  alice@example.com, bob@remote.example, carol@example.com');

    const some = await runCli(['alias', 'rm', 'postmaster@example.com', 'bob@remote.example'], { cwd });
    expect(some.code).toBe(0);
    expect(some.stdout).toBe(
      'removed bob@remote.example from alias postmaster@example.com (still -> alice@example.com, carol@example.com)\n',
    );

    const last = await runCli(['alias', 'rm', 'postmaster@example.com', 'alice@example.com', 'carol@example.com'], {
      cwd,
    });
    expect(last.stdout).toBe('alias postmaster@example.com removed\n');

    const whole = await runCli(['alias', 'rm', '@example.net'], { cwd });
    expect(whole.stdout).toBe('alias @example.net removed\n');
    expect(await aliases(cwd)).toEqual([]);
    expect((await runCli(['alias', 'list'], { cwd })).stdout).toMatch(/^no aliases/);
  });

  it('explains each mistake in one line and exits 1', async () => {
    const cwd = workdir(CONFIG);
    await runCli(['alias', 'add', 'info@example.com', 'alice@example.com'], { cwd });
    const cases: [string[], RegExp][] = [
      [
        ['alias', 'add', 'info@example.org', 'alice@example.com'],
        /^error: domain example\.org is not local; add it first with `mailroom domain add example\.org`$/,
      ],
      [['alias', 'add', '@example.org', 'alice@example.com'], /^error: domain example\.org is not local/],
      [['alias', 'add', 'info', 'alice@example.com'], /^error: "info" is not a mail address/],
      [['alias', 'add', 'x@example.com', 'nobody'], /^error: "nobody" is not a mail address/],
      [['alias', 'add', 'x@example.com', 'X@example.com'], /^error: alias x@example\.com cannot deliver to itself/],
      [['alias', 'add', 'info@example.com', 'Alice@example.com'], /^error: alias info@example\.com already delivers/],
      [
        ['alias', 'rm', 'none@example.com'],
        /^error: alias none@example\.com does not exist; see `mailroom alias list`/,
      ],
      [
        ['alias', 'rm', 'info@example.com', 'zed@example.com'],
        /^error: alias info@example\.com does not deliver to zed/,
      ],
    ];
    for (const [args, expected] of cases) {
      const r = await runCli(args, { cwd });
      expect(r.code, args.join(' ')).toBe(1);
      expect(lines(r.stderr), args.join(' ')).toHaveLength(1);
      expect(r.stderr.trimEnd()).toMatch(expected);
    }
    const missingArgs = await runCli(['alias', 'add', 'info@example.com'], { cwd });
    expect(missingArgs.code).toBe(1);
    expect(missingArgs.stderr).toContain("missing required argument 'dest'");
  });
});
