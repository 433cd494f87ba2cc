import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CompositeBlobStore, FsBlobStore, SqliteStore } from '../../src/store/index.js';
import { exited, freePort, spawnCli, waitForPort, writeConfig } from '../helpers/process.js';
import { tempDir } from '../helpers/server.js';
import { RawSmtp } from '../helpers/smtp-client.js';

interface Outcome {
  acked: Map<string, string>; // token -> queue id
  refused: Set<string>;
}

/** One client sending messages back to back until the connection dies. */
async function sender(port: number, n: number, out: Outcome, stop: { now: boolean }): Promise<void> {
  let c: RawSmtp;
  try {
    c = await RawSmtp.connect(port);
    await c.read();
    await c.cmd('EHLO crash.test');
  } catch {
    return;
  }
  for (let i = 0; !stop.now; i++) {
    const token = `tok-${n}-${i}-${Math.random().toString(36).slice(2)}`;
    // Every fifth message carries a bare LF and must be refused, and never show up later.
    const bad = i % 5 === 4;
    try {
      if ((await c.cmd('MAIL FROM:<sender@crash.test>')).code !== 250) return;
      if ((await c.cmd('RCPT TO:<alice@example.test>')).code !== 250) return;
      if ((await c.cmd('DATA')).code !== 354) return;
      // Some bodies are large enough to go to a file blob instead of inline in the store.
      const filler = i % 7 === 3 ? `${'x'.repeat(998)}\r\n`.repeat(300) : `${'x'.repeat(2000)}\r\n`;
      const body = `Subject: ${token}\r\n\r\n${filler}${bad ? 'bare\nlf\r\n' : ''}${token}\r\n.\r\n`;
      c.write(body);
      const r = await c.read();
      if (r.code === 250) out.acked.set(token, /queued as (\S+)/.exec(r.lines[0] ?? '')?.[1] ?? '');
      else out.refused.add(token);
    } catch {
      return; // killed mid-transaction: neither acked nor refused
    }
  }
}

describe('crash consistency', () => {
  it('keeps every acknowledged message across SIGKILL and stores no refused one', async () => {
    const dir = tempDir('mailroom-crash-');
    const port = await freePort();
    const config = writeConfig(dir, {
      hostname: 'mx.test',
      dataDir: path.join(dir, 'data'),
      listeners: [{ protocol: 'smtp', address: '127.0.0.1', port }],
      domains: [{ name: 'example.test', transport: 'mailbox' }],
      log: { level: 'warn' },
    });
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    const store0 = new SqliteStore(path.join(dir, 'data', 'mailroom.db'));
    await store0.migrate();
    await store0.addDomain('example.test', 'mailbox');
    await store0.addUser('alice@example.test', '!');
    await store0.close();

    const out: Outcome = { acked: new Map(), refused: new Set() };
    const server = spawnCli(['serve', '-c', config], { cwd: dir });
    await waitForPort(port);
    const stop = { now: false };
    const senders = Array.from({ length: 20 }, (_, n) => sender(port, n, out, stop));
    // Kill once a fair amount of mail is flowing, so the kill lands mid-transaction.
    const deadline = Date.now() + 20_000;
    while (out.acked.size < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    server.kill('SIGKILL');
    await exited(server);
    stop.now = true;
    await Promise.all(senders);
    expect(out.acked.size).toBeGreaterThan(0);
    expect(out.refused.size).toBeGreaterThan(0);

    // Restart on the same data and let the queue drain, then stop cleanly.
    const again = spawnCli(['serve', '-c', config], { cwd: dir });
    await waitForPort(port);
    const store = new SqliteStore(path.join(dir, 'data', 'mailroom.db'));
    await store.migrate();
    const user = await store.getUser('alice@example.test');
    const inbox = await store.ensureMailbox(user!.id, 'INBOX');
    for (let i = 0; i < 200; i++) {
      const s = await store.queueSummary();
      if ((s.byState.queued ?? 0) + (s.byState.deferred ?? 0) + (s.byState.delivering ?? 0) === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    again.kill('SIGTERM');
    expect(await exited(again)).toBe(0);

    const delivered = await store.listMailboxMessages(inbox.id);
    const remaining = await store.listQueue({});
    expect(remaining.filter((r) => r.state !== 'delivered')).toEqual([]);

    // Every stored body, read back, names its token in the Subject.
    const blobs = new CompositeBlobStore(store, new FsBlobStore(path.join(dir, 'data', 'blobs')));
    const tokens = new Map<string, number>();
    for (const m of delivered) {
      const body = (await blobs.read(m.blobRef)).toString('utf8');
      const token = /Subject: (\S+)/.exec(body)?.[1] ?? '';
      tokens.set(token, (tokens.get(token) ?? 0) + 1);
    }
    await store.close();
    for (const [token, id] of out.acked) {
      expect(tokens.get(token), `acknowledged ${id} (${token}) is delivered exactly once`).toBe(1);
    }
    for (const token of out.refused) expect(tokens.has(token), `refused ${token} was stored`).toBe(false);
    expect(delivered.some((m) => m.blobRef.startsWith('fs:'))).toBe(true);
    expect(delivered.some((m) => m.blobRef.startsWith('db:'))).toBe(true);
    // UIDs are strictly increasing: nothing went backwards across the crash.
    const uids = delivered.map((m) => m.uid);
    expect([...uids].sort((a, b) => a - b)).toEqual(uids);
    expect(new Set(uids).size).toBe(uids.length);
  }, 90_000);
});
