import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { EventBus, type MailEvent } from '../../src/events/index.js';
import { nextAttempt, QueueWorker } from '../../src/queue/index.js';
import { Router } from '../../src/router/index.js';
import { FsBlobStore, SqliteStore } from '../../src/store/index.js';
import type { DeliveryOutcome, Transport } from '../../src/transports/index.js';
import { tempDir } from '../helpers/server.js';
import { newMessage } from '../store/fixtures.js';

/** A transport that answers from a script, one outcome per attempt. */
class ScriptedTransport implements Transport {
  readonly name = 'scripted';
  attempts = 0;
  constructor(private readonly script: DeliveryOutcome['status'][]) {}
  async deliver(): Promise<DeliveryOutcome> {
    const status = this.script[Math.min(this.attempts++, this.script.length - 1)] ?? 'deferred';
    return {
      status,
      reply: status === 'delivered' ? '250 2.0.0 Ok' : status === 'bounced' ? '550 5.1.1 No' : '451 4.3.0 Later',
    };
  }
}

const MINUTE = 60_000;
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

async function setup(script: DeliveryOutcome['status'][], queue: Record<string, unknown> = {}) {
  const dir = tempDir();
  const store = new SqliteStore(path.join(dir, 'q.db'));
  await store.migrate();
  await store.addDomain('example.test', 'mailbox');
  const clock = { now: 1_000_000 };
  const events: MailEvent[] = [];
  const bus = new EventBus();
  bus.subscribe((e) => events.push(e));
  const transport = new ScriptedTransport(script);
  const config = parseConfig({ queue });
  const worker = new QueueWorker({
    node: 'test-node',
    store,
    blobs: new FsBlobStore(path.join(dir, 'blobs')),
    router: new Router(store),
    events: bus,
    logger: pino({ level: 'silent' }),
    queue: config.queue,
    transportFor: () => transport,
    now: () => clock.now,
  });
  cleanup.push(async () => {
    await worker.stop();
    await store.close();
  });
  await store.commitMessages([newMessage('M1', ['a@example.test'], { receivedAt: clock.now })]);
  return { store, worker, clock, events, transport };
}

/** Wait until the recipient leaves `delivering` and reaches one of the states. */
async function settle(store: SqliteStore, states: string[]) {
  for (let i = 0; i < 200; i++) {
    const [r] = await store.getRecipients('M1');
    if (r && states.includes(r.state)) return r;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error('recipient never settled');
}

describe('queue retries', () => {
  it('uses the back-off schedule, repeating its last step', () => {
    const schedule = [5 * MINUTE, 10 * MINUTE, 20 * MINUTE, 40 * MINUTE, 60 * MINUTE];
    expect([1, 2, 3, 4, 5, 6, 9].map((a) => nextAttempt(0, a, schedule) / MINUTE)).toEqual([5, 10, 20, 40, 60, 60, 60]);
  });

  it('defers a temporary failure, then delivers on the next attempt when it is due', async () => {
    const { store, worker, clock, events, transport } = await setup(['deferred', 'delivered']);
    worker.start();
    const first = await settle(store, ['deferred']);
    for (let i = 0; i < 100 && events.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(first).toMatchObject({ attempts: 1, lastReply: '451 4.3.0 Later', nextAttemptAt: clock.now + 5 * MINUTE });
    expect(events.map((e) => e.type)).toEqual(['deferred']);

    // Not due yet: waking the worker changes nothing.
    worker.wake();
    await new Promise((r) => setTimeout(r, 50));
    expect(transport.attempts).toBe(1);

    clock.now += 5 * MINUTE;
    worker.wake();
    expect(await settle(store, ['delivered'])).toMatchObject({ attempts: 2, lastReply: '250 2.0.0 Ok' });
    // The event follows the durable commit, which may still be syncing when the state is visible.
    for (let i = 0; i < 100 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(events.map((e) => e.type)).toEqual(['deferred', 'delivered']);
  });

  it('bounces a permanent failure at once', async () => {
    const { store, worker } = await setup(['bounced']);
    worker.start();
    expect(await settle(store, ['bounced'])).toMatchObject({ attempts: 1, lastReply: '550 5.1.1 No' });
  });

  it('expires a recipient still failing after the queue lifetime', async () => {
    const { store, worker, clock, events } = await setup(['deferred'], { retry: ['1m'], lifetime: '10m' });
    worker.start();
    await settle(store, ['deferred']);
    clock.now += 11 * MINUTE;
    worker.wake();
    expect(await settle(store, ['expired'])).toMatchObject({ attempts: 2 });
    for (let i = 0; i < 100 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(events.at(-1)?.type).toBe('expired');
  });

  it('removes a finished message once every recipient is final', async () => {
    const { store, worker } = await setup(['delivered']);
    worker.start();
    await settle(store, ['delivered']);
    await worker.stop();
    expect(await store.getMessage('M1')).toBeNull();
  });
});
