#!/usr/bin/env node
// IMAP benchmark (issue 7): a 10,000-message INBOX, SELECT + `UID FETCH 1:* (UID FLAGS)`, `SEARCH FROM x`,
// and the server's RSS while a client fetches a 50 MB message; Dovecot on the same data when installed.
// Run after `npm run build`: node bench/imap.mjs [--messages N]

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { messages: { type: 'string', default: '10000' } } });
const COUNT = Number(values.messages);
const USER = 'bench@bench.test';
const PASSWORD = 'bench-password-1234';
const BIG = 50 * 1024 * 1024;

function message(i) {
  return Buffer.from(
    `From: sender${i % 100}@example.net\r\nTo: ${USER}\r\nSubject: message ${i}\r\n` +
      `Date: Mon, 5 Feb 2024 10:00:00 +0000\r\nMessage-ID: <${i}@example.net>\r\n\r\n${'body text line\r\n'.repeat(20)}`,
  );
}

function bigMessage() {
  const line = `${'x'.repeat(74)}\r\n`;
  return Buffer.from(`From: big@example.net\r\nSubject: big\r\n\r\n${line.repeat(Math.ceil(BIG / line.length))}`);
}

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port) {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** A minimal IMAP client: send tagged commands, count response bytes until the tagged reply. */
class Client {
  constructor(socket) {
    this.socket = socket;
    this.tail = '';
    this.bytes = 0;
    this.waiters = [];
    this.seq = 0;
    socket.on('data', (d) => {
      // Only the byte count and the last few KB are kept: the end of an answer is all we look for.
      this.bytes += d.length;
      this.tail = (this.tail + d.toString('latin1')).slice(-4096);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static async connect(port) {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    const c = new Client(socket);
    await c.until(/^\* OK/m);
    return c;
  }
  async until(re) {
    for (;;) {
      if (re.test(this.tail)) {
        const bytes = this.bytes;
        this.bytes = 0;
        this.tail = '';
        return bytes;
      }
      if (this.closed) throw new Error(`connection closed: ${this.tail}`);
      await new Promise((r) => this.waiters.push(r));
    }
  }
  async cmd(command) {
    const tag = `b${++this.seq}`;
    this.socket.write(`${tag} ${command}\r\n`);
    const bytes = await this.until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n$`));
    return bytes;
  }
  close() {
    this.socket.destroy();
  }
}

function rssOf(pids) {
  let kb = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {}
  }
  return kb * 1024;
}

/** The measurements on one server; `pids()` lists the processes whose memory counts. */
async function measure(port, pids) {
  const c = await Client.connect(port);
  await c.cmd(`LOGIN ${USER} "${PASSWORD}"`);
  const result = {};
  for (const run of ['first', 'second']) {
    let t = performance.now();
    await c.cmd('SELECT INBOX');
    const bytes = await c.cmd('UID FETCH 1:* (UID FLAGS)');
    result[`select+fetch (${run})`] = { ms: performance.now() - t, bytes };
    t = performance.now();
    await c.cmd('SEARCH FROM sender7@');
    result[`search from (${run})`] = { ms: performance.now() - t };
    await c.cmd('UNSELECT');
  }
  await c.cmd('SELECT INBOX');
  const before = rssOf(pids());
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssOf(pids()));
  }, 20);
  const t = performance.now();
  const bytes = await c.cmd(`FETCH ${COUNT + 1} BODY.PEEK[]`);
  clearInterval(sampler);
  result['fetch 50 MB'] = { ms: performance.now() - t, bytes, before, peakRss: Math.max(peak, rssOf(pids())) };
  c.close();
  return result;
}

async function benchMailroom(dir) {
  const { SqliteStore, CompositeBlobStore, FsBlobStore } = await import(path.join(repoRoot, 'dist/store/index.js'));
  const { makeCredentials } = await import(path.join(repoRoot, 'dist/auth/index.js'));
  const { parseMessage } = await import(path.join(repoRoot, 'dist/imap/mime/index.js'));
  // What the structure indexer stores at delivery (src/imap/content.ts), so the run sees delivered mail.
  const structure = (body) => JSON.stringify({ v: 1, root: parseMessage(body) });
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const store = new SqliteStore(path.join(dataDir, 'mailroom.db'));
  await store.migrate();
  const blobs = new CompositeBlobStore(store, new FsBlobStore(path.join(dataDir, 'blobs')));
  await store.addDomain('bench.test', 'mailbox');
  const creds = await makeCredentials(PASSWORD);
  const user = await store.addUser(USER, creds.passwordHash, { scram: creds.scram });
  const inbox = await store.ensureMailbox(user.id, 'INBOX', null);
  for (let i = 0; i < COUNT; i++) {
    const body = message(i);
    const w = await blobs.create(`m${i}`);
    await w.write(body);
    const blobRef = await w.commit();
    // A dedupe key makes the append a relaxed (unsynced) write, as for delivery: filling is not what is measured.
    await store.appendMailboxMessage(inbox.id, {
      blobRef,
      size: body.length,
      flags: [],
      internalDate: Date.now(),
      dedupeKey: `b${i}`,
      structure: structure(body),
    });
  }
  const big = bigMessage();
  const w = await blobs.create('big');
  await w.write(big);
  await store.appendMailboxMessage(inbox.id, {
    blobRef: await w.commit(),
    size: big.length,
    flags: [],
    internalDate: Date.now(),
    dedupeKey: 'big',
    structure: structure(big),
  });
  await store.close();

  const port = await freePort();
  const config = {
    hostname: 'bench.test',
    dataDir,
    listeners: [{ protocol: 'imap', address: '127.0.0.1', port }],
    domains: [{ name: 'bench.test', transport: 'mailbox' }],
    imap: { plaintextOnLoopback: true },
    log: { level: 'warn' },
    limits: { messageSize: BIG * 2 },
  };
  fs.writeFileSync(path.join(dir, 'mailroom.yaml'), JSON.stringify(config));
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'dist/cli/main.js'), 'serve', '-c', path.join(dir, 'mailroom.yaml')],
    {
      stdio: 'inherit',
    },
  );
  try {
    await waitForPort(port);
    return await measure(port, () => [child.pid]);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function benchDovecot(dir) {
  if (!fs.existsSync('/usr/sbin/dovecot')) return null;
  fs.chmodSync(dir, 0o755);
  const home = path.join(dir, 'home', USER);
  const cur = path.join(home, 'Maildir', 'cur');
  fs.mkdirSync(cur, { recursive: true });
  for (const d of ['new', 'tmp']) fs.mkdirSync(path.join(home, 'Maildir', d));
  for (let i = 0; i < COUNT; i++) fs.writeFileSync(path.join(cur, `${1700000000 + i}.M${i}.bench:2,`), message(i));
  fs.writeFileSync(path.join(cur, `${1700000000 + COUNT}.Mbig.bench:2,`), bigMessage());
  spawn('chown', ['-R', '65534:65534', path.join(dir, 'home')], { stdio: 'inherit' });
  await new Promise((r) => setTimeout(r, 500));
  fs.writeFileSync(path.join(dir, 'passwd'), `${USER}:{PLAIN}${PASSWORD}::::::\n`, { mode: 0o644 });
  const port = await freePort();
  fs.writeFileSync(
    path.join(dir, 'dovecot.conf'),
    `base_dir = ${dir}/run
state_dir = ${dir}/state
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
log_path = ${dir}/log
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=${dir}/home/%u
}
namespace inbox {
  inbox = yes
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
`,
  );
  const child = spawn('/usr/sbin/dovecot', ['-F', '-c', path.join(dir, 'dovecot.conf')], { stdio: 'inherit' });
  // Dovecot serves a session from its own `imap` process: that is the one whose memory counts.
  const imapPids = () =>
    fs
      .readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('dovecot/imap\0');
        } catch {
          return false;
        }
      })
      .map(Number);
  try {
    await waitForPort(port);
    return await measure(port, imapPids);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

function table(name, r) {
  const rows = Object.entries(r).map(([k, v]) => {
    const mb = (n) => (n / 1048576).toFixed(0);
    const rss = v.peakRss ? `, RSS ${mb(v.before)} MB before, peak ${mb(v.peakRss)} MB` : '';
    return `| ${name} | ${k} | ${v.ms.toFixed(0)} ms${rss} |`;
  });
  return rows.join('\n');
}

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-imap-bench-'));
// Dovecot's auth and mail processes run as other users and must reach their files.
fs.chmodSync(base, 0o755);
try {
  const ours = await benchMailroom(path.join(base, 'mailroom'));
  fs.mkdirSync(path.join(base, 'dovecot'));
  const dovecot = await benchDovecot(path.join(base, 'dovecot'));
  console.log(`| server | step (${COUNT} messages + one of 50 MB) | result |\n|---|---|---|`);
  console.log(table('mailroom', ours));
  if (dovecot) console.log(table('Dovecot 2.3', dovecot));
} finally {
  fs.rmSync(base, { recursive: true, force: true });
}
