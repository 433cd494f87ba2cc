import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../src/store/index.js';
import { seedQueue, withDataDirStore } from '../store/queue-fixtures.js';
import { cleanEnv, cliCommand, runCli, workdir } from './helpers.js';

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
    execFile('python3', [ptyDriver, JSON.stringify(steps), ...cliCommand(args)], { cwd, env: cleanEnv() }, (err, out) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, screen: out }),
    );
  });
}

/** A working directory whose store holds the queue of seedQueue (OLD1, NEW2, DEF3, BUSY4). */
async function seed(): Promise<{ cwd: string; blobFile: string }> {
  const cwd = workdir('dataDir: ./data\n');
  return { cwd, ...(await seedQueue(path.join(cwd, 'data'))) };
}

function inspect<T>(cwd: string, fn: (store: SqliteStore) => Promise<T>): Promise<T> {
  return withDataDirStore(path.join(cwd, 'data'), fn);
}

/** `address state` of every recipient of a message. */
const states = (cwd: string, id: string) =>
  inspect(cwd, async (s) => (await s.getRecipients(id)).map((r) => `${r.address} ${r.state}`));

/** The events the CLI appended to a message's timeline: `type recipient action`. */
const cliEvents = (cwd: string, id: string) =>
  inspect(cwd, async (s) =>
    (await s.listEvents(id))
      .filter((e) => e.detail.by === 'cli')
      .map((e) => `${e.type} ${e.recipient} ${e.detail.action}`),
  );

describe('mailroom queue hold, release, retry', () => {
  it('holds the waiting recipients of a domain, leaving the one being delivered, and logs each', async () => {
    const { cwd } = await seed();
    const r = await runCli(['queue', 'hold', '--domain', 'Gmail.COM'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('2 recipients of 2 messages held\n');
    expect(await states(cwd, 'OLD1')).toEqual(['bob@gmail.com held', 'carol@Example.NET queued']);
    expect(await states(cwd, 'BUSY4')).toEqual(['frank@gmail.com delivering']);
    expect(await cliEvents(cwd, 'OLD1')).toEqual(['held bob@gmail.com hold']);
    expect(await cliEvents(cwd, 'NEW2')).toEqual(['held dan@gmail.com hold']);
    const again = await runCli(['queue', 'hold', '--domain', 'gmail.com'], { cwd });
    expect(again.stdout).toBe('nothing to hold: no queued or deferred recipients at gmail.com\n');
  });

  it('releases held recipients by ID, due now, and prints JSON', async () => {
    const { cwd } = await seed();
    await runCli(['queue', 'hold', '--all'], { cwd });
    expect(await states(cwd, 'DEF3')).toEqual(['eve@yahoo.com held']);
    const before = Date.now();
    const r = await runCli(['queue', 'release', 'OLD1', 'DEF3', '--json'], { cwd });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { action: string; messages: number; recipients: Record<string, string>[] };
    expect(out.action).toBe('release');
    expect(out.messages).toBe(2);
    expect(out.recipients.map((x) => `${x.messageId} ${x.address} ${x.state}`)).toEqual([
      'OLD1 bob@gmail.com queued',
      'OLD1 carol@Example.NET queued',
      'DEF3 eve@yahoo.com queued',
    ]);
    for (const x of out.recipients) expect(Date.parse(x.nextAttemptAt!)).toBeGreaterThanOrEqual(before - 1000);
    expect(await states(cwd, 'NEW2')).toEqual(['dan@gmail.com held']);
    expect(await cliEvents(cwd, 'DEF3')).toEqual(['held eve@yahoo.com hold', 'released eve@yahoo.com release']);
  });

  it('retries deferred recipients now and leaves held ones alone', async () => {
    const { cwd } = await seed();
    await runCli(['queue', 'hold', 'OLD1'], { cwd });
    const r = await runCli(['queue', 'retry', '--all'], { cwd });
    expect(r.stdout).toBe('1 recipient of 1 message due now\n');
    const eve = await inspect(cwd, async (s) => (await s.getRecipients('DEF3'))[0]!);
    expect(eve).toMatchObject({ state: 'queued', attempts: 1, lastReply: '451 4.7.1 Greylisted' });
    expect(eve.nextAttemptAt).toBeLessThanOrEqual(Date.now());
    expect(await states(cwd, 'OLD1')).toEqual(['bob@gmail.com held', 'carol@Example.NET held']);
    expect(await cliEvents(cwd, 'DEF3')).toEqual(['queued eve@yahoo.com retry']);
    expect((await runCli(['queue', 'retry', 'DEF3'], { cwd })).stdout).toBe(
      'nothing to retry: no deferred recipients in DEF3\n',
    );
  });

  it('needs exactly one selector, and known IDs', async () => {
    const { cwd } = await seed();
    const none = await runCli(['queue', 'retry'], { cwd });
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      'error: nothing selected: `mailroom queue retry` takes queue IDs, --all or --domain DOMAIN\n',
    );
    const two = await runCli(['queue', 'hold', 'OLD1', '--all'], { cwd });
    expect(two.stderr).toContain('error: give only one selector');
    const unknown = await runCli(['queue', 'hold', 'OLD1', 'NOPE'], { cwd });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      'error: message NOPE not in the queue; see `mailroom queue list`; nothing was changed\n',
    );
    expect(await states(cwd, 'OLD1')).toEqual(['bob@gmail.com queued', 'carol@Example.NET queued']);
  });
});

describe('mailroom queue delete', () => {
  it('refuses without --yes when stdin is not a terminal, and deletes nothing', async () => {
    const { cwd } = await seed();
    const r = await runCli(['queue', 'delete', 'OLD1'], { cwd, input: 'y\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: refusing to delete 1 message without confirmation: stdin is not a terminal; add --yes\n',
    );
    expect(await states(cwd, 'OLD1')).toHaveLength(2);
  });

  it('deletes with --yes in any state, removes the bodies and records who did it', async () => {
    const { cwd, blobFile } = await seed();
    expect(fs.existsSync(blobFile)).toBe(true);
    await runCli(['queue', 'hold', 'OLD1'], { cwd });
    const r = await runCli(['queue', 'delete', 'OLD1', 'NEW2', 'DEF3', '--yes'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('deleted 3 messages (4 recipients)\n');
    expect(fs.existsSync(blobFile)).toBe(false);
    await inspect(cwd, async (s) => {
      expect((await s.listQueueMessages()).map((m) => m.id)).toEqual(['BUSY4']);
      expect(await s.readInlineBody('OLD1')).toBeNull();
      expect(await s.readInlineBody('BUSY4')).not.toBeNull();
    });
    expect(await cliEvents(cwd, 'OLD1')).toEqual([
      'held bob@gmail.com hold',
      'held carol@Example.NET hold',
      'deleted bob@gmail.com delete',
      'deleted carol@Example.NET delete',
    ]);
    const show = await runCli(['queue', 'show', 'DEF3'], { cwd });
    expect(show.stdout).toMatch(/^message DEF3 has left the queue; its timeline:\n/);
    expect(show.stdout).toMatch(/deleted\s+eve@yahoo\.com\s+by=cli action=delete state=deferred$/m);
  });

  it('skips a message being delivered with a note, and deletes whole messages by domain', async () => {
    const { cwd } = await seed();
    const busy = await runCli(['queue', 'delete', 'BUSY4', '--yes'], { cwd });
    expect(busy.code).toBe(0);
    expect(busy.stderr).toBe('skipped BUSY4: a recipient is being delivered right now; try again in a moment\n');
    expect(busy.stdout).toBe('nothing to delete\n');

    const r = await runCli(['queue', 'delete', '--domain', 'gmail.com', '--yes', '--json'], { cwd });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      deleted: [
        {
          id: 'OLD1',
          recipients: [
            { address: 'bob@gmail.com', state: 'queued' },
            { address: 'carol@Example.NET', state: 'queued' },
          ],
        },
        { id: 'NEW2', recipients: [{ address: 'dan@gmail.com', state: 'queued' }] },
      ],
      skipped: ['BUSY4'],
    });
    expect(await inspect(cwd, async (s) => (await s.listQueueMessages()).map((m) => m.id))).toEqual(['BUSY4', 'DEF3']);
  });

  it.skipIf(!hasPython)('on a terminal lists the messages and asks; only yes deletes', async () => {
    const { cwd } = await seed();
    const no = await onTerminal(cwd, ['queue', 'delete', '--all'], [['[y/N] ', 'n\r']]);
    expect(no.code).toBe(1);
    expect(no.screen).toContain('OLD1  from sender@example.org  to bob@gmail.com, carol@Example.NET');
    expect(no.screen).toContain('Delete 3 messages? The senders are not notified. [y/N]');
    expect(no.screen).toContain('error: cancelled; nothing was deleted');
    expect(await inspect(cwd, async (s) => (await s.listQueueMessages()).length)).toBe(4);

    const yes = await onTerminal(cwd, ['queue', 'delete', 'DEF3'], [['[y/N] ', 'y\r']]);
    expect(yes.code).toBe(0);
    expect(yes.screen).toContain('deleted 1 message (1 recipient)');
    expect(await states(cwd, 'DEF3')).toEqual([]);
  });
});
