import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailEvent } from '../../src/events/index.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { queueId, sendMail, waitFor } from '../helpers/mail.js';
import { freePort } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { slowPeer } from '../helpers/slow-peer.js';
import { RawSmtp } from '../helpers/smtp-client.js';

// backup.test: primary MX on 127.0.0.31 (preference 10), us (mx.test, 20), a third MX on 127.0.0.32 (30).
let dns: TestDnsServer;
let port: number;
let us: TestServer;
const primary = slowPeer(0);
const third = slowPeer(0);
const events: MailEvent[] = [];

beforeAll(async () => {
  port = await freePort();
  await new Promise<void>((resolve) => third.server.listen(port, '127.0.0.32', resolve));
  dns = await startDnsServer({
    'backup.test': [
      { type: 'MX', data: { preference: 10, exchange: 'primary.backup.test' } },
      { type: 'MX', data: { preference: 20, exchange: 'mx.test' } },
      { type: 'MX', data: { preference: 30, exchange: 'third.backup.test' } },
    ],
    'primary.backup.test': [{ type: 'A', data: '127.0.0.31' }],
    'third.backup.test': [{ type: 'A', data: '127.0.0.32' }],
    'mx.test': [{ type: 'A', data: '127.0.0.1' }],
    'ours-first.test': [
      { type: 'MX', data: { preference: 5, exchange: 'mx.test' } },
      { type: 'MX', data: { preference: 10, exchange: 'third.backup.test' } },
    ],
  });
  us = await startTestServer({
    hostname: 'mx.test',
    relay: { networks: [], domains: ['backup.test', 'ours-first.test'] },
    dns: { servers: [dns.server] },
    delivery: { port, tls: 'none' },
    queue: { retry: ['1s'] },
  });
  us.server.events.subscribe((e) => events.push(e));
});
afterAll(async () => {
  await us?.stop();
  primary.server.close();
  third.server.close();
  await dns?.close();
});

/** Send as an outside server would: no AUTH, from outside relay.networks (which is empty). */
async function fromOutside(to: string[], subject: string) {
  const c = await RawSmtp.connect(us.port('smtp'));
  try {
    await c.read();
    await c.cmd('EHLO sender.elsewhere.test');
    return await sendMail(c, 'someone@elsewhere.test', to, `Subject: ${subject}\r\n\r\nhello`);
  } finally {
    c.close();
  }
}

describe('backup MX (relay.domains)', () => {
  it('accepts mail for a backup domain from anyone, but still refuses to relay elsewhere', async () => {
    const r = await fromOutside(['a@backup.test', 'b@stranger.test'], 'mixed');
    expect(r.rcpts.map((x) => x.lines[0]?.slice(0, 5))).toEqual(['2.1.5', '5.7.1']);
    expect(r.rcpts.map((x) => x.code)).toEqual([250, 550]);
    expect(r.end?.code).toBe(250);
  });

  it('holds the mail while the primary is down and delivers it only to the primary when it is back', async () => {
    const r = await fromOutside(['held@backup.test'], 'while-down');
    const id = queueId(r.end as NonNullable<typeof r.end>);
    await waitFor(
      () => events.some((e) => e.type === 'deferred' && e.messageId === id),
      'a deferral while the primary is down',
    );
    const deferral = events.find((e) => e.type === 'deferred' && e.messageId === id) as MailEvent;
    // Only the more preferred MX is tried: never ourselves, never the less preferred third host.
    expect(deferral.detail.reply).toMatch(/^451 4\.4\.1 No mail server could be reached \(primary\.backup\.test\)/);
    await new Promise<void>((resolve) => primary.server.listen(port, '127.0.0.31', resolve));
    await waitFor(() => events.some((e) => e.type === 'delivered' && e.messageId === id), 'delivery to the primary');
    expect(primary.received).toContain('while-down');
    expect(third.received).toEqual([]);
  });

  it('bounces as a loop when we are the most preferred MX of a backup domain', async () => {
    const r = await fromOutside(['x@ours-first.test'], 'loop');
    const id = queueId(r.end as NonNullable<typeof r.end>);
    await waitFor(() => events.some((e) => e.type === 'bounced' && e.messageId === id), 'the bounce');
    const bounce = events.find((e) => e.type === 'bounced' && e.messageId === id) as MailEvent;
    expect(bounce.detail.reply).toBe('554 5.4.6 Mail for ours-first.test loops back to myself');
    expect(third.received).not.toContain('loop');
  });
});
