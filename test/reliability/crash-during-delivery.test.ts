import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { exited, freePort, spawnCli, waitForPort, writeConfig } from '../helpers/process.js';
import { tempDir } from '../helpers/server.js';
import { slowPeer } from '../helpers/slow-peer.js';
import { RawSmtp } from '../helpers/smtp-client.js';

let dns: TestDnsServer;
let peer: ReturnType<typeof slowPeer>;
let peerPort: number;

beforeAll(async () => {
  peer = slowPeer(300);
  peerPort = await freePort();
  await new Promise<void>((r) => peer.server.listen(peerPort, '127.0.0.7', () => r()));
  dns = await startDnsServer({
    'far.test': [{ type: 'MX', data: { preference: 10, exchange: 'mx.far.test' } }],
    'mx.far.test': [{ type: 'A', data: '127.0.0.7' }],
  });
});
afterAll(async () => {
  peer.server.close();
  await dns.close();
});

describe('crash during remote delivery', () => {
  it('delivers every accepted message after SIGKILL; duplicates only for deliveries in flight', async () => {
    const dir = tempDir('mailroom-crash-delivery-');
    const port = await freePort();
    const config = writeConfig(dir, {
      hostname: 'mx.crash.test',
      dataDir: path.join(dir, 'data'),
      listeners: [{ protocol: 'smtp', address: '127.0.0.1', port }],
      domains: [{ name: 'example.test', transport: 'mailbox' }],
      relay: { networks: ['127.0.0.0/8'] },
      dns: { servers: [dns.server] },
      delivery: { port: peerPort, tls: 'none' },
      queue: { retry: ['1s'], concurrency: 10 },
      log: { level: 'warn' },
    });
    const first = spawnCli(['serve', '-c', config], { cwd: dir });
    await waitForPort(port);
    const accepted: string[] = [];
    const c = await RawSmtp.connect(port);
    await c.read();
    await c.cmd('EHLO crash.test');
    for (let i = 0; i < 40; i++) {
      const token = `tok-${i}`;
      await c.cmd('MAIL FROM:<sender@example.test>');
      await c.cmd(`RCPT TO:<user${i}@far.test>`);
      await c.cmd('DATA');
      c.write(`Subject: ${token}\r\n\r\nbody\r\n.\r\n`);
      if ((await c.read()).code === 250) accepted.push(token);
    }
    c.close();
    // Kill while deliveries are waiting for the slow peer's 250.
    const deadline = Date.now() + 10_000;
    while (peer.received.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    first.kill('SIGKILL');
    await exited(first);
    const before = peer.received.length;
    expect(before).toBeLessThan(accepted.length);

    const second = spawnCli(['serve', '-c', config], { cwd: dir });
    await waitForPort(port);
    const until = Date.now() + 30_000;
    while (accepted.some((t) => !peer.received.includes(t)) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
    second.kill('SIGTERM');
    await exited(second);

    for (const token of accepted) expect(peer.received, token).toContain(token);
    // A message is delivered twice only if its delivery was in flight at the kill.
    const duplicates = peer.received.length - new Set(peer.received).size;
    expect(duplicates).toBeLessThanOrEqual(10);
  }, 90_000);
});
