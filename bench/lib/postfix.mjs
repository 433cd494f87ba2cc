// A private Postfix instance that relays everything for one domain to one next hop: its own
// config_directory, queue_directory and log in a temporary directory, started with
// `postfix -c DIR start` (root only) and stopped after; the system's instance is never touched.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findBinary, freePort, waitForSmtp } from './processes.mjs';

// The daemons an MTA that only relays needs; nothing is chrooted. smtpd's address is filled in.
const MASTER_CF = `# service  type  private unpriv chroot wakeup maxproc command
LISTEN     inet  n       -      n      -      -       smtpd
pickup     unix  n       -      n      60     1       pickup
cleanup    unix  n       -      n      -      0       cleanup
qmgr       unix  n       -      n      300    1       qmgr
tlsmgr     unix  -       -      n      1000?  1       tlsmgr
rewrite    unix  -       -      n      -      -       trivial-rewrite
bounce     unix  -       -      n      -      0       bounce
defer      unix  -       -      n      -      0       bounce
trace      unix  -       -      n      -      0       bounce
verify     unix  -       -      n      -      1       verify
flush      unix  n       -      n      1000?  0       flush
proxymap   unix  -       -      n      -      -       proxymap
smtp       unix  -       -      n      -      -       smtp
relay      unix  -       -      n      -      -       smtp
showq      unix  n       -      n      -      -       showq
error      unix  -       -      n      -      -       error
retry      unix  -       -      n      -      -       error
discard    unix  -       -      n      -      -       discard
anvil      unix  -       -      n      -      1       anvil
scache     unix  -       -      n      -      1       scache
postlog    unix-dgram n  -      n      -      1       postlogd
`;

/** What is missing to run a private Postfix here, or null when it can run. */
export function postfixUnavailable() {
  const bins = {
    postfix: findBinary('postfix', ['/usr/sbin/postfix']),
    postconf: findBinary('postconf', ['/usr/sbin/postconf']),
  };
  const missing = Object.entries(bins)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length > 0) return `missing ${missing.join(', ')} (Debian: apt-get install postfix)`;
  if (process.getuid?.() !== 0) return 'Postfix master must be started as root';
  return null;
}

/**
 * Write and start an instance under `dir` that accepts mail from loopback on 127.0.0.1 (a free
 * port) and hands every message for `domain` to `nexthop` (`[ADDRESS]:PORT`, no MX lookup),
 * without TLS either way. Returns its port, master pid, settings and a stop function.
 */
export async function startPostfix({ dir, domain, nexthop, hostname }) {
  const postfix = findBinary('postfix', ['/usr/sbin/postfix']);
  const postconf = findBinary('postconf', ['/usr/sbin/postconf']);
  const port = await freePort();
  const conf = path.join(dir, 'conf');
  const queue = path.join(dir, 'queue');
  const data = path.join(dir, 'data');
  for (const d of [conf, queue, data]) fs.mkdirSync(d, { recursive: true });
  // The daemons run as `postfix`: they must reach the queue and data directories.
  fs.chmodSync(dir, 0o755);
  execFileSync('chown', ['postfix', data]);
  fs.writeFileSync(path.join(conf, 'master.cf'), MASTER_CF.replace('LISTEN    ', `127.0.0.1:${port}`));
  const settings = {
    compatibility_level: '3.6',
    queue_directory: queue,
    data_directory: data,
    mail_owner: 'postfix',
    setgid_group: 'postdrop',
    myhostname: hostname,
    mydestination: '',
    alias_maps: '',
    alias_database: '',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    maillog_file: path.join(dir, 'maillog'),
    maillog_file_prefixes: dir,
    smtpd_peername_lookup: 'no',
    append_dot_mydomain: 'no',
    transport_maps: `inline:{ ${domain}=smtp:${nexthop} }`,
    smtpd_tls_security_level: 'none',
    smtp_tls_security_level: 'none',
    // Reuse connections to the next hop whenever mail for it is queued (on demand is the
    // default; named here so the comparison with mailroom's connection cache is explicit).
    smtp_connection_cache_on_demand: 'yes',
    smtp_connection_cache_destinations: nexthop,
  };
  fs.writeFileSync(
    path.join(conf, 'main.cf'),
    `${Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n')}\n`,
  );
  const check = spawnSync(postconf, ['-c', conf, '-n'], { encoding: 'utf8' });
  if (check.status !== 0 || /warning|fatal/.test(check.stderr)) throw new Error(`postconf: ${check.stderr}`);

  const logTail = () => {
    try {
      return fs.readFileSync(settings.maillog_file, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
    } catch {
      return '';
    }
  };
  const pidFile = path.join(queue, 'pid', 'master.pid');
  let masterPid = 0;
  const stopInstance = async () => {
    spawnSync(postfix, ['-c', conf, 'stop'], { stdio: 'ignore', timeout: 15_000 });
    const deadline = Date.now() + 10_000;
    while (masterPid > 0 && alive(masterPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (masterPid > 0 && alive(masterPid)) process.kill(masterPid, 'SIGKILL');
  };
  const r = spawnSync(postfix, ['-c', conf, 'start'], { encoding: 'utf8', timeout: 30_000 });
  if (fs.existsSync(pidFile)) masterPid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  if (r.status !== 0) {
    await stopInstance();
    throw new Error(`postfix start failed (${r.status}): ${r.stderr}\n${logTail()}`);
  }
  try {
    await waitForSmtp(port, { name: 'postfix', timeoutMs: 15_000 });
  } catch (err) {
    await stopInstance();
    throw new Error(`${err.message}\n${logTail()}`);
  }
  // For exit handlers, which cannot wait.
  const stopSync = () => {
    spawnSync(postfix, ['-c', conf, 'stop'], { stdio: 'ignore', timeout: 15_000 });
    if (masterPid > 0 && alive(masterPid)) process.kill(masterPid, 'SIGKILL');
  };
  return { port, masterPid, settings, conf, logTail, stop: stopInstance, stopSync };
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
