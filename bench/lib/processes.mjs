// Child processes of the benchmark: tracking and clean-up, free ports, waiting for an SMTP
// greeting, running smtp-source with a wall-clock timer, and reading a process's CPU time.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';

const children = new Set();
const cleanups = [];
let installed = false;

/** Run `fn` when the benchmark exits, however it exits (last registered runs first). */
export function onCleanup(fn) {
  install();
  cleanups.push(fn);
}

/** Remember a child so it is killed if the benchmark stops early. */
export function track(child) {
  install();
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function cleanUp() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      fn();
    } catch {
      // best effort: clean-up must not hide the real error
    }
  }
}

function install() {
  if (installed) return;
  installed = true;
  process.on('exit', cleanUp);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: stopping the benchmark and its servers\n`);
      cleanUp();
      process.exit(128 + (os.constants.signals[signal] ?? 1));
    });
  }
}

/** A loopback port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Keep the last `limit` characters a stream produced, for error messages. */
export function tail(stream, limit = 16_384) {
  const state = { text: '' };
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    state.text = (state.text + chunk).slice(-limit);
  });
  return state;
}

/** One attempt: connect, read the first reply line, say QUIT. Resolves with the line or null. */
function greet(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    let buf = '';
    const done = (value) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(2000, () => done(null));
    socket.on('error', () => done(null));
    socket.on('data', (d) => {
      buf += d;
      const end = buf.indexOf('\r\n');
      if (end >= 0) {
        socket.end('QUIT\r\n');
        done(buf.slice(0, end));
      }
    });
  });
}

/** Wait until `port` (on `host`, 127.0.0.1 by default) answers with a 220 greeting; fail early if `child` exits. */
export async function waitForSmtp(port, { child, name, output, host, timeoutMs = 30_000 }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      const why = child.exitCode !== null ? `exit code ${child.exitCode}` : child.signalCode;
      throw new Error(`${name} exited (${why}) before it accepted connections${outputSuffix(output)}`);
    }
    const line = await greet(port, host);
    if (line?.startsWith('220')) return line;
    if (line) throw new Error(`${name} on port ${port} greeted with "${line}" instead of 220`);
    if (Date.now() > deadline)
      throw new Error(`${name} did not accept connections on port ${port} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

function outputSuffix(output) {
  const text = (output ?? []).map((o) => o.text.trim()).filter(Boolean);
  return text.length ? `:\n${text.join('\n')}` : '';
}

/** Stop `child` with `signal` and wait for it to exit (SIGKILL after `graceMs`). */
export function stop(child, signal = 'SIGTERM', graceMs = 35_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** First of `candidates` that is an executable file, else the bare name (PATH lookup). */
export function findBinary(name, candidates) {
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      // try the next one
    }
  }
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/**
 * Run smtp-source once and time it: process.hrtime from just before spawn to the child's exit.
 * Rejects when smtp-source exits non-zero (it aborts on any unexpected reply) or times out.
 */
export function runSmtpSource(bin, { port, sessions, messages, size, reuse, from, to, helo, timeoutMs }) {
  const args = ['-4'];
  if (reuse) args.push('-d');
  args.push('-s', String(sessions), '-l', String(size), '-m', String(messages));
  args.push('-M', helo, '-f', from, '-t', to, `127.0.0.1:${port}`);
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let ended = 0n;
    const child = track(spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    const out = tail(child.stdout);
    const err = tail(child.stderr);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', () => {
      ended = process.hrtime.bigint();
      clearTimeout(timer);
    });
    child.on('close', (code, signal) => {
      const command = `smtp-source ${args.join(' ')}`;
      if (code !== 0) {
        const why = signal === 'SIGKILL' ? `timed out after ${timeoutMs / 1000} s` : `exited with ${code ?? signal}`;
        const text = `${err.text}${out.text}`.trim();
        reject(new Error(`${command} ${why}${text ? `:\n${text}` : ''}`));
        return;
      }
      resolve({ seconds: Number(ended - started) / 1e9, command });
    });
  });
}

let clockTicks = null;

function ticks() {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Fields of /proc/PID/stat from field 3 (state) on; the command name may contain spaces. */
function statFields(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds (user + system) a process has used so far, from /proc; null where unavailable. */
export function cpuSeconds(pid) {
  try {
    const f = statFields(pid);
    return (Number(f[11]) + Number(f[12])) / ticks();
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by a process and all its descendants, reaped (its cutime and cstime)
 * or alive (read from /proc): a daemon like Postfix's master with the children it forks.
 */
export function treeCpuSeconds(pid) {
  try {
    const kids = new Map();
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const ppid = Number(statFields(entry)[1]);
        if (!kids.has(ppid)) kids.set(ppid, []);
        kids.get(ppid).push(Number(entry));
      } catch {
        // gone meanwhile
      }
    }
    let total = 0;
    const visit = (p) => {
      try {
        const f = statFields(p);
        total += (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / ticks();
      } catch {
        return;
      }
      for (const k of kids.get(p) ?? []) visit(k);
    };
    visit(pid);
    return total;
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by: the whole machine (all cores, from /proc/stat), the given
 * processes, this process, and this process's children that have exited and been reaped
 * (smtp-source runs). `trees` are counted with their descendants; `parts` are threads of a process
 * already counted (`PID/task/TID`), reported on their own. null where /proc is unavailable.
 */
export function cpuSnapshot(pids, trees = {}, parts = {}) {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy is user to softirq without idle and
    // iowait; steal is time the hypervisor gave to other guests, not used here.
    const busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6];
    const self = statFields('self');
    const usage = process.cpuUsage();
    return {
      machine: busy / ticks(),
      self: (usage.user + usage.system) / 1e6,
      reapedChildren: (Number(self[13]) + Number(self[14])) / ticks(),
      pids: Object.fromEntries([
        ...Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid) ?? 0]),
        ...Object.entries(trees).map(([name, pid]) => [name, treeCpuSeconds(pid) ?? 0]),
      ]),
      parts: Object.fromEntries(Object.entries(parts).map(([name, id]) => [name, cpuSeconds(id) ?? 0])),
    };
  } catch {
    return null;
  }
}

/**
 * Where the CPU went between two snapshots, in % of one core over `seconds`: each named
 * process, smtp-source (the reaped children), and `other`, what the rest of the machine used.
 */
export function cpuShares(before, after, seconds) {
  if (!before || !after) return null;
  const share = (s) => Math.max(0, (s / seconds) * 100);
  const out = {};
  let known = after.self - before.self;
  for (const name of Object.keys(after.pids)) {
    const d = after.pids[name] - before.pids[name];
    out[name] = share(d);
    known += d;
  }
  for (const name of Object.keys(after.parts ?? {})) out[name] = share(after.parts[name] - before.parts[name]);
  const source = after.reapedChildren - before.reapedChildren;
  out.smtpSource = share(source);
  known += source;
  out.machine = share(after.machine - before.machine);
  out.other = share(after.machine - before.machine - known);
  return out;
}
