#!/usr/bin/env node
// Durable SMTP intake benchmark: 10 KB messages over 1 and 20 concurrent sessions, from Postfix's
// smtp-source, to mailroom (local domain, mailbox transport) and to Postfix's smtp-sink (the
// protocol ceiling) in the same run. See docs/benchmarks.md for the method and the last results.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSection } from './lib/doc.mjs';
import {
  DOMAIN,
  killMailroom,
  openQueueProbe,
  RECIPIENT,
  startMailroom,
  storeAccounting,
  waitForDrain,
} from './lib/mailroom.mjs';
import { cpuShares, cpuSnapshot, findBinary, onCleanup, runSmtpSource, stop } from './lib/processes.mjs';
import {
  accountingLines,
  evaluateTargets,
  finalLine,
  intakeMarkdown,
  MODES,
  rate,
  summarize,
  terminalTable,
} from './lib/report.mjs';
import { startSink } from './lib/sink.mjs';
import { describeSystem } from './lib/system.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const HELP = `usage: node bench/intake.mjs [options]      (npm run bench builds first)

Measures durable SMTP intake: smtp-source sends messages to mailroom and, as the
protocol ceiling, to Postfix's smtp-sink, both started here on loopback ports.

  --runs N             repetitions per scenario; median and min-max are reported (default 3)
  --sessions LIST      concurrent sessions, comma-separated (default 1,20)
  --messages LIST      messages per run: one number for every session count, or one
                       per entry of --sessions (default 1000,5000)
  --modes LIST         new = new connection per message (smtp-source default),
                       reuse = one connection per session (smtp-source -d) (default new,reuse)
  --size BYTES         message payload (default 10240)
  --warmup N           warm-up messages per connection pattern and server (default 200)
  --timeout SECONDS    give up on one smtp-source run after this long (default 300)
  --tmpdir DIR         where the temporary data directory goes (default ${os.tmpdir()})
  --json               print the results as JSON on stdout instead of the table
  --no-write           do not update docs/benchmarks.md or bench/results/
  --keep               keep the temporary directory (mailroom's data) and print its path
  -h, --help           this help

Progress goes to stderr. Exit status 1 when smtp-source reports a failure, or when a
message mailroom accepted is missing from its store.`;

function fail(message) {
  process.stderr.write(`intake: ${message}\n`);
  process.exit(2);
}

function positiveInt(value, name) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) fail(`${name} must be a positive integer, got "${value}"`);
  return n;
}

function list(value, name) {
  return String(value)
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
    .map((v) => positiveInt(v, name));
}

function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        runs: { type: 'string', default: '3' },
        sessions: { type: 'string', default: '1,20' },
        messages: { type: 'string' },
        modes: { type: 'string', default: 'new,reuse' },
        size: { type: 'string', default: '10240' },
        warmup: { type: 'string', default: '200' },
        timeout: { type: 'string', default: '300' },
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
  const sessions = list(values.sessions, '--sessions');
  // Default: 1000 messages for 1 session, 5000 for 20 (250 per session, between 1000 and 5000).
  const messages = values.messages
    ? list(values.messages, '--messages')
    : sessions.map((s) => Math.min(5000, Math.max(1000, 250 * s)));
  if (messages.length !== 1 && messages.length !== sessions.length) {
    fail('--messages takes one number, or one per --sessions entry');
  }
  const modes = values.modes.split(',').map((m) => m.trim());
  for (const m of modes) if (!MODES[m]) fail(`--modes: unknown "${m}", expected new and/or reuse`);
  const scenarios = [];
  for (const mode of modes) {
    sessions.forEach((s, i) => {
      const count = messages.length === 1 ? messages[0] : messages[i];
      if (count < s) fail(`--messages: ${count} messages cannot keep ${s} sessions busy`);
      scenarios.push({ mode, sessions: s, messages: count });
    });
  }
  return {
    runs: positiveInt(values.runs, '--runs'),
    scenarios,
    size: positiveInt(values.size, '--size'),
    warmup: positiveInt(values.warmup, '--warmup'),
    timeoutMs: positiveInt(values.timeout, '--timeout') * 1000,
    tmpdir: path.resolve(values.tmpdir),
    json: values.json,
    write: !values['no-write'],
    keep: values.keep,
    maxSessions: Math.max(...sessions),
  };
}

const t0 = process.hrtime.bigint();
function progress(message) {
  const s = (Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1).padStart(6);
  process.stderr.write(`[${s}s] ${message}\n`);
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));

  const mainJs = path.join(repoRoot, 'dist', 'cli', 'main.js');
  if (!fs.existsSync(mainJs)) fail(`${mainJs} is missing: run \`npm run build\` first (or use \`npm run bench\`)`);
  const source = findBinary('smtp-source', ['/usr/sbin/smtp-source', '/usr/bin/smtp-source']);
  const sinkBin = findBinary('smtp-sink', ['/usr/sbin/smtp-sink', '/usr/bin/smtp-sink']);
  if (!source || !sinkBin) fail('smtp-source and smtp-sink are needed (Debian/Ubuntu: apt-get install postfix)');

  const tmp = fs.mkdtempSync(path.join(opts.tmpdir, 'mailroom-bench-'));
  onCleanup(() => {
    if (opts.keep) process.stderr.write(`kept ${tmp}\n`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  });

  progress(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, probing fsync in ${tmp}`);
  const system = describeSystem({ dataDir: tmp, postconf: findBinary('postconf', ['/usr/sbin/postconf']) });
  if (system.dataFs === 'tmpfs') {
    progress('warning: the data directory is on tmpfs, where fsync costs nothing; use --tmpdir on a real disk');
  }

  const sink = await startSink(sinkBin);
  progress(`smtp-sink listening on 127.0.0.1:${sink.port}`);
  const mr = await startMailroom({ repoRoot, dir: tmp });
  progress(`mailroom listening on 127.0.0.1:${mr.port} (data in ${path.dirname(mr.dbPath)})`);
  const probe = openQueueProbe(mr.dbPath);

  let sentToMailroom = 0;
  const load = { size: opts.size, from: `bench@${DOMAIN}`, to: RECIPIENT, helo: `client.${DOMAIN}` };
  const send = (port, scenario, messages) =>
    runSmtpSource(source, {
      ...load,
      port,
      sessions: scenario.sessions,
      messages,
      reuse: scenario.mode === 'reuse',
      timeoutMs: opts.timeoutMs,
    });

  // Warm-up: each connection pattern at the highest concurrency, to both servers.
  for (const mode of new Set(opts.scenarios.map((s) => s.mode))) {
    const warm = { mode, sessions: Math.min(opts.maxSessions, opts.warmup) };
    progress(`warm-up: ${opts.warmup} messages, ${MODES[mode].short}, ${warm.sessions} sessions`);
    await send(sink.port, warm, opts.warmup);
    await send(mr.port, warm, opts.warmup);
    sentToMailroom += opts.warmup;
    await waitForDrain(probe);
  }

  // One measured run: smtp-source wall time, and where the machine's CPU went meanwhile.
  const pids = { mailroom: mr.child.pid, sink: sink.child.pid };
  const timed = async (port, sc) => {
    const before = cpuSnapshot(pids);
    const { seconds } = await send(port, sc, sc.messages);
    const cpu = cpuShares(before, cpuSnapshot(pids), seconds);
    return { seconds, rate: sc.messages / seconds, cpu };
  };
  const pctText = (n) => (n === null || n === undefined ? '?' : `${Math.round(n)}%`);

  const scenarios = [];
  for (const sc of opts.scenarios) {
    const sinkRuns = [];
    const mrRuns = [];
    for (let run = 0; run < opts.runs; run++) {
      const order = run % 2 === 0 ? ['smtp-sink', 'mailroom'] : ['mailroom', 'smtp-sink'];
      for (const target of order) {
        const label = `${target.padEnd(9)} ${MODES[sc.mode].short.padEnd(11)} ${String(sc.sessions).padStart(2)} sess  run ${run + 1}/${opts.runs}`;
        if (target === 'smtp-sink') {
          const r = await timed(sink.port, sc);
          sinkRuns.push(r);
          progress(
            `${label}: ${sc.messages} msgs in ${r.seconds.toFixed(2)} s = ${rate(r.rate)} msg/s, other CPU ${pctText(r.cpu?.other)}`,
          );
        } else {
          const r = await timed(mr.port, sc);
          sentToMailroom += sc.messages;
          const drain = await waitForDrain(probe);
          if (drain.active > 0) progress(`warning: ${drain.active} recipients still queued after the drain timeout`);
          mrRuns.push({ ...r, drainSeconds: drain.seconds });
          progress(
            `${label}: ${sc.messages} msgs in ${r.seconds.toFixed(2)} s = ${rate(r.rate)} msg/s, mailroom CPU ${pctText(r.cpu?.mailroom)}, other CPU ${pctText(r.cpu?.other)}, queue drained in ${drain.seconds.toFixed(1)} s`,
          );
        }
      }
    }
    const sinkStats = summarize(sinkRuns.map((r) => r.rate));
    const mrStats = summarize(mrRuns.map((r) => r.rate));
    const medianOf = (values) => {
      const known = values.filter((v) => v !== null && v !== undefined);
      return known.length ? summarize(known).median : null;
    };
    scenarios.push({
      ...sc,
      sink: { ...sinkStats, runs: sinkRuns },
      mailroom: {
        ...mrStats,
        cpuPercent: medianOf(mrRuns.map((r) => r.cpu?.mailroom)),
        drainSeconds: summarize(mrRuns.map((r) => r.drainSeconds)).median,
        runs: mrRuns,
      },
      otherCpuPercent: medianOf([...sinkRuns, ...mrRuns].map((r) => r.cpu?.other)),
      ratio: mrStats.median / sinkStats.median,
    });
  }
  const others = scenarios
    .flatMap((s) => [...s.sink.runs, ...s.mailroom.runs])
    .map((r) => r.cpu?.other)
    .filter((v) => v !== null && v !== undefined);
  const otherCpu = others.length ? { median: summarize(others).median, max: summarize(others).max } : null;
  if (otherCpu && otherCpu.median > 20) {
    progress(
      `warning: other processes used ${Math.round(otherCpu.median)}% of a core (median) during the runs; the numbers are noisy`,
    );
  }

  // Crash check: one more (untimed) batch, then SIGKILL as soon as smtp-source has its last 250.
  const crash = { mode: 'reuse', sessions: opts.maxSessions };
  const crashMessages = Math.max(1000, opts.maxSessions);
  progress(`crash check: ${crashMessages} more messages, then SIGKILL mailroom without draining`);
  await send(mr.port, crash, crashMessages);
  sentToMailroom += crashMessages;
  probe.close();
  await killMailroom(mr);
  await stop(sink.child);

  const acc = storeAccounting(mr.dbPath);
  acc.expected = sentToMailroom;
  acc.ok = acc.accounted === acc.expected && acc.failed === 0;

  const results = {
    date: new Date().toISOString(),
    options: {
      runs: opts.runs,
      size: opts.size,
      warmup: opts.warmup,
      tmpdir: opts.tmpdir,
      scenarios: opts.scenarios,
    },
    system,
    commands: {
      sink: sink.command,
      source: `smtp-source -4 [-d] -s SESSIONS -l ${opts.size} -m MESSAGES -M ${load.helo} -f ${load.from} -t ${load.to} 127.0.0.1:PORT`,
    },
    mailroomConfig: mr.config,
    scenarios,
    otherCpu,
    accounting: acc,
    mailroomWarnings: mr.logs.warnings,
    mailroomWarningSamples: mr.logs.samples,
  };
  results.targets = evaluateTargets(scenarios);

  if (opts.json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    const columns = process.stdout.columns || 100;
    const out = [
      '',
      `durable SMTP intake, ${opts.size}-byte messages, msg/s as median (min–max) of ${opts.runs} run${opts.runs === 1 ? '' : 's'}, ${system.cpuCount} × ${system.cpuModel}, Node ${system.node}`,
      '',
      terminalTable(results, columns),
      '',
      ...accountingLines(acc),
    ];
    if (mr.logs.warnings)
      out.push(`mailroom logged ${mr.logs.warnings} warning(s), e.g.: ${mr.logs.samples.join(' | ')}`);
    out.push('', finalLine(results));
    process.stdout.write(`${out.join('\n')}\n`);
  }

  if (!acc.ok) {
    progress('FAILED: accepted messages are missing from the store; docs/benchmarks.md not updated');
    return 1;
  }
  if (opts.write) {
    const doc = path.join(repoRoot, 'docs', 'benchmarks.md');
    writeSection(doc, 'intake', intakeMarkdown(results), 'Where the time goes');
    const dir = path.join(repoRoot, 'bench', 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `intake-${results.date.replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    progress(`wrote ${path.relative(repoRoot, doc)} and ${path.relative(repoRoot, file)}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`\nintake: benchmark failed: ${err.message}\n`);
    process.exit(1);
  },
);
