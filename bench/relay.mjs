#!/usr/bin/env node
// Relay benchmark: 10 KB messages for a remote domain, injected by Postfix's smtp-source, relayed
// by mailroom (MX from an in-process DNS server) and, in the same run, by a private Postfix
// instance, to the same smtp-sink on a loopback address; timed from the start of injection to
// the last message at the sink. See docs/benchmarks.md for the method and the last results.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { startDns } from './lib/dns.mjs';
import { writeSection } from './lib/doc.mjs';
import { DOMAIN, killMailroom, openQueueProbe, startMailroom, waitForDrain } from './lib/mailroom.mjs';
import { postfixUnavailable, startPostfix } from './lib/postfix.mjs';
import { cpuShares, cpuSnapshot, findBinary, onCleanup, runSmtpSource, stop } from './lib/processes.mjs';
import { relayMarkdown, relayTable } from './lib/relay-report.mjs';
import { rate, summarize } from './lib/report.mjs';
import { startSink } from './lib/sink.mjs';
import { describeSystem } from './lib/system.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REMOTE_DOMAIN = 'relay.test';
const SINK_ADDRESS = '127.0.0.7';

const HELP = `usage: node bench/relay.mjs [options]      (npm run bench builds first)

Measures relaying: smtp-source hands messages for ${REMOTE_DOMAIN} to mailroom and to a
private Postfix; both deliver to one smtp-sink on ${SINK_ADDRESS}. Timed from the start of
injection to the last message at the sink.

  --runs N             repetitions per server; median and min-max are reported (default 3)
  --messages N         messages per run (default 10000)
  --sessions N         concurrent injecting sessions, one connection each (default 20)
  --size BYTES         message payload (default 10240)
  --warmup N           warm-up messages per server (default 500)
  --timeout SECONDS    give up on one run after this long (default 600)
  --no-postfix         measure mailroom only
  --profile DIR        run mailroom with node --cpu-prof, writing the profile into DIR
  --dist DIR           run the mailroom built in DIR (default: this checkout's dist/), e.g. to
                       compare with an older build
  --tmpdir DIR         where the temporary directories go (default ${os.tmpdir()})
  --json               print the results as JSON on stdout instead of the table
  --no-write           do not update docs/benchmarks.md or bench/results/
  --keep               keep the temporary directory and print its path
  -h, --help           this help

Progress goes to stderr. Exit status 1 when a run fails, or when the sink did not receive
exactly the messages that were accepted.`;

function fail(message) {
  process.stderr.write(`relay: ${message}\n`);
  process.exit(2);
}

function positiveInt(value, name) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) fail(`${name} must be a positive integer, got "${value}"`);
  return n;
}

function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        runs: { type: 'string', default: '3' },
        messages: { type: 'string', default: '10000' },
        sessions: { type: 'string', default: '20' },
        size: { type: 'string', default: '10240' },
        warmup: { type: 'string', default: '500' },
        timeout: { type: 'string', default: '600' },
        'no-postfix': { type: 'boolean', default: false },
        profile: { type: 'string' },
        dist: { type: 'string' },
        tmpdir: { type: 'string', default: os.tmpdir() },
        json: { type: 'boolean', default: false },
        'no-write': { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    fail(`${err.message}\n\n${HELP}`);
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const opts = {
    runs: positiveInt(values.runs, '--runs'),
    messages: positiveInt(values.messages, '--messages'),
    sessions: positiveInt(values.sessions, '--sessions'),
    size: positiveInt(values.size, '--size'),
    warmup: positiveInt(values.warmup, '--warmup'),
    timeoutMs: positiveInt(values.timeout, '--timeout') * 1000,
    postfix: !values['no-postfix'],
    profile: values.profile ? path.resolve(values.profile) : null,
    dist: path.resolve(values.dist ?? path.join(repoRoot, 'dist')),
    tmpdir: path.resolve(values.tmpdir),
    json: values.json,
    write: !values['no-write'],
    keep: values.keep,
  };
  if (opts.messages < opts.sessions)
    fail(`--messages: ${opts.messages} messages cannot keep ${opts.sessions} sessions busy`);
  return opts;
}

const t0 = process.hrtime.bigint();
function progress(message) {
  const s = (Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1).padStart(6);
  process.stderr.write(`[${s}s] ${message}\n`);
}

const seconds = (from, to) => Number(to - from) / 1e9;
const pctText = (n) => (n === null || n === undefined ? '?' : `${Math.round(n)}%`);

/** What mailroom's store says after the runs: anything not delivered is a failure. */
function mailroomAccounting(dbPath) {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const states = Object.fromEntries(
      db
        .prepare('SELECT state, COUNT(*) AS n FROM recipients GROUP BY state')
        .all()
        .map((r) => [r.state, r.n]),
    );
    const delivered = db.prepare("SELECT COUNT(*) AS n FROM events WHERE type = 'delivered'").get().n;
    const received = db.prepare("SELECT COUNT(*) AS n FROM events WHERE type = 'received'").get().n;
    return { states, deliveredEvents: delivered, receivedEvents: received };
  } finally {
    db.close();
  }
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const mainJs = path.join(opts.dist, 'cli', 'main.js');
  if (!fs.existsSync(mainJs)) fail(`${mainJs} is missing: run \`npm run build\` first (or use \`npm run bench\`)`);
  const source = findBinary('smtp-source', ['/usr/sbin/smtp-source', '/usr/bin/smtp-source']);
  const sinkBin = findBinary('smtp-sink', ['/usr/sbin/smtp-sink', '/usr/bin/smtp-sink']);
  if (!source || !sinkBin) fail('smtp-source and smtp-sink are needed (Debian/Ubuntu: apt-get install postfix)');
  let postfixSkipped = null;
  if (opts.postfix) {
    postfixSkipped = postfixUnavailable();
    if (postfixSkipped) progress(`Postfix comparison skipped: ${postfixSkipped}`);
  } else postfixSkipped = '--no-postfix';

  const tmp = fs.mkdtempSync(path.join(opts.tmpdir, 'mailroom-relay-'));
  // Postfix's daemons run as `postfix` and must reach their directories below this one.
  fs.chmodSync(tmp, 0o755);
  onCleanup(() => {
    if (opts.keep) process.stderr.write(`kept ${tmp}\n`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  });

  progress(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, probing fsync in ${tmp}`);
  const system = describeSystem({ dataDir: tmp, postconf: findBinary('postconf', ['/usr/sbin/postconf']) });

  const sink = await startSink(sinkBin, { address: SINK_ADDRESS, count: true });
  progress(`smtp-sink listening on ${SINK_ADDRESS}:${sink.port}`);
  const dns = await startDns({
    [REMOTE_DOMAIN]: [{ type: 'MX', data: { preference: 10, exchange: `mx.${REMOTE_DOMAIN}` } }],
    [`mx.${REMOTE_DOMAIN}`]: [{ type: 'A', data: SINK_ADDRESS }],
  });
  progress(`DNS for ${REMOTE_DOMAIN} on ${dns.server}: MX 10 mx.${REMOTE_DOMAIN}, A ${SINK_ADDRESS}`);

  const mrDir = path.join(tmp, 'mailroom');
  fs.mkdirSync(mrDir);
  const mr = await startMailroom({
    repoRoot,
    dist: opts.dist,
    dir: mrDir,
    user: null,
    nodeArgs: opts.profile ? ['--cpu-prof', '--cpu-prof-dir', opts.profile] : [],
    overrides: {
      dns: { servers: [dns.server] },
      delivery: { port: sink.port, tls: 'none' },
    },
  });
  progress(`mailroom listening on 127.0.0.1:${mr.port}`);
  const probe = openQueueProbe(mr.dbPath);

  let pf = null;
  if (!postfixSkipped) {
    const pfDir = path.join(tmp, 'postfix');
    fs.mkdirSync(pfDir);
    onCleanup(() => pf?.stopSync());
    pf = await startPostfix({
      dir: pfDir,
      domain: REMOTE_DOMAIN,
      nexthop: `[${SINK_ADDRESS}]:${sink.port}`,
      hostname: `postfix.${DOMAIN}`,
    });
    progress(`Postfix listening on 127.0.0.1:${pf.port} (master pid ${pf.masterPid})`);
  }

  const servers = [{ name: 'mailroom', port: mr.port }];
  if (pf) servers.push({ name: 'postfix', port: pf.port });
  const accepted = { mailroom: 0, postfix: 0 };
  const load = { size: opts.size, from: `bench@${DOMAIN}`, to: `user@${REMOTE_DOMAIN}`, helo: `client.${DOMAIN}` };

  // Both servers are counted during every run: an idle one should cost nothing.
  // mailroomMain is the event-loop thread alone (/proc/PID/task/PID), the one that limits it.
  const snapshot = () =>
    cpuSnapshot({ sink: sink.child.pid, mailroom: mr.child.pid }, pf ? { postfix: pf.masterPid } : {}, {
      mailroomMain: `${mr.child.pid}/task/${mr.child.pid}`,
    });

  /** Inject `messages` into `server` and wait until the sink has them all. */
  const relay = async (server, messages) => {
    const target = sink.messages + messages;
    const before = snapshot();
    const started = process.hrtime.bigint();
    const delivered = sink.waitFor(target, opts.timeoutMs);
    delivered.catch(() => {});
    await runSmtpSource(source, {
      ...load,
      port: server.port,
      sessions: opts.sessions,
      messages,
      reuse: true,
      timeoutMs: opts.timeoutMs,
    });
    const injected = process.hrtime.bigint();
    accepted[server.name] += messages;
    const done = await delivered;
    const total = seconds(started, done);
    const cpu = cpuShares(before, snapshot(), total);
    if (server.name === 'mailroom') await waitForDrain(probe);
    return {
      seconds: total,
      rate: messages / total,
      injectSeconds: seconds(started, injected),
      injectRate: messages / seconds(started, injected),
      cpu,
    };
  };

  for (const server of servers) {
    progress(`warm-up: ${opts.warmup} messages through ${server.name}`);
    await relay(server, opts.warmup);
  }

  const runs = { mailroom: [], postfix: [] };
  for (let run = 0; run < opts.runs; run++) {
    const order = run % 2 === 0 ? servers : [...servers].reverse();
    for (const server of order) {
      const r = await relay(server, opts.messages);
      runs[server.name].push(r);
      const own = server.name === 'mailroom' ? r.cpu?.mailroom : r.cpu?.postfix;
      const perMessage = own == null ? '?' : ((own / 100) * r.seconds * 1000) / opts.messages;
      progress(
        `${server.name.padEnd(8)} run ${run + 1}/${opts.runs}: ${opts.messages} msgs at the sink in ${r.seconds.toFixed(2)} s = ${rate(r.rate)} msg/s (injected in ${r.injectSeconds.toFixed(2)} s), ${server.name} CPU ${pctText(own)} (${typeof perMessage === 'number' ? perMessage.toFixed(2) : perMessage} ms/msg${server.name === 'mailroom' ? `, event loop ${pctText(r.cpu?.mailroomMain)} = ${((((r.cpu?.mailroomMain ?? 0) / 100) * r.seconds * 1000) / opts.messages).toFixed(2)} ms/msg` : ''}), sink ${pctText(r.cpu?.sink)}, smtp-source ${pctText(r.cpu?.smtpSource)}, other ${pctText(r.cpu?.other)}`,
      );
    }
  }

  // Every accepted message reached the sink once: no loss, no duplicate.
  await new Promise((r) => setTimeout(r, 500));
  const sent = accepted.mailroom + accepted.postfix;
  const atSink = sink.messages;
  probe.close();
  // A profile is written only on a clean exit.
  if (opts.profile) await stop(mr.child);
  else await killMailroom(mr);
  if (pf) await pf.stop();
  await stop(sink.child);
  await dns.close();
  const store = mailroomAccounting(mr.dbPath);
  const notDelivered = Object.entries(store.states)
    .filter(([s]) => s !== 'delivered')
    .reduce((n, [, c]) => n + c, 0);
  const accounting = { accepted, atSink, ok: atSink === sent && notDelivered === 0, store };

  const stats = (list, key) => (list.length ? summarize(list.map((r) => r[key])) : null);
  const medianOf = (values) => {
    const known = values.filter((v) => v !== null && v !== undefined);
    return known.length ? summarize(known).median : null;
  };
  const side = (name) =>
    runs[name].length === 0
      ? null
      : {
          ...stats(runs[name], 'rate'),
          inject: stats(runs[name], 'injectRate'),
          cpuPercent: medianOf(runs[name].map((r) => r.cpu?.[name])),
          mainThreadPercent: name === 'mailroom' ? medianOf(runs[name].map((r) => r.cpu?.mailroomMain)) : null,
          cpuMsPerMessage: medianOf(
            runs[name].map((r) =>
              r.cpu?.[name] == null ? null : ((r.cpu[name] / 100) * r.seconds * 1000) / opts.messages,
            ),
          ),
          sinkCpuPercent: medianOf(runs[name].map((r) => r.cpu?.sink)),
          sourceCpuPercent: medianOf(runs[name].map((r) => r.cpu?.smtpSource)),
          otherCpuPercent: medianOf(runs[name].map((r) => r.cpu?.other)),
          runs: runs[name],
        };
  const results = {
    date: new Date().toISOString(),
    options: {
      runs: opts.runs,
      messages: opts.messages,
      sessions: opts.sessions,
      size: opts.size,
      warmup: opts.warmup,
      tmpdir: opts.tmpdir,
    },
    system,
    commands: {
      sink: sink.command.replace(/:\d+ /, ':PORT '),
      source: `smtp-source -4 -d -s ${opts.sessions} -l ${opts.size} -m ${opts.messages} -M ${load.helo} -f ${load.from} -t ${load.to} 127.0.0.1:PORT`,
    },
    mailroomConfig: mr.config,
    postfixSettings: pf?.settings ?? null,
    postfixSkipped,
    mailroom: side('mailroom'),
    postfix: side('postfix'),
    accounting,
    mailroomWarnings: mr.logs.warnings,
    mailroomWarningSamples: mr.logs.samples,
  };
  results.ratio = results.postfix ? results.mailroom.median / results.postfix.median : null;
  const others = [...runs.mailroom, ...runs.postfix].map((r) => r.cpu?.other).filter((v) => v != null);
  results.otherCpu = others.length ? { median: summarize(others).median, max: summarize(others).max } : null;
  if (results.otherCpu && results.otherCpu.median > 20) {
    progress(
      `warning: other processes used ${Math.round(results.otherCpu.median)}% of a core (median); the numbers are noisy`,
    );
  }

  if (opts.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else process.stdout.write(`\n${relayTable(results)}\n`);

  if (!accounting.ok) {
    progress(
      `FAILED: accepted ${sent} (mailroom ${accepted.mailroom}, Postfix ${accepted.postfix}), the sink received ${atSink}; mailroom recipients ${JSON.stringify(store.states)}`,
    );
    return 1;
  }
  if (opts.write) {
    const doc = path.join(repoRoot, 'docs', 'benchmarks.md');
    writeSection(doc, 'relay', relayMarkdown(results));
    const dir = path.join(repoRoot, 'bench', 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `relay-${results.date.replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    progress(`wrote ${path.relative(repoRoot, doc)} and ${path.relative(repoRoot, file)}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`\nrelay: benchmark failed: ${err.message}\n`);
    process.exit(1);
  },
);
