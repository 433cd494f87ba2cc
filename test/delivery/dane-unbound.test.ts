/**
 * DANE with a REAL validating resolver: Debian's unbound, started by the test on a loopback port,
 * serving three zones from files (auth-zone, for-upstream) and validating them like data from the
 * Internet: signed.test is signed with ldns-signzone (Debian's ldnsutils) and its DS is the trust
 * anchor; bogus.test is signed too, but its TLSA record is changed after signing; plain.test is not
 * signed and no anchor covers it (insecure). A peer mailroom on 127.0.0.40 is every zone's MX host,
 * with the self-signed certificate it makes on first start; the TLSA records are `3 1 1` of its key.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupTlsa, SecureResolver } from '../../src/dns/index.js';
import { association } from '../helpers/certs.js';
import { type EventLog, mailboxTexts, recordEvents, relayThrough, waitFor } from '../helpers/mail.js';
import { exited, freePort, waitForPort } from '../helpers/process.js';
import { startTestServer, type TestServer, tempDir } from '../helpers/server.js';

const UNBOUND = '/usr/sbin/unbound';
const KEYGEN = '/usr/bin/ldns-keygen';
const SIGNZONE = '/usr/bin/ldns-signzone';
const PEER = '127.0.0.40';

const missing = [UNBOUND, KEYGEN, SIGNZONE].filter((f) => !fs.existsSync(f));
const skipReason =
  missing.length > 0
    ? `dane-unbound tests skipped: missing ${missing.join(', ')} (install Debian's unbound and ldnsutils)`
    : null;
if (skipReason) console.warn(skipReason);

let dir: string;
let unbound: ChildProcess | null = null;
let dnsPort: number;
let peer: TestServer;
let us: TestServer;
let log: EventLog;
let smtpPort: number;

function zone(name: string, tlsaHex: string): string {
  return [
    `$ORIGIN ${name}.`,
    '$TTL 300',
    `@ IN SOA ns.${name}. hostmaster.${name}. 1 3600 600 86400 300`,
    `@ IN NS ns.${name}.`,
    'ns IN A 127.0.0.1',
    `@ IN MX 10 mx.${name}.`,
    `mx IN A ${PEER}`,
    `_${smtpPort}._tcp.mx IN TLSA 3 1 1 ${tlsaHex}`,
    '',
  ].join('\n');
}

/** Sign `name`'s zone file with a new KSK and ZSK; returns the DS record of the KSK (the trust anchor). */
function sign(name: string): string {
  const keygen = (...args: string[]) =>
    execFileSync(KEYGEN, [...args, '-a', 'ECDSAP256SHA256', name], { cwd: dir })
      .toString()
      .trim();
  const zsk = keygen();
  const ksk = keygen('-k');
  execFileSync(SIGNZONE, ['-n', `${name}.zone`, zsk, ksk], { cwd: dir, stdio: 'pipe' });
  return fs.readFileSync(path.join(dir, `${ksk}.ds`), 'utf8');
}

function startUnbound(): ChildProcess {
  const conf = path.join(dir, 'unbound.conf');
  const authZone = (name: string, file: string) =>
    `auth-zone:\n  name: "${name}"\n  zonefile: "${path.join(dir, file)}"\n  for-upstream: yes\n  for-downstream: no\n  fallback-enabled: no\n`;
  fs.writeFileSync(
    conf,
    [
      'server:',
      `  interface: 127.0.0.1@${dnsPort}`,
      '  do-daemonize: no',
      '  use-syslog: no',
      `  logfile: "${path.join(dir, 'unbound.log')}"`,
      '  username: ""',
      '  chroot: ""',
      `  directory: "${dir}"`,
      '  pidfile: ""',
      '  module-config: "validator iterator"',
      `  trust-anchor-file: "${path.join(dir, 'anchors.ds')}"`,
      '  do-not-query-localhost: no',
      '  do-ip6: no',
      '  access-control: 127.0.0.0/8 allow',
      // unbound answers .test itself (RFC 6761) unless told not to.
      '  local-zone: "test." nodefault',
      '  val-log-level: 2',
      authZone('signed.test', 'signed.test.zone.signed'),
      authZone('bogus.test', 'bogus.test.zone.signed'),
      authZone('plain.test', 'plain.test.zone'),
    ].join('\n'),
  );
  return spawn(UNBOUND, ['-d', '-c', conf], { stdio: 'ignore' });
}

beforeAll(async () => {
  if (skipReason) return;
  dir = tempDir('mailroom-unbound-');
  smtpPort = await freePort();
  dnsPort = await freePort();
  peer = await startTestServer({
    hostname: 'mx.signed.test',
    listeners: [{ protocol: 'smtp', address: PEER, port: smtpPort }],
    domains: ['signed.test', 'bogus.test', 'plain.test'].map((name) => ({ name, transport: 'mailbox' as const })),
  });
  for (const d of ['signed.test', 'bogus.test', 'plain.test'])
    await peer.server.resources.store.addUser(`friend@${d}`, '!');
  const digest = association(path.join(peer.dataDir, 'tls', 'cert.pem'), 1, 1).toString('hex');

  fs.writeFileSync(path.join(dir, 'signed.test.zone'), zone('signed.test', digest));
  fs.writeFileSync(path.join(dir, 'bogus.test.zone'), zone('bogus.test', digest));
  fs.writeFileSync(path.join(dir, 'plain.test.zone'), zone('plain.test', 'ab'.repeat(32)));
  const anchors = sign('signed.test') + sign('bogus.test');
  fs.writeFileSync(path.join(dir, 'anchors.ds'), anchors);
  // Tamper with bogus.test after signing: its TLSA RRSIG no longer verifies.
  const bogus = path.join(dir, 'bogus.test.zone.signed');
  const signedText = fs.readFileSync(bogus, 'utf8');
  const tampered = signedText.replace(/(\tTLSA\t3 1 1 )[0-9a-fA-F]+/, `$1${'cd'.repeat(32)}`);
  expect(tampered).not.toBe(signedText);
  fs.writeFileSync(bogus, tampered);

  unbound = startUnbound();
  await waitForPort(dnsPort, 10_000);

  us = await startTestServer({
    hostname: 'mx.local.test',
    relay: { networks: ['127.0.0.0/8'] },
    dns: { servers: [`127.0.0.1:${dnsPort}`] },
    delivery: { port: smtpPort, connectTimeout: 2000 },
    queue: { retry: ['1h'] },
  });
  await us.server.resources.store.addUser('sender@example.test', '!');
  log = recordEvents(us);
}, 60_000);

afterAll(async () => {
  log?.stop();
  await us?.stop();
  await peer?.stop();
  if (unbound && unbound.exitCode === null) {
    unbound.kill('SIGTERM');
    await exited(unbound);
  }
});

describe.skipIf(skipReason !== null)('DANE through a real unbound', () => {
  it('unbound sets AD for the signed zone only, and answers SERVFAIL for the tampered one', async () => {
    const r = new SecureResolver({ servers: [`127.0.0.1:${dnsPort}`], timeout: 5000 });
    const signed = await lookupTlsa(r, 'mx.signed.test', smtpPort);
    expect(signed.secure).toBe(true);
    expect(signed.records).toHaveLength(1);
    const plain = await lookupTlsa(r, 'mx.plain.test', smtpPort);
    expect(plain).toMatchObject({ secure: false });
    expect(plain.records).toHaveLength(1);
    await expect(lookupTlsa(r, 'mx.bogus.test', smtpPort)).rejects.toMatchObject({ code: 'ESERVFAIL' });
    // A validated denial (NSEC): no TLSA records here, and that is authentic.
    expect(await lookupTlsa(r, 'ns.signed.test', smtpPort)).toMatchObject({ secure: true, records: [] });
  });

  it('signed zone: delivered over TLS authenticated by DANE-EE', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@signed.test', 'unbound dane ok');
    await waitFor(
      async () => (await mailboxTexts(peer, 'friend@signed.test')).find((m) => m.includes('unbound dane ok')),
      'delivery',
    );
    const e = await log.next('delivered', (x) => x.messageId === id, 15_000);
    expect(e.detail.tls).toMatchObject({ dane: 'verified' });
  });

  it('bogus TLSA record: the host is not used, deferred with 4.7.5', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@bogus.test', 'unbound dane bogus');
    const e = await log.next('deferred', (x) => x.messageId === id, 15_000);
    expect(e.detail.reply).toMatch(/^451 4\.7\.5 .*mx\.bogus\.test: DANE: TLSA lookup failed \(ESERVFAIL\)/);
    expect(await mailboxTexts(peer, 'friend@bogus.test')).toEqual([]);
  });

  it('unsigned zone: the (wrong) TLSA record is ignored, delivered with opportunistic TLS', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@plain.test', 'unbound dane unsigned');
    const e = await log.next('delivered', (x) => x.messageId === id, 15_000);
    expect(e.detail.tls).not.toHaveProperty('dane');
  });
});
