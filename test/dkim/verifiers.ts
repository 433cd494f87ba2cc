import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { txtStrings } from '../../src/dkim/index.js';
import { type RunResult, run } from '../helpers/run.js';

const here = import.meta.dirname;
const netnsScript = path.join(here, 'netns-dns.sh');
export const dkimpyScript = path.join(here, '..', 'fixtures', 'dkimpy-verify.py');

/** Full path of an executable, looking in PATH and the sbin directories Debian puts opendkim tools in. */
export function findBinary(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin', '/usr/bin'];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {}
  }
  return null;
}

/** The interpreter in a script's `#!` line (dkimverify's python has the dkim module; a pyenv one may not). */
export function shebangOf(file: string): string | null {
  const first = fs.readFileSync(file, 'utf8').split('\n')[0] ?? '';
  return first.startsWith('#!') ? first.slice(2).trim().split(/\s+/)[0]! : null;
}

export type { RunResult };
export { run };

const PREFIXES: { label: string; cmd: string[] }[] = [
  { label: 'unshare -r -n -m (unprivileged user namespace)', cmd: ['unshare', '-r', '-n', '-m'] },
  { label: 'unshare -n -m (as root)', cmd: ['unshare', '-n', '-m'] },
  { label: 'sudo -n unshare -n -m', cmd: ['sudo', '-n', 'unshare', '-n', '-m'] },
];

let namespace: { cmd: string[] } | { error: string } | undefined;

/**
 * How to start netns-dns.sh here: the first of the PREFIXES with which it really runs (dnsmasq
 * included), or why none does.
 */
export function namespacePrefix(): { cmd: string[] } | { error: string } {
  if (namespace) return namespace;
  const conf = writeDnsmasqConf({});
  const tried: string[] = [];
  try {
    for (const p of PREFIXES) {
      const r = spawnSync(p.cmd[0]!, [...p.cmd.slice(1), 'sh', netnsScript, conf, 'true'], {
        encoding: 'utf8',
        timeout: 15_000,
      });
      if (r.status === 0) {
        namespace = { cmd: p.cmd };
        return namespace;
      }
      tried.push(`${p.label}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0]}`);
    }
  } finally {
    fs.rmSync(path.dirname(conf), { recursive: true, force: true });
  }
  namespace = {
    error:
      'opendkim-testmsg only asks the resolver in /etc/resolv.conf on port 53, so this test runs it in a private ' +
      'network namespace, and none could be made here. Allow unprivileged user namespaces ' +
      '(sysctl kernel.apparmor_restrict_unprivileged_userns=0 or kernel.unprivileged_userns_clone=1), run as root, ' +
      `or allow passwordless sudo. Tried: ${tried.join('; ')}`,
  };
  return namespace;
}

/** A dnsmasq configuration file serving the given TXT records (values split into 255-octet strings). */
export function writeDnsmasqConf(txt: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-dnsmasq-'));
  const lines = Object.entries(txt).map(
    ([name, value]) =>
      `txt-record=${name},${txtStrings(value)
        .map((s) => `"${s}"`)
        .join(',')}`,
  );
  const file = path.join(dir, 'dnsmasq.conf');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  // Under sudo the namespace runs as root and reads the file as such; others need only read access.
  fs.chmodSync(dir, 0o755);
  return file;
}

/** Run `cmd` with `input` inside a namespace whose resolver serves `txt`; requires namespacePrefix() to succeed. */
export async function runWithDns(txt: Record<string, string>, cmd: string[], input: Buffer): Promise<RunResult> {
  const prefix = namespacePrefix();
  if ('error' in prefix) throw new Error(prefix.error);
  const conf = writeDnsmasqConf(txt);
  try {
    return await run([...prefix.cmd, 'sh', netnsScript, conf, ...cmd], input);
  } finally {
    fs.rmSync(path.dirname(conf), { recursive: true, force: true });
  }
}
