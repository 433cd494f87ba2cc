// Quarantine: a `quarantine` verdict at the end of DATA (here from a check added to the pipeline,
// as content scanners add theirs) holds the message; `mailroom queue list --state held` shows it
// and `mailroom queue release` sends it on.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACCEPT } from '../../src/policy/index.js';
import { runCli, workdir } from '../cli/helpers.js';
import { inbox, queueId } from '../helpers/mail.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { message, transact } from './helpers.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function start(dataDir: string): Promise<TestServer> {
  const t = await startTestServer({ dataDir });
  servers.push(t);
  t.server.inbound.addDataCheck(async (ctx) =>
    ctx.message.includes('QUARANTINE-ME') ? { action: 'quarantine', reason: 'test scanner: suspicious' } : ACCEPT,
  );
  return t;
}

describe('quarantine', () => {
  it('holds a message a check quarantines, lists it as held, and releases it for delivery', async () => {
    const cwd = workdir('dataDir: ./data\n');
    const dataDir = path.join(cwd, 'data');
    const t = await start(dataDir);
    await t.server.resources.store.addUser('bob@example.test', '!');
    const c = await RawSmtp.connect(t.port('smtp'));
    await c.read();
    await c.cmd('EHLO client.example');
    const clean = await transact(c, 'a@x.test', ['bob@example.test'], message('a@x.test', 'bob@example.test', 'clean'));
    const bad = await transact(
      c,
      'a@x.test',
      ['bob@example.test'],
      message('a@x.test', 'bob@example.test', 'bad', 'QUARANTINE-ME\r\n'),
    );
    c.close();
    expect(clean.end?.code).toBe(250);
    expect(bad.end?.code).toBe(250);
    const id = queueId(bad.end!);
    expect(await inbox(t, 'bob@example.test', 1)).toHaveLength(1);
    const held = await t.server.resources.store.getRecipients(id);
    expect(held.map((r) => [r.state, r.lastReply])).toEqual([['held', 'quarantined: test scanner: suspicious']]);
    await t.stop();
    servers.splice(0);

    const list = await runCli(['queue', 'list', '--state', 'held'], { cwd });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toContain('bob@example.test (held)');
    const release = await runCli(['queue', 'release', id], { cwd });
    expect(release.code, release.stderr).toBe(0);

    const again = await start(dataDir);
    expect(await inbox(again, 'bob@example.test', 2)).toHaveLength(2);
  });
});
