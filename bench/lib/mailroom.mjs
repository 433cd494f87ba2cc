// mailroom under test: a separate `node dist/cli/main.js serve` process with a generated config
// and its own data directory, plus read-only queries of its SQLite store.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { freePort, stop, tail, track, waitForSmtp } from './processes.mjs';

export const DOMAIN = 'bench.test';
export const RECIPIENT = `user@${DOMAIN}`;

/** The environment without MAILROOM_* overrides, so nothing outside changes the bench config. */
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MAILROOM_')));
}

function runCli(main, args, { input, cwd }) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(process.execPath, [main, ...args], { cwd, env: cleanEnv() }));
    const out = tail(child.stdout);
    const err = tail(child.stderr);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out.text);
      else reject(new Error(`mailroom ${args.join(' ')} exited with ${code}:\n${err.text}${out.text}`));
    });
    child.stdin.end(input ?? '');
  });
}

/**
 * Write a config into `dir`, create the recipient, start the server and wait for its greeting.
 * `overrides` replace top-level config keys; `user` is the local user to create (null: none);
 * `nodeArgs` go to node before the script (e.g. `--cpu-prof`); `dist` is the build to run.
 * Returns what the benchmark needs to drive, observe and stop it.
 */
export async function startMailroom({ repoRoot, dist, dir, overrides = {}, user = RECIPIENT, nodeArgs = [] }) {
  const main = path.join(dist ?? path.join(repoRoot, 'dist'), 'cli', 'main.js');
  const port = await freePort();
  const dataDir = path.join(dir, 'data');
  const config = {
    hostname: DOMAIN,
    dataDir,
    listeners: [{ protocol: 'smtp', address: '127.0.0.1', port }],
    domains: [{ name: DOMAIN, transport: 'mailbox' }],
    log: { level: 'warn' },
    limits: {
      perIp: 1000,
      connections: 5000,
      // smtp-source -d keeps one connection for all of its messages.
      messagesPerConnection: 1_000_000,
    },
    ...overrides,
  };
  const configPath = path.join(dir, 'mailroom.yaml');
  // JSON is YAML, so no YAML writer is needed.
  fs.writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);

  if (user) {
    await runCli(main, ['user', 'add', user, '--password-stdin', '-c', configPath], {
      input: 'bench-password-1234\n',
      cwd: dir,
    });
  }

  const child = track(
    spawn(process.execPath, [...nodeArgs, main, 'serve', '-c', configPath], {
      cwd: dir,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const logs = watchLogs(child.stdout);
  const stderr = tail(child.stderr);
  await waitForSmtp(port, { child, name: 'mailroom', output: [logs.tail, stderr] });
  return { child, port, config, configPath, dbPath: path.join(dataDir, 'mailroom.db'), logs, stderr };
}

/** Count warn-or-worse JSON log lines (level ≥ 40) and keep the first few. */
function watchLogs(stream) {
  const state = { warnings: 0, samples: [], tail: { text: '' } };
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    state.tail.text = (state.tail.text + chunk).slice(-16_384);
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      let level = 50;
      let msg = line;
      try {
        const entry = JSON.parse(line);
        level = entry.level ?? 50;
        msg = entry.err?.message ? `${entry.msg}: ${entry.err.message}` : entry.msg;
      } catch {
        // not JSON: count it as an error line
      }
      if (level >= 40) {
        state.warnings += 1;
        if (state.samples.length < 5) state.samples.push(msg);
      }
    }
  });
  return state;
}

/** Stop mailroom the hard way (SIGKILL): no drain, no checkpoint, like a crash. */
export function killMailroom(mr) {
  return stop(mr.child, 'SIGKILL', 5_000);
}

const PENDING = "('queued', 'deferred', 'delivering', 'held')";

/** A read-only connection for polling the queue between runs (never during a measured run). */
export function openQueueProbe(dbPath) {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const active = db.prepare("SELECT COUNT(*) AS n FROM recipients WHERE state IN ('queued', 'delivering')");
  const deferred = db.prepare("SELECT COUNT(*) AS n FROM recipients WHERE state = 'deferred'");
  return {
    active: () => active.get().n,
    deferred: () => deferred.get().n,
    close: () => db.close(),
  };
}

/** Wait until nothing is queued or being delivered; returns seconds waited and what is left. */
export async function waitForDrain(probe, timeoutMs = 120_000) {
  const started = process.hrtime.bigint();
  const deadline = Date.now() + timeoutMs;
  let active = probe.active();
  while (active > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    active = probe.active();
  }
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, active, deferred: probe.deferred() };
}

/**
 * What the store holds, read with a fresh read-only connection (after mailroom is gone).
 * A recipient delivered into the mailbox but not yet marked delivered (the process died in
 * between) would be counted twice; its mailbox row carries the dedupe key `rcpt:<id>`, so
 * those are subtracted once.
 */
export function storeAccounting(dbPath) {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const one = (sql) => db.prepare(sql).get().n;
    const inMailbox = one('SELECT COUNT(*) AS n FROM mailbox_messages');
    const pending = one(`SELECT COUNT(*) AS n FROM recipients WHERE state IN ${PENDING}`);
    const both = one(
      `SELECT COUNT(*) AS n FROM mailbox_messages WHERE dedupe_key IN
         (SELECT 'rcpt:' || id FROM recipients WHERE state IN ${PENDING})`,
    );
    const failed = one("SELECT COUNT(*) AS n FROM recipients WHERE state IN ('bounced', 'expired')");
    const queuedMessages = one('SELECT COUNT(*) AS n FROM messages');
    const receivedEvents = one("SELECT COUNT(*) AS n FROM events WHERE type = 'received'");
    const avgSize = db.prepare('SELECT AVG(size) AS s FROM mailbox_messages').get().s ?? null;
    const states = Object.fromEntries(
      db
        .prepare('SELECT state, COUNT(*) AS n FROM recipients GROUP BY state')
        .all()
        .map((r) => [r.state, r.n]),
    );
    return {
      inMailbox,
      pending,
      pendingAlreadyInMailbox: both,
      failed,
      queuedMessages,
      receivedEvents,
      states,
      avgStoredSize: avgSize === null ? null : Math.round(avgSize),
      accounted: inMailbox + pending - both,
    };
  } finally {
    db.close();
  }
}
