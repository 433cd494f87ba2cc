import { describe, expect, it } from 'vitest';
import { runCli, workdir } from './helpers.js';

const CONFIG = 'dataDir: ./data\ndomains: [{ name: example.com }]\nmailbox: { quota: 1GB }\n';

describe('mailroom user quota', () => {
  it('shows the configured default, sets a size, and goes back with none', async () => {
    const cwd = workdir(CONFIG);
    expect((await runCli(['user', 'add', 'alice@example.com'], { cwd, input: 'pw\n' })).code).toBe(0);

    const shown = await runCli(['user', 'quota', 'alice@example.com'], { cwd });
    expect(shown.stdout).toBe('quota of alice@example.com: 1 GB (mailbox.quota), 0% used; 0 B in 0 message(s)\n');

    const set = await runCli(['user', 'quota', 'Alice@example.com', '2GB'], { cwd });
    expect(set.code).toBe(0);
    expect(set.stdout).toBe('quota set for alice@example.com: 2 GB, 0% used; 0 B in 0 message(s)\n');
    const json = await runCli(['user', 'quota', 'alice@example.com', '--json'], { cwd });
    expect(JSON.parse(json.stdout)).toEqual({
      address: 'alice@example.com',
      quotaBytes: 2 * 1024 ** 3,
      source: 'user',
      usedBytes: 0,
      messages: 0,
    });

    await runCli(['user', 'quota', 'alice@example.com', 'none'], { cwd });
    const back = await runCli(['user', 'quota', 'alice@example.com', '--json'], { cwd });
    expect(JSON.parse(back.stdout)).toMatchObject({ quotaBytes: 1024 ** 3, source: 'config' });
  }, 120_000);

  it('explains a bad size or an unknown user', async () => {
    const cwd = workdir(CONFIG);
    const bad = await runCli(['user', 'quota', 'nobody@example.com'], { cwd });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/user nobody@example.com does not exist/);
    await runCli(['user', 'add', 'bob@example.com'], { cwd, input: 'pw\n' });
    const size = await runCli(['user', 'quota', 'bob@example.com', 'lots'], { cwd });
    expect(size.stderr).toMatch(/quota "lots" is not a size/);
  }, 120_000);
});
