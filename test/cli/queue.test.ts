import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { seedQueue } from '../store/queue-fixtures.js';
import { lines, runCli, workdir } from './helpers.js';

const CONFIG = 'dataDir: ./data\n';

/** A working directory whose store holds the queue of seedQueue. */
async function seed(): Promise<{ cwd: string; blobFile: string }> {
  const cwd = workdir(CONFIG);
  return { cwd, ...(await seedQueue(path.join(cwd, 'data'))) };
}

async function json<T = unknown>(cwd: string, args: string[]): Promise<T> {
  const r = await runCli([...args, '--json'], { cwd });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

interface ListedMessage {
  id: string;
  from: string;
  ageSeconds: number;
  recipients: { address: string; state: string; attempts: number; lastReply: string | null }[];
}

const ids = (list: { id: string }[]) => list.map((m) => m.id);

describe('mailroom queue list', () => {
  it('lists waiting messages oldest first, with recipients, states, last reply and a total', async () => {
    const { cwd } = await seed();
    const r = await runCli(['queue', 'list'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toMatch(/^ID\s+AGE\s+SIZE\s+FROM\s+RECIPIENTS\s+LAST REPLY$/);
    expect(out.slice(1, 5).map((l) => l.split(/\s+/)[0])).toEqual(['BUSY4', 'DEF3', 'OLD1', 'NEW2']);
    expect(out[1]).toMatch(/^BUSY4\s+5d\s+1\.2 KB\s+sender@example\.org\s+frank@gmail\.com \(delivering\)\s+-$/);
    expect(out[2]).toMatch(/eve@yahoo\.com \(deferred\)\s+451 4\.7\.1 Greylisted$/);
    expect(out[3]).toContain('bob@gmail.com (queued), carol@Example.NET (queued)');
    expect(out[4]).toMatch(/^NEW2\s+7m\s+1\.2 KB\s+<>\s+dan@gmail\.com \(queued\)/);
    expect(out[5]).toBe('-- 4.8 KB in 4 messages');
  });

  it('prints JSON and filters by domain, state and age', async () => {
    const { cwd } = await seed();
    const all = await json<ListedMessage[]>(cwd, ['queue', 'list']);
    expect(ids(all)).toEqual(['BUSY4', 'DEF3', 'OLD1', 'NEW2']);
    expect(all[1]).toMatchObject({
      id: 'DEF3',
      from: 'sender@example.org',
      size: 1234,
      recipients: [{ address: 'eve@yahoo.com', state: 'deferred', attempts: 1, lastReply: '451 4.7.1 Greylisted' }],
    });
    expect(all[1]!.ageSeconds).toBeGreaterThanOrEqual(3 * 86_400);
    expect(all[3]!.from).toBe('');
    expect(ids(await json<ListedMessage[]>(cwd, ['queue', 'list', '--domain', 'GMAIL.com']))).toEqual([
      'BUSY4',
      'OLD1',
      'NEW2',
    ]);
    expect(ids(await json<ListedMessage[]>(cwd, ['queue', 'list', '--state', 'deferred,delivering']))).toEqual([
      'BUSY4',
      'DEF3',
    ]);
    expect(
      ids(await json<ListedMessage[]>(cwd, ['queue', 'list', '--older-than', '1h', '--domain', 'example.net'])),
    ).toEqual(['OLD1']);
    expect(await json(cwd, ['queue', 'list', '--older-than', '30d'])).toEqual([]);
  });

  it('says when nothing is queued or matches, and explains bad options', async () => {
    const cwd = workdir(CONFIG);
    expect((await runCli(['queue', 'list'], { cwd })).stdout).toBe('the queue is empty\n');
    expect((await runCli(['queue', 'list', '--state', 'held'], { cwd })).stdout).toBe('no queued messages match\n');
    const bad = await runCli(['queue', 'list', '--state', 'stuck'], { cwd });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error: state "stuck" is not a recipient state; use one or more of queued, deferred');
    const age = await runCli(['queue', 'list', '--older-than', 'soon'], { cwd });
    expect(age.code).toBe(1);
    expect(age.stderr).toContain('--older-than "soon" is not a duration');
  });
});

describe('mailroom queue show', () => {
  it('shows the envelope, each recipient and the timeline', async () => {
    const { cwd } = await seed();
    const r = await runCli(['queue', 'show', 'OLD1'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^id:\s+OLD1$/m);
    expect(r.stdout).toMatch(/^received:\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(3h ago\)$/m);
    expect(r.stdout).toMatch(/^client:\s+ip=192\.0\.2\.1 helo=client\.example\.org$/m);
    expect(r.stdout).toMatch(/^dsn:\s+RET=HDRS ENVID=ENV-1$/m);
    expect(r.stdout).toMatch(/^bob@gmail\.com\s+queued\s+0\s+now\s+-\s+-$/m);
    expect(r.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+received\s+-\s+ip=192\.0\.2\.1 .*size=1234$/m);

    const busy = await runCli(['queue', 'show', 'BUSY4'], { cwd });
    expect(busy.stdout).toMatch(/^frank@gmail\.com\s+delivering\s+1\s+-\s+node-1 until \d\d:\d\d:\d\d\s+-$/m);
    const def = await runCli(['queue', 'show', 'DEF3'], { cwd });
    expect(def.stdout).toMatch(/^eve@yahoo\.com\s+deferred\s+1\s+\S+ \S+ \(in 1\dm\)\s+-\s+451 4\.7\.1 Greylisted$/m);
  });

  it('prints JSON with DSN parameters, leases and events', async () => {
    const { cwd } = await seed();
    const old = await json<Record<string, unknown>>(cwd, ['queue', 'show', 'OLD1']);
    expect(old).toMatchObject({
      id: 'OLD1',
      inQueue: true,
      from: 'sender@example.org',
      size: 1234,
      bodyType: '8BITMIME',
      dsn: { ret: 'HDRS', envid: 'ENV-1' },
      client: { ip: '192.0.2.1', helo: 'client.example.org' },
      recipients: [
        { address: 'bob@gmail.com', state: 'queued', attempts: 0, lease: null, lastReply: null },
        { address: 'carol@Example.NET', state: 'queued' },
      ],
      events: [{ type: 'received', recipient: null, detail: { from: 'sender@example.org' } }],
    });
    expect(old).not.toHaveProperty('bodyBase64');
    const busy = await json<{ recipients: { lease: { owner: string; until: string } }[] }>(cwd, [
      'queue',
      'show',
      'BUSY4',
    ]);
    expect(busy.recipients[0]!.lease.owner).toBe('node-1');
    expect(Date.parse(busy.recipients[0]!.lease.until)).toBeGreaterThan(Date.now());
  });

  it('prints the raw message with --body, from the database or a file', async () => {
    const { cwd } = await seed();
    expect((await runCli(['queue', 'show', 'OLD1', '--body'], { cwd })).stdout).toBe(
      'Subject: hello\r\n\r\ninline body\r\n',
    );
    expect((await runCli(['queue', 'show', 'NEW2', '--body'], { cwd })).stdout).toBe(
      'Subject: bounce\r\n\r\nfile body\r\n',
    );
    const withBody = await json<{ bodyBase64: string }>(cwd, ['queue', 'show', 'NEW2', '--body']);
    expect(Buffer.from(withBody.bodyBase64, 'base64').toString()).toBe('Subject: bounce\r\n\r\nfile body\r\n');
  });

  it('fails for an unknown ID', async () => {
    const { cwd } = await seed();
    const r = await runCli(['queue', 'show', 'NOPE'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: message NOPE is not in the queue; see `mailroom queue list`\n');
  });
});

describe('mailroom queue summary', () => {
  const BUCKETS = ['5m', '10m', '20m', '40m', '1h', '2h', '4h', '8h', '16h', '1d', '2d', '4d', '4d+'];
  const counts = (at: Record<string, number>) => BUCKETS.map((b) => at[b] ?? 0);

  it('counts waiting recipients by destination domain and age, like qshape', async () => {
    const { cwd } = await seed();
    const r = await runCli(['queue', 'summary'], { cwd });
    expect(r.code).toBe(0);
    expect(lines(r.stdout).map((l) => l.split(/\s+/))).toEqual([
      ['DOMAIN', 'T', ...BUCKETS],
      ['TOTAL', '5', ...counts({ '10m': 1, '4h': 2, '4d': 1, '4d+': 1 }).map(String)],
      ['gmail.com', '3', ...counts({ '10m': 1, '4h': 1, '4d+': 1 }).map(String)],
      ['example.net', '1', ...counts({ '4h': 1 }).map(String)],
      ['yahoo.com', '1', ...counts({ '4d': 1 }).map(String)],
    ]);
  });

  it('prints JSON, and counts only the states asked for', async () => {
    const { cwd } = await seed();
    const all = await json<{ buckets: string[]; total: { total: number }; domains: { domain: string }[] }>(cwd, [
      'queue',
      'summary',
    ]);
    expect(all.buckets).toEqual(BUCKETS);
    expect(all.total.total).toBe(5);
    expect(all.domains.map((d) => d.domain)).toEqual(['gmail.com', 'example.net', 'yahoo.com']);
    expect(await json(cwd, ['queue', 'summary', '--state', 'deferred'])).toEqual({
      buckets: BUCKETS,
      total: { domain: 'TOTAL', total: 1, counts: counts({ '4d': 1 }) },
      domains: [{ domain: 'yahoo.com', total: 1, counts: counts({ '4d': 1 }) }],
    });
  });

  it('shows an all-zero TOTAL row for an empty queue', async () => {
    const r = await runCli(['queue', 'summary'], { cwd: workdir(CONFIG) });
    expect(lines(r.stdout)[1]!.split(/\s+/)).toEqual(['TOTAL', '0', ...counts({}).map(String)]);
  });
});
