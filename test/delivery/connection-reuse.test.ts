import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/index.js';
import type { MailEvent } from '../../src/events/index.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { relayThrough, waitFor } from '../helpers/mail.js';
import { startTestServer } from '../helpers/server.js';
import { type PeerOptions, slowPeer } from '../helpers/slow-peer.js';

// The destination's MX is a scripted peer on 127.0.0.21 that counts connections and parallel messages.
let dns: TestDnsServer;
beforeAll(async () => {
  dns = await startDnsServer({
    'dest.test': [{ type: 'MX', data: { preference: 10, exchange: 'mx.dest.test' } }],
    'mx.dest.test': [{ type: 'A', data: '127.0.0.21' }],
  });
});
afterAll(async () => {
  await dns?.close();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await (cleanups.pop() as () => Promise<void>)();
});

/** A sending mailroom whose mail for dest.test goes to a fresh peer. */
async function setup(
  peerDelay: number,
  peerOpts: PeerOptions = {},
  delivery: ConfigInput['delivery'] = {},
  extra: Partial<ConfigInput> = {},
) {
  const peer = slowPeer(peerDelay, peerOpts);
  await new Promise<void>((resolve) => peer.server.listen(0, '127.0.0.21', resolve));
  const port = (peer.server.address() as AddressInfo).port;
  const us = await startTestServer({
    hostname: 'mx.sender.test',
    relay: { networks: ['127.0.0.0/8'] },
    dns: { servers: [dns.server] },
    delivery: { port, tls: 'none', ...delivery },
    ...extra,
  });
  const events: MailEvent[] = [];
  us.server.events.subscribe((e) => events.push(e));
  cleanups.push(async () => {
    await us.stop();
    peer.server.close();
  });
  return { peer, us, events };
}

const delivered = (events: MailEvent[]) => events.filter((e) => e.type === 'delivered');

describe('outbound connection reuse', () => {
  it('carries consecutive messages to one server over one connection', async () => {
    const { peer, us, events } = await setup(0);
    for (let i = 1; i <= 3; i++) {
      await relayThrough(us, 'a@example.test', `user${i}@dest.test`, `reuse-${i}`);
      await waitFor(() => delivered(events).length === i, `message ${i} delivered`);
    }
    expect(peer.received).toEqual(['reuse-1', 'reuse-2', 'reuse-3']);
    expect(peer.connections()).toBe(1);
  });

  it('opens a new connection after delivery.connectionCache.maxMessages messages', async () => {
    const { peer, us, events } = await setup(0, {}, { connectionCache: { maxMessages: 2 } });
    for (let i = 1; i <= 5; i++) {
      await relayThrough(us, 'a@example.test', `user${i}@dest.test`, `max-${i}`);
      await waitFor(() => delivered(events).length === i, `message ${i} delivered`);
    }
    expect(peer.connections()).toBe(3);
  });

  it('does not reuse connections when delivery.connectionCache.idle is 0', async () => {
    const { peer, us, events } = await setup(0, {}, { connectionCache: { idle: 0 } });
    for (let i = 1; i <= 2; i++) {
      await relayThrough(us, 'a@example.test', `user${i}@dest.test`, `off-${i}`);
      await waitFor(() => delivered(events).length === i, `message ${i} delivered`);
    }
    expect(peer.connections()).toBe(2);
  });

  for (const say421 of [false, true]) {
    it(`redoes a message on a new connection when the reused one dies at MAIL${say421 ? ' (421)' : ''}`, async () => {
      const { peer, us, events } = await setup(0, { oneMessagePerConnection: { say421 } });
      for (let i = 1; i <= 3; i++) {
        await relayThrough(us, 'a@example.test', `user${i}@dest.test`, `race-${i}`);
        await waitFor(() => delivered(events).length === i, `message ${i} delivered`);
      }
      expect(peer.received).toEqual(['race-1', 'race-2', 'race-3']);
      // Messages 2 and 3 each found their cached session dead at MAIL and went over a new one.
      expect(peer.connections()).toBe(3);
      expect(events.filter((e) => e.type === 'deferred')).toEqual([]);
    });

    it(`replaces a cached connection the server has closed${say421 ? ' with 421' : ''}, without a deferral`, async () => {
      const { peer, us, events } = await setup(0, { idleClose: { afterMs: 100, say421 } });
      await relayThrough(us, 'a@example.test', 'first@dest.test', 'stale-1');
      await waitFor(() => delivered(events).length === 1, 'first message delivered');
      await new Promise((r) => setTimeout(r, 300)); // the peer hangs up on the idle session
      await relayThrough(us, 'a@example.test', 'second@dest.test', 'stale-2');
      await waitFor(() => delivered(events).length === 2, 'second message delivered');
      expect(peer.received).toEqual(['stale-1', 'stale-2']);
      expect(peer.connections()).toBe(2);
      expect(events.filter((e) => e.type === 'deferred')).toEqual([]);
    });
  }
});

describe('per-destination concurrency', () => {
  it('keeps parallel deliveries to one destination within delivery.destinationConcurrency', async () => {
    const { peer, us, events } = await setup(300, {}, { destinationConcurrency: { initial: 3, max: 3 } });
    await Promise.all(
      Array.from({ length: 9 }, (_, i) => relayThrough(us, 'a@example.test', `p${i}@dest.test`, `par-${i}`)),
    );
    await waitFor(() => delivered(events).length === 9, 'all nine delivered');
    expect(peer.maxInFlight()).toBe(3);
    expect(peer.received).toHaveLength(9);
  });
});

describe('per-domain rate limits', () => {
  it('defers what exceeds delivery.rateLimits until the next message is allowed', async () => {
    // A short lease keeps the wait for a rate token short, so the third message is deferred, not held.
    const { peer, us, events } = await setup(
      0,
      {},
      { rateLimits: { 'dest.test': '2/1h' } },
      { queue: { lease: '4s' } },
    );
    const before = Date.now();
    for (let i = 1; i <= 3; i++) await relayThrough(us, 'a@example.test', `r${i}@dest.test`, `rate-${i}`);
    await waitFor(
      () => delivered(events).length === 2 && events.some((e) => e.type === 'deferred'),
      'two sent, one deferred',
    );
    const deferred = events.find((e) => e.type === 'deferred') as MailEvent;
    expect(deferred.detail.reply).toBe('451 4.4.5 Delivery postponed: rate limit for dest.test reached (2 per hour)');
    // The next token is due half an hour later (2 per hour), not at the back-off schedule's 5 minutes.
    const next = deferred.detail.nextAttemptAt as number;
    expect(next - before).toBeGreaterThan(29 * 60_000);
    expect(next - before).toBeLessThan(31 * 60_000);
    expect(peer.received).toHaveLength(2);
  });
});
