/** DSNs the queue sends: the delay warning (once), failures on bounce and expiry, successes on request. */
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import type { DsnNotifyValue } from '../../src/dsn/index.js';
import { EventBus } from '../../src/events/index.js';
import { type DeliveryNotice, DsnNotifier, QueueWorker } from '../../src/queue/index.js';
import { Router } from '../../src/router/index.js';
import { Spool } from '../../src/spool/index.js';
import { CompositeBlobStore, FsBlobStore, type Recipient, SqliteStore } from '../../src/store/index.js';
import type { DeliveryOutcome, Transport } from '../../src/transports/index.js';
import { hasPython, parse } from '../dsn/helpers.js';
import { tempDir } from '../helpers/server.js';
import { newMessage } from '../store/fixtures.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const RCPT = 'a@example.test';
const SENDER = 'sender@example.org';
const START = 1_000_000;

const REPLIES: Record<DeliveryOutcome['status'], string> = {
  delivered: '250 2.0.0 Ok',
  bounced: '550 5.1.1 No such user',
  deferred: '451 4.3.0 Try later',
};

/** Answers RCPT from a script, one outcome per attempt; everything else (the DSNs) waits. */
class ScriptedTransport implements Transport {
  readonly name = 'scripted';
  attempts = 0;
  constructor(private readonly script: DeliveryOutcome['status'][]) {}
  async deliver({ recipient }: { recipient: Recipient }): Promise<DeliveryOutcome> {
    if (recipient.address !== RCPT) return { status: 'deferred', reply: '451 4.3.0 Not in this test' };
    const status = this.script[Math.min(this.attempts++, this.script.length - 1)] ?? 'deferred';
    return { status, reply: REPLIES[status] };
  }
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

interface Setup {
  script: DeliveryOutcome['status'][];
  queue?: Record<string, unknown>;
  notify?: DsnNotifyValue[] | null;
  mailFrom?: string;
  /** Make queuing the first delay DSN fail. */
  failFirstDelay?: boolean;
}

async function setup({ script, queue = {}, notify = null, mailFrom = SENDER, failFirstDelay = false }: Setup) {
  const dir = tempDir();
  const store = new SqliteStore(path.join(dir, 'q.db'));
  await store.migrate();
  await store.addDomain('example.test', 'mailbox');
  const files = new FsBlobStore(path.join(dir, 'blobs'));
  const blobs = new CompositeBlobStore(store, files);
  const clock = { now: START };
  const logger = pino({ level: 'silent' });
  const transport = new ScriptedTransport(script);
  const notifier = new DsnNotifier({ hostname: 'mx.example.test', spool: new Spool(store, blobs), blobs, logger });
  const notices: DeliveryNotice['kind'][] = [];
  let failDelay = failFirstDelay;
  const worker = new QueueWorker({
    node: 'test-node',
    store,
    blobs,
    router: new Router(store),
    events: new EventBus(),
    logger,
    queue: parseConfig({ queue }).queue,
    transportFor: () => transport,
    now: () => clock.now,
    notify: async (n) => {
      notices.push(n.kind);
      if (n.kind === 'delay' && failDelay) {
        failDelay = false;
        throw new Error('disk full');
      }
      await notifier.notify(n);
    },
  });
  cleanup.push(async () => {
    await worker.stop();
    await store.close();
  });
  const writer = await files.create('M1');
  await writer.write(Buffer.from(`From: ${SENDER}\r\nTo: ${RCPT}\r\nSubject: Lunch\r\n\r\nNoon?\r\n`));
  const blobRef = await writer.commit();
  await store.commitMessages([
    newMessage('M1', [{ address: RCPT, orcpt: null, notify }], { receivedAt: START, blobRef, mailFrom }),
  ]);

  /** Run the attempt due at the current clock and wait until RCPT has made `attempts` in one of `states`. */
  async function attempt(attempts: number, states: string[]): Promise<Recipient> {
    worker.start();
    worker.wake();
    for (let i = 0; i < 300; i++) {
      const r = (await store.getRecipients('M1')).find((x) => x.address === RCPT);
      if (r && r.attempts === attempts && states.includes(r.state)) return r;
      await new Promise((res) => setTimeout(res, 10));
    }
    throw new Error(`recipient never reached attempt ${attempts} in ${states.join('/')}`);
  }

  /** The DSNs queued so far, oldest first, with their bodies. */
  async function dsns() {
    const queued = await store.listQueueMessages({});
    const out = [];
    for (const m of queued.filter((q) => q.mailFrom === '' && q.id !== 'M1')) {
      const body = await blobs.read(m.blobRef);
      out.push({ message: m, body, text: body.toString('utf8') });
    }
    return out;
  }

  return { store, worker, clock, transport, notices, attempt, dsns };
}

describe('delay warning DSN', () => {
  it('is sent once, after queue.delayWarning, then the expiry bounces with 4.4.7', async () => {
    const { clock, attempt, dsns } = await setup({
      script: ['deferred'],
      queue: { retry: ['1h'], delayWarning: '4h', lifetime: '10h' },
    });
    expect((await attempt(1, ['deferred'])).delayNotifiedAt).toBeNull();
    clock.now += 3 * HOUR;
    expect((await attempt(2, ['deferred'])).delayNotifiedAt).toBeNull();
    expect(await dsns()).toEqual([]);

    clock.now += HOUR; // 4 h after arrival
    expect((await attempt(3, ['deferred'])).delayNotifiedAt).toBe(START + 4 * HOUR);
    const [delay, ...more] = await dsns();
    expect(more).toEqual([]);
    expect(delay!.message.recipients.map((r) => [r.address, r.notify])).toEqual([[SENDER, ['NEVER']]]);
    expect(delay!.text).toContain('Action: delayed');
    expect(delay!.text).toContain('Will-Retry-Until:');

    clock.now += HOUR;
    expect((await attempt(4, ['deferred'])).delayNotifiedAt).toBe(START + 4 * HOUR);
    expect(await dsns()).toHaveLength(1);

    clock.now += 6 * HOUR; // past the lifetime
    await attempt(5, ['expired']);
    const all = await dsns();
    expect(all).toHaveLength(2);
    const failure = all.find((d) => d.message.id !== delay!.message.id)!;
    expect(failure.text).toContain('Action: failed');
    expect(failure.text).toContain('Status: 4.4.7');
    expect(failure.text).not.toContain('Will-Retry-Until');

    if (hasPython) {
      const d = await parse(delay!.body);
      expect(d.report_type).toBe('delivery-status');
      expect(d.headers.to).toBe(SENDER);
      expect(d.status.recipients).toEqual([
        expect.objectContaining({ action: 'delayed', status: '4.3.0', 'diagnostic-code': 'smtp; 451 4.3.0 Try later' }),
      ]);
      expect(new Date(d.status.recipients[0]!['will-retry-until']!).getTime()).toBe(START + 10 * HOUR);
      const f = await parse(failure.body);
      expect(f.status.recipients).toEqual([expect.objectContaining({ action: 'failed', status: '4.4.7' })]);
    }
  });

  it.each([
    [['NEVER'], 0],
    [['FAILURE'], 0],
    [['SUCCESS'], 0],
    [['DELAY'], 1],
    [['FAILURE', 'DELAY'], 1],
  ] as [DsnNotifyValue[], number][])('honours NOTIFY=%j', async (notify, expected) => {
    const { clock, attempt, dsns } = await setup({
      script: ['deferred'],
      queue: { retry: ['1h'], delayWarning: '1h' },
      notify,
    });
    await attempt(1, ['deferred']);
    clock.now += HOUR;
    // Handled either way: the flag keeps it from being looked at again.
    expect((await attempt(2, ['deferred'])).delayNotifiedAt).toBe(START + HOUR);
    clock.now += HOUR;
    await attempt(3, ['deferred']);
    const got = await dsns();
    expect(got).toHaveLength(expected);
    for (const d of got) expect(d.text).toContain('Action: delayed');
  });

  it('is never sent for a null sender', async () => {
    const { clock, attempt, dsns, notices } = await setup({
      script: ['deferred', 'deferred', 'bounced'],
      queue: { retry: ['1h'], delayWarning: '1h' },
      mailFrom: '',
    });
    await attempt(1, ['deferred']);
    clock.now += HOUR;
    await attempt(2, ['deferred']);
    clock.now += HOUR;
    await attempt(3, ['bounced']);
    expect(notices).toEqual(['delay', 'failure']);
    expect(await dsns()).toEqual([]);
  });

  it('when it cannot be queued, the recipient is deferred as usual and the warning tried again', async () => {
    const { clock, attempt, dsns, notices } = await setup({
      script: ['deferred'],
      queue: { retry: ['1h'], delayWarning: '1h' },
      failFirstDelay: true,
    });
    await attempt(1, ['deferred']);
    clock.now += HOUR;
    const r = await attempt(2, ['deferred']);
    expect(r).toMatchObject({ delayNotifiedAt: null, nextAttemptAt: START + 2 * HOUR });
    expect(await dsns()).toEqual([]);
    clock.now += HOUR;
    expect((await attempt(3, ['deferred'])).delayNotifiedAt).toBe(START + 2 * HOUR);
    expect(notices).toEqual(['delay', 'delay']);
    expect(await dsns()).toHaveLength(1);
  });
});

describe('final DSNs', () => {
  it('bounces a 5xx to the sender with its status', async () => {
    const { attempt, dsns } = await setup({ script: ['bounced'] });
    await attempt(1, ['bounced']);
    const [bounce, ...more] = await dsns();
    expect(more).toEqual([]);
    expect(bounce!.message.recipients.map((r) => r.address)).toEqual([SENDER]);
    expect(bounce!.text).toContain('Action: failed');
    expect(bounce!.text).toContain('Status: 5.1.1');
    if (hasPython) {
      const p = await parse(bounce!.body);
      expect(p.status.recipients).toEqual([
        expect.objectContaining({
          action: 'failed',
          status: '5.1.1',
          'diagnostic-code': 'smtp; 550 5.1.1 No such user',
        }),
      ]);
      expect(p.original?.headers.subject).toBe('Lunch');
    }
  });

  it('reports a delivery only when NOTIFY=SUCCESS asks for it', async () => {
    const asked = await setup({ script: ['delivered'], notify: ['SUCCESS'] });
    await asked.attempt(1, ['delivered']);
    const [success, ...more] = await asked.dsns();
    expect(more).toEqual([]);
    expect(success!.text).toContain('Action: delivered');
    if (hasPython) {
      const p = await parse(success!.body);
      expect(p.status.recipients).toEqual([expect.objectContaining({ action: 'delivered', status: '2.0.0' })]);
    }
    await asked.worker.stop();

    const plain = await setup({ script: ['delivered'] });
    await plain.attempt(1, ['delivered']);
    expect(await plain.dsns()).toEqual([]);
  });
});
