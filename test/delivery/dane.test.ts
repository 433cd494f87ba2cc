import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailEvent } from '../../src/events/index.js';
import { association, makeTestCerts } from '../helpers/certs.js';
import { startDnsServer, type TestDnsServer, type TestRecord } from '../helpers/dns-server.js';
import { type EventLog, mailboxTexts, recordEvents, relayThrough, waitFor } from '../helpers/mail.js';
import { freePort } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// DANE (RFC 7672) end to end: the in-process DNS server plays a validating resolver (AD set for
// names marked secure). Two peer mailrooms: mx.ee.test (127.0.0.30) with the self-signed certificate
// mailroom makes on first start, authenticated by DANE-EE 3 1 1; mx.ta.test (127.0.0.31) with a
// certificate from a local CA (sent with the CA), authenticated by DANE-TA 2 1 1.

let dns: TestDnsServer;
let ee: TestServer;
let ta: TestServer;
let us: TestServer;
let log: EventLog;
let port: number;
let eeTlsa: TestRecord;
const owner = (host: string) => `_${port}._tcp.${host}`;
const EE_DOMAINS = [
  'ee.test',
  'wrong.test',
  'insecure.test',
  'pkix.test',
  'unsigned-mx.test',
  'broken.test',
  'direct.test',
  'rekeyed.test',
  'mixed.test',
];

const mx = (exchange: string): TestRecord[] => [{ type: 'MX', data: { preference: 10, exchange } }];
const tlsa = (usage: number, selector: number, matchingType: number, certificate: Buffer): TestRecord => ({
  type: 'TLSA',
  data: { usage, selector, matchingType, certificate },
});

async function delivered(t: TestServer, to: string, subject: string): Promise<void> {
  await waitFor(async () => (await mailboxTexts(t, to)).find((m) => m.includes(subject)), `delivery of "${subject}"`);
}

/** The delivery or deferral event of a message. */
function outcome(id: string): Promise<MailEvent> {
  return log
    .next('delivered', (e) => e.messageId === id, 15_000)
    .catch(async (err) => {
      const d = log.of('deferred').find((e) => e.messageId === id);
      if (d) return d;
      throw err;
    });
}

async function deferral(id: string): Promise<MailEvent> {
  return log.next('deferred', (e) => e.messageId === id, 15_000);
}

beforeAll(async () => {
  port = await freePort();
  const certs = makeTestCerts('mailroom-dane-');
  const taCert = certs.leaf('ta', ['mx.ta.test']);
  ee = await startTestServer({
    hostname: 'mx.ee.test',
    listeners: [{ protocol: 'smtp', address: '127.0.0.30', port }],
    domains: [...EE_DOMAINS].map((name) => ({
      name,
      transport: 'mailbox' as const,
    })),
  });
  ta = await startTestServer({
    hostname: 'mx.ta.test',
    listeners: [{ protocol: 'smtp', address: '127.0.0.31', port }],
    domains: [
      { name: 'ta.test', transport: 'mailbox' },
      { name: 'taname.test', transport: 'mailbox' },
    ],
    tls: { cert: taCert.chain, key: taCert.key },
  });
  for (const d of EE_DOMAINS) {
    await ee.server.resources.store.addUser(`friend@${d}`, '!');
  }
  for (const d of ['ta.test', 'taname.test']) await ta.server.resources.store.addUser(`friend@${d}`, '!');

  // mailroom's own self-signed certificate, as an operator would publish it: 3 1 1.
  const eeCert = path.join(ee.dataDir, 'tls', 'cert.pem');
  eeTlsa = tlsa(3, 1, 1, association(eeCert, 1, 1));
  const a = (ip: string): TestRecord[] => [{ type: 'A', data: ip }];
  dns = await startDnsServer({
    'ee.test': mx('mx.ee.test'),
    'mx.ee.test': a('127.0.0.30'),
    [owner('mx.ee.test')]: [eeTlsa],
    // Same server, but the TLSA record names another key.
    'wrong.test': mx('mx.wrong.test'),
    'mx.wrong.test': a('127.0.0.30'),
    [owner('mx.wrong.test')]: [tlsa(3, 1, 1, Buffer.alloc(32, 0x5a))],
    // The wrong key again, but nothing is validated: DANE does not apply.
    'insecure.test': mx('mx.insecure.test'),
    'mx.insecure.test': a('127.0.0.30'),
    [owner('mx.insecure.test')]: [tlsa(3, 1, 1, Buffer.alloc(32, 0x5a))],
    // Validated, but only a PKIX-EE record (not for SMTP): TLS is required, not authenticated.
    'pkix.test': mx('mx.pkix.test'),
    'mx.pkix.test': a('127.0.0.30'),
    [owner('mx.pkix.test')]: [tlsa(1, 1, 1, Buffer.alloc(32, 0x5a))],
    // Validated MX host and TLSA, but the MX RRset itself is not validated: DANE does not apply.
    'unsigned-mx.test': mx('mx.wrong.test'),
    // The TLSA lookup fails (bogus): the host is not used.
    'broken.test': mx('mx.broken.test'),
    'mx.broken.test': a('127.0.0.30'),
    // No MX: the domain is its own mail host, and the TLSA base domain (RFC 7672 2.2.2).
    'direct.test': a('127.0.0.30'),
    [owner('direct.test')]: [eeTlsa],
    // TLSA records that are never cached, so a change takes effect at once (see the cache test).
    'rekeyed.test': mx('mx.rekeyed.test'),
    'mx.rekeyed.test': a('127.0.0.30'),
    [owner('mx.rekeyed.test')]: [{ ...eeTlsa, ttl: 0 }],
    // The preferred host fails DANE; the other one has (validated) no TLSA records at all.
    'mixed.test': [
      { type: 'MX', data: { preference: 10, exchange: 'mx.wrong.test' } },
      { type: 'MX', data: { preference: 20, exchange: 'mx.notlsa.test' } },
    ],
    'mx.notlsa.test': a('127.0.0.30'),
    'ta.test': mx('mx.ta.test'),
    'mx.ta.test': a('127.0.0.31'),
    [owner('mx.ta.test')]: [tlsa(2, 1, 1, association(certs.ca.cert, 1, 1))],
    // The CA signs the server certificate, but for mx.ta.test, not for this MX host's name.
    'taname.test': mx('mx.taname.test'),
    'mx.taname.test': a('127.0.0.31'),
    [owner('mx.taname.test')]: [tlsa(2, 1, 1, association(certs.ca.cert, 1, 1))],
  });
  const signed = (...hosts: string[]) => hosts.flatMap((h) => [h, owner(h)]);
  dns.secure(
    'ee.test',
    'wrong.test',
    'pkix.test',
    'broken.test',
    'ta.test',
    'taname.test',
    'rekeyed.test',
    'mixed.test',
    ...signed(
      'mx.notlsa.test',
      'direct.test',
      'mx.rekeyed.test',
      'mx.ee.test',
      'mx.wrong.test',
      'mx.pkix.test',
      'mx.broken.test',
      'mx.ta.test',
      'mx.taname.test',
    ),
  );
  dns.fail(owner('mx.broken.test'));
  us = await startTestServer({
    hostname: 'mx.local.test',
    relay: { networks: ['127.0.0.0/8'] },
    dns: { servers: [dns.server] },
    delivery: { port, connectTimeout: 2000 },
    queue: { retry: ['1h'] },
  });
  await us.server.resources.store.addUser('sender@example.test', '!');
  log = recordEvents(us);
}, 60_000);

afterAll(async () => {
  log?.stop();
  await us?.stop();
  await ee?.stop();
  await ta?.stop();
  await dns?.close();
});

describe('delivery under DANE', () => {
  it('DANE-EE 3 1 1 matching the self-signed certificate: delivered, reported as verified', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@ee.test', 'dane ee ok');
    await delivered(ee, 'friend@ee.test', 'dane ee ok');
    const e = await outcome(id);
    expect(e.type).toBe('delivered');
    expect(e.detail.tls).toMatchObject({ dane: 'verified', authorized: false });
    expect(dns.queries).toContain(`TLSA _${port}._tcp.mx.ee.test`);
    // DANE takes precedence: no MTA-STS policy is even looked up.
    expect(dns.queries).not.toContain('TXT _mta-sts.ee.test');
  });

  it('a TLSA record that matches nothing: deferred with 4.7.5, nothing delivered', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@wrong.test', 'dane mismatch');
    const e = await deferral(id);
    expect(e.detail.reply).toMatch(/^451 4\.7\.5 No mail server could be reached securely \(mx\.wrong\.test\)/);
    expect(e.detail.reply).toMatch(
      /DANE: TLS peer not accepted: the server certificate matches no DANE-EE TLSA record/,
    );
    const [r] = await us.server.resources.store.getRecipients(id);
    expect(r?.state).toBe('deferred');
    expect(await mailboxTexts(ee, 'friend@wrong.test')).toEqual([]);
  });

  it('records without the AD bit: opportunistic TLS as without DANE', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@insecure.test', 'dane insecure');
    await delivered(ee, 'friend@insecure.test', 'dane insecure');
    const e = await outcome(id);
    expect(e.detail.tls).toMatchObject({ authorized: false });
    expect((e.detail.tls as { dane?: string }).dane).toBeUndefined();
  });

  it('an MX RRset without the AD bit: DANE does not apply even to a host with validated TLSA', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@unsigned-mx.test', 'dane unsigned mx');
    await delivered(ee, 'friend@unsigned-mx.test', 'dane unsigned mx');
    expect((await outcome(id)).detail.tls).not.toHaveProperty('dane');
  });

  it('only unusable records (PKIX-EE): TLS required but not authenticated', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@pkix.test', 'dane pkix only');
    await delivered(ee, 'friend@pkix.test', 'dane pkix only');
    expect((await outcome(id)).detail.tls).toMatchObject({ dane: 'unauthenticated' });
  });

  it('a failed TLSA lookup: the host is not used, deferred with 4.7.5', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@broken.test', 'dane broken');
    const e = await deferral(id);
    expect(e.detail.reply).toMatch(/^451 4\.7\.5 .*mx\.broken\.test: DANE: TLSA lookup failed \(ESERVFAIL\)/);
    expect(await mailboxTexts(ee, 'friend@broken.test')).toEqual([]);
  });

  it('implicit MX: the domain itself is the TLSA base domain', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@direct.test', 'dane implicit mx');
    await delivered(ee, 'friend@direct.test', 'dane implicit mx');
    expect((await outcome(id)).detail.tls).toMatchObject({ dane: 'verified' });
    expect(dns.queries).toContain(`TLSA _${port}._tcp.direct.test`);
  });

  it('a cached session verified against old TLSA records is not reused once they change', async () => {
    const first = await relayThrough(us, 'sender@example.test', 'friend@rekeyed.test', 'dane before rekey');
    await delivered(ee, 'friend@rekeyed.test', 'dane before rekey');
    expect((await outcome(first)).detail.tls).toMatchObject({ dane: 'verified' });
    // The session just used waits in the connection cache; the published key changes meanwhile.
    dns.set(owner('mx.rekeyed.test'), [{ ...tlsa(3, 1, 1, Buffer.alloc(32, 0x11)), ttl: 0 }]);
    const second = await relayThrough(us, 'sender@example.test', 'friend@rekeyed.test', 'dane after rekey');
    expect((await deferral(second)).detail.reply).toMatch(/^451 4\.7\.5 .*matches no DANE-EE TLSA record/);
    expect((await mailboxTexts(ee, 'friend@rekeyed.test')).filter((m) => m.includes('after rekey'))).toEqual([]);
    dns.set(owner('mx.rekeyed.test'), [{ ...eeTlsa, ttl: 0 }]);
  });

  it('a host without TLSA records in a DANE domain is still tried, with opportunistic TLS', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@mixed.test', 'dane mixed hosts');
    await delivered(ee, 'friend@mixed.test', 'dane mixed hosts');
    const e = await outcome(id);
    expect(e.detail.reply).toMatch(/^250 /);
    expect(e.detail.tls).not.toHaveProperty('dane');
  });

  it('delivery.dane: disabled ignores TLSA records', async () => {
    const plain = await startTestServer({
      hostname: 'mx.other.test',
      relay: { networks: ['127.0.0.0/8'] },
      dns: { servers: [dns.server] },
      delivery: { port, connectTimeout: 2000, dane: 'disabled' },
      queue: { retry: ['1h'] },
    });
    try {
      await plain.server.resources.store.addUser('sender@example.test', '!');
      await relayThrough(plain, 'sender@example.test', 'friend@wrong.test', 'dane disabled');
      await delivered(ee, 'friend@wrong.test', 'dane disabled');
    } finally {
      await plain.stop();
    }
  });

  it('DANE-TA 2 1 1 with the local CA: delivered and verified', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@ta.test', 'dane ta ok');
    await delivered(ta, 'friend@ta.test', 'dane ta ok');
    expect((await outcome(id)).detail.tls).toMatchObject({ dane: 'verified' });
  });

  it('DANE-TA: a certificate for another name is refused with 4.7.5', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@taname.test', 'dane ta wrong name');
    const e = await deferral(id);
    expect(e.detail.reply).toMatch(/^451 4\.7\.5 .*not valid for mx\.taname\.test/);
    expect(await mailboxTexts(ta, 'friend@taname.test')).toEqual([]);
  });
});
