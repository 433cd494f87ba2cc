import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from '../helpers/process.js';
import { tempDir } from '../helpers/server.js';

/** A scanner daemon started for a test. */
export interface Daemon {
  /** What mailroom's config takes: a URL for rspamd, host:port for clamd and milters. */
  address: string;
  /** Where its own log goes, for failure messages. */
  log: () => string;
  stop: () => Promise<void>;
}

/** Full path of a Debian program (also in sbin, which is not always on PATH), or null. */
export function findProgram(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/bin', '/sbin']) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {}
  }
  return null;
}

/** Why a daemon test is skipped, printed so a local run says what is missing. */
export function skipNotice(program: string, pkg: string): string | null {
  if (findProgram(program)) return null;
  const msg = `${program} is not installed (Debian package ${pkg}); its scanning tests are skipped`;
  console.warn(msg);
  return msg;
}

function launch(cmd: string, args: string[], dir: string): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const add = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return { child, output: () => out };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

async function started(port: number, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const died = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${output()}`))),
  );
  await Promise.race([waitForPort(port, timeoutMs), died]);
}

/**
 * rspamd with a generated minimal configuration: one normal worker on a loopback port, no Lua
 * rules, no Redis, DNS pointed at a closed loopback port (nothing leaves the machine), and the
 * test GTUBE patterns on, so X/Y/Z-GTUBE give reject/add header/rewrite subject.
 */
export async function startRspamd(): Promise<Daemon> {
  const dir = tempDir('mailroom-rspamd-');
  const port = await freePort();
  const conf = path.join(dir, 'rspamd.conf');
  fs.writeFileSync(
    conf,
    `options {
  pidfile = "${dir}/rspamd.pid";
  dbdir = "${dir}";
  filters = "";
  enable_test_patterns = true;
  dns { nameserver = ["127.0.0.1:9"]; timeout = 1s; retransmits = 1; }
}
logging { type = "console"; level = "warning"; }
actions { reject = 15; add_header = 6; greylist = 4; }
worker "normal" { bind_socket = "127.0.0.1:${port}"; count = 1; mime = true; }
`,
  );
  const { child, output } = launch(findProgram('rspamd') as string, ['-f', '-i', '-c', conf], dir);
  // Compiling its public suffix list takes rspamd several seconds on a slow machine.
  await started(port, child, output, 90_000);
  return {
    address: `http://127.0.0.1:${port}/`,
    log: output,
    stop: () => stopChild(child),
  };
}

/** The EICAR anti-virus test string. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

/**
 * clamd on a loopback port and a Unix socket, with a database of one signature (EICAR), since
 * the official databases cannot be downloaded in the test environment.
 */
export async function startClamd(): Promise<Daemon & { socket: string }> {
  const dir = tempDir('mailroom-clamd-');
  const db = path.join(dir, 'db');
  fs.mkdirSync(db);
  fs.writeFileSync(
    path.join(db, 'mailroom-test.ndb'),
    `Mailroom.Test.EICAR:0:*:${Buffer.from(EICAR).toString('hex')}\n`,
  );
  const port = await freePort();
  const socket = path.join(dir, 'clamd.sock');
  const conf = path.join(dir, 'clamd.conf');
  const user = process.getuid?.() === 0 ? 'User root\n' : '';
  fs.writeFileSync(
    conf,
    `DatabaseDirectory ${db}\nTCPSocket ${port}\nTCPAddr 127.0.0.1\nLocalSocket ${socket}\nForeground yes\n` +
      `LogFile ${dir}/clamd.log\nPidFile ${dir}/clamd.pid\nStreamMaxLength 1M\n${user}`,
  );
  const { child, output } = launch(findProgram('clamd') as string, ['-c', conf], dir);
  await started(port, child, output, 60_000);
  return { address: `127.0.0.1:${port}`, socket, log: output, stop: () => stopChild(child) };
}

/** A DKIM key pair for opendkim and the TXT record that publishes it. */
export function dkimKey(): { privatePem: string; txt: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return {
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    txt: `v=DKIM1; k=rsa; p=${spki}`,
  };
}

/** opendkim in sign mode for `domain` (selector `mail`), listening as a milter on a loopback port. */
export async function startOpendkim(domain: string, privatePem: string): Promise<Daemon> {
  const dir = tempDir('mailroom-opendkim-');
  const key = path.join(dir, 'mail.private');
  fs.writeFileSync(key, privatePem, { mode: 0o600 });
  const port = await freePort();
  const conf = path.join(dir, 'opendkim.conf');
  fs.writeFileSync(
    conf,
    [
      'Mode s',
      `Domain ${domain}`,
      'Selector mail',
      `KeyFile ${key}`,
      `Socket inet:${port}@127.0.0.1`,
      'Canonicalization relaxed/relaxed',
      'InternalHosts 127.0.0.1',
      'RequireSafeKeys no',
      'Syslog no',
      `PidFile ${dir}/opendkim.pid`,
      '',
    ].join('\n'),
  );
  const { child, output } = launch(findProgram('opendkim') as string, ['-f', '-v', '-x', conf], dir);
  await started(port, child, output, 30_000);
  return { address: `127.0.0.1:${port}`, log: output, stop: () => stopChild(child) };
}
