/**
 * Outbound delivery to a REAL Postfix (Debian's postfix package) as the remote server.
 *
 * The test builds a private Postfix instance in a temp directory (config, queue, data and
 * mailbox directories of its own; `postfix -c DIR start|stop`), never the system's
 * /etc/postfix instance. Its smtpd listens on real port 25 of the loopback address
 * 127.0.0.5 only (master.cf names the address; nothing binds 127.0.0.1:25), accepts mail for
 * postfix.test and delivers it with the virtual(8) agent to one mbox file. STARTTLS uses a
 * self-signed certificate made by the test with openssl. A recipient access map makes
 * tempfail@postfix.test answer 451 and reject@postfix.test answer 550.
 *
 * Note: `inet_interfaces = 127.0.0.5` is not used: Postfix refuses an address that is not
 * configured on an interface (lo only has 127.0.0.1/8 here), so the address is given in
 * master.cf instead and inet_interfaces stays loopback-only (nothing else listens on inet).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { mailboxTexts, relayThrough, waitFor } from '../helpers/mail.js';
import { startTestServer, type TestServer, tempDir } from '../helpers/server.js';

const POSTFIX = '/usr/sbin/postfix';
const POSTCONF = '/usr/sbin/postconf';
const MASTER = '/usr/lib/postfix/sbin/master';
const OPENSSL = '/usr/bin/openssl';
const PEER_ADDRESS = '127.0.0.5';
const MASTER_CF = path.resolve(import.meta.dirname, '..', 'fixtures', 'postfix', 'master.cf');

const missing = [POSTFIX, POSTCONF, MASTER, OPENSSL].filter((f) => !fs.existsSync(f));
const notRoot = typeof process.getuid === 'function' && process.getuid() !== 0;
const skipReason =
  missing.length > 0
    ? `postfix-peer tests skipped: missing ${missing.join(', ')} (install Debian's postfix and openssl)`
    : notRoot
      ? 'postfix-peer tests skipped: Postfix master must run as root'
      : null;
if (skipReason) console.warn(skipReason);

let pfDir = '';
let masterPid = 0;

function postfixLogTail(): string {
  if (!pfDir) return '';
  try {
    const log = fs.readFileSync(path.join(pfDir, 'maillog'), 'utf8').trimEnd().split('\n').slice(-15);
    return `\n--- postfix maillog (tail) ---\n${log.join('\n')}`;
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Write a private Postfix instance under `dir` and start it. */
async function startPostfix(dir: string): Promise<void> {
  const conf = path.join(dir, 'conf');
  const data = path.join(dir, 'data');
  const vmail = path.join(dir, 'vmail');
  for (const d of [conf, path.join(dir, 'queue'), data, vmail]) fs.mkdirSync(d, { recursive: true });
  // Postfix daemons run as `postfix`, virtual(8) as 65534: they must be able to reach their dirs.
  fs.chmodSync(dir, 0o755);
  execFileSync('chown', ['postfix', data]);
  fs.chownSync(vmail, 65534, 65534);
  execFileSync(
    OPENSSL,
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=postfix.test',
      '-keyout',
      path.join(conf, 'key.pem'),
      '-out',
      path.join(conf, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  fs.copyFileSync(MASTER_CF, path.join(conf, 'master.cf'));
  const access =
    'inline:{ { tempfail@postfix.test = 451 4.7.1 try later }, { reject@postfix.test = 550 5.1.1 no such user } }';
  const main = {
    compatibility_level: '3.6',
    queue_directory: path.join(dir, 'queue'),
    data_directory: data,
    mail_owner: 'postfix',
    setgid_group: 'postdrop',
    myhostname: 'postfix.test',
    mydestination: '',
    inet_interfaces: 'loopback-only',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    maillog_file: path.join(dir, 'maillog'),
    maillog_file_prefixes: dir,
    smtpd_peername_lookup: 'no',
    append_dot_mydomain: 'no',
    virtual_mailbox_domains: 'postfix.test',
    virtual_mailbox_base: vmail,
    virtual_mailbox_maps: 'static:mailbox',
    virtual_uid_maps: 'static:65534',
    virtual_gid_maps: 'static:65534',
    smtpd_tls_cert_file: path.join(conf, 'cert.pem'),
    smtpd_tls_key_file: path.join(conf, 'key.pem'),
    smtpd_tls_security_level: 'may',
    smtpd_tls_received_header: 'yes',
    smtpd_recipient_restrictions: `check_recipient_access ${access}, permit`,
  };
  fs.writeFileSync(
    path.join(conf, 'main.cf'),
    `${Object.entries(main)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n')}\n`,
  );

  const bad = spawnSync(POSTCONF, ['-c', conf, '-n'], { encoding: 'utf8' });
  if (bad.status !== 0 || /warning|fatal/.test(bad.stderr)) throw new Error(`postconf: ${bad.stderr}`);
  if (await canConnect(PEER_ADDRESS, 25)) throw new Error(`something already listens on ${PEER_ADDRESS}:25`);

  const r = spawnSync(POSTFIX, ['-c', conf, 'start'], { encoding: 'utf8', timeout: 30_000 });
  const pidFile = path.join(dir, 'queue', 'pid', 'master.pid');
  if (fs.existsSync(pidFile)) masterPid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  if (r.status !== 0) throw new Error(`postfix start failed (${r.status}): ${r.stderr}${postfixLogTail()}`);
  await waitFor(async () => canConnect(PEER_ADDRESS, 25), `Postfix on ${PEER_ADDRESS}:25`, 10_000);
}

/** Stop the instance (if it got as far as starting) and wait for master to exit. */
async function stopPostfix(): Promise<void> {
  if (!pfDir) return;
  spawnSync(POSTFIX, ['-c', path.join(pfDir, 'conf'), 'stop'], { stdio: 'ignore', timeout: 15_000 });
  if (masterPid > 0) {
    const deadline = Date.now() + 10_000;
    while (isAlive(masterPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (isAlive(masterPid)) process.kill(masterPid, 'SIGKILL');
  }
  // The forks pool may end this process without an 'exit' event, so remove the instance here.
  fs.rmSync(pfDir, { recursive: true, force: true });
}

let dns: TestDnsServer;
let us: TestServer;

/** What Postfix's virtual(8) agent wrote so far (one mbox file for every recipient). */
function postfixMailbox(): string {
  try {
    return fs.readFileSync(path.join(pfDir, 'vmail', 'mailbox'), 'utf8');
  } catch {
    return '';
  }
}

describe.skipIf(skipReason !== null)('delivery to a real Postfix on 127.0.0.5:25', () => {
  beforeAll(async () => {
    // Marked before anything starts, so afterAll (and the exit hook) stop even a half-started Postfix.
    pfDir = tempDir('mailroom-postfix-');
    process.once('exit', () => {
      if (masterPid > 0 && isAlive(masterPid)) process.kill(masterPid, 'SIGTERM');
    });
    await startPostfix(pfDir);
    dns = await startDnsServer({
      'postfix.test': [{ type: 'MX', data: { preference: 10, exchange: 'mx.postfix.test' } }],
      'mx.postfix.test': [{ type: 'A', data: PEER_ADDRESS }],
    });
    us = await startTestServer({
      hostname: 'mx.local.test',
      relay: { networks: ['127.0.0.0/8'] },
      dns: { servers: [dns.server] },
      delivery: { port: 25, tls: 'opportunistic', connectTimeout: 2000 },
      queue: { retry: ['1h'] },
    });
    await us.server.resources.store.addUser('sender@example.test', '!');
  });

  afterAll(async () => {
    try {
      await us?.stop();
      await dns?.close();
    } finally {
      await stopPostfix();
    }
  });

  it('delivers to Postfix over STARTTLS', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'user@postfix.test', 'to a real postfix', 'hello postfix');
    const delivered = await waitFor(
      async () => (await us.server.resources.store.listEvents(id)).find((e) => e.type === 'delivered'),
      'the delivered event',
    );
    expect(delivered.detail.transport).toBe('remote');
    const queueId = /^250 2\.0\.0 Ok: (?:\d+ bytes )?queued as ([0-9A-Z]+)/.exec(String(delivered.detail.reply))?.[1];
    expect(queueId, String(delivered.detail.reply)).toBeTruthy();

    const mbox = await waitFor(async () => {
      const m = postfixMailbox();
      return m.includes('Subject: to a real postfix') && m;
    }, 'the message in the Postfix mailbox');
    const msg = mbox.slice(mbox.lastIndexOf('\nFrom sender@example.test ') + 1);
    expect(msg).toMatch(/^From sender@example\.test /);
    expect(msg).toMatch(/^Return-Path: <sender@example\.test>$/m);
    expect(msg).toMatch(/^Delivered-To: user@postfix\.test$/m);
    expect(msg).toContain('hello postfix');
    // Postfix's own Received: header (the first one) records the TLS session.
    const received = /^Received: from mx\.local\.test [^\n]*\n(?:\s[^\n]*\n)*/m.exec(msg)?.[0] ?? '';
    expect(received).toMatch(/\(using TLSv1\.[23] with cipher /);
    expect(received).toContain(`by postfix.test (Postfix) with ESMTPS id ${queueId}`);
    expect(received).toMatch(/for <user@postfix\.test>/);
  });

  it('leaves the recipient deferred with Postfix’s 4xx reply', async () => {
    const id = await relayThrough(
      us,
      'sender@example.test',
      'tempfail@postfix.test',
      'postfix says later',
      'hello postfix',
    );
    const [r] = await waitFor(async () => {
      const rs = await us.server.resources.store.getRecipients(id);
      return rs[0]?.state === 'deferred' ? rs : null;
    }, 'deferred');
    expect(r?.lastReply).toMatch(/^451 4\.7\.1 <tempfail@postfix\.test>: Recipient address rejected: try later/);
    expect(fs.readFileSync(path.join(pfDir, 'maillog'), 'utf8')).toMatch(
      /NOQUEUE: reject: RCPT from [^\n]*: 451 4\.7\.1 <tempfail@postfix\.test>/,
    );
  });

  it('bounces on Postfix’s 5xx and sends the local sender a DSN', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'reject@postfix.test', 'postfix says no', 'hello postfix');
    const bounced = await waitFor(
      async () => (await us.server.resources.store.listEvents(id)).find((e) => e.type === 'bounced'),
      'the bounced event',
    );
    expect(bounced.detail.reply).toMatch(/^550 5\.1\.1 <reject@postfix\.test>: Recipient address rejected/);
    const dsn = await waitFor(
      async () => (await mailboxTexts(us, 'sender@example.test')).find((m) => m.includes('reject@postfix.test')),
      'the DSN',
    );
    expect(dsn).toMatch(/Content-Type: multipart\/report; report-type=delivery-status/i);
    expect(dsn).toMatch(/Action: failed/);
    expect(dsn).toMatch(/Status: 5\.1\.1/);
    expect(dsn).toMatch(/Final-Recipient: rfc822; ?reject@postfix\.test/);
    expect(dsn).toMatch(/Remote-MTA: dns; ?mx\.postfix\.test/i);
    expect(dsn).toMatch(/Diagnostic-Code: smtp; ?550 5\.1\.1 /);
  });
});
