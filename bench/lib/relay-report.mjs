// Relay benchmark numbers → the terminal table and its block of docs/benchmarks.md.

import { rate, ratio } from './report.mjs';

export const RELAY_TARGET = 2;

const pct = (n) => (n === null || n === undefined ? '–' : `${Math.round(n)}%`);
const range = (s) => (s.min === s.max ? rate(s.median) : `${rate(s.median)} (${rate(s.min)}–${rate(s.max)})`);

function rows(results) {
  const out = [];
  for (const [name, label] of [
    ['mailroom', 'mailroom'],
    ['postfix', 'Postfix'],
  ]) {
    const s = results[name];
    if (!s) continue;
    out.push([
      label,
      range(s),
      range(s.inject),
      pct(s.cpuPercent),
      s.cpuMsPerMessage == null ? '–' : s.cpuMsPerMessage.toFixed(2),
      pct(s.mainThreadPercent),
      pct(s.sinkCpuPercent),
      pct(s.sourceCpuPercent),
      pct(s.otherCpuPercent),
    ]);
  }
  return out;
}

const HEADER = [
  'relay',
  'end to end msg/s',
  'injection msg/s',
  'relay CPU',
  'relay CPU ms/msg',
  'event-loop thread CPU',
  'smtp-sink CPU',
  'smtp-source CPU',
  'other CPU',
];

/** The results as a plain-text table with the ratio below. */
export function relayTable(results) {
  const body = rows(results);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const lines = [
    `relay, ${results.options.messages} × ${results.options.size}-byte messages per run, median (min–max) of ${results.options.runs}`,
    '',
    line(HEADER),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
    '',
  ];
  if (results.ratio !== null)
    lines.push(`mailroom / Postfix end to end: ${ratio(results.ratio)} (target ≥ ${RELAY_TARGET}×)`);
  else lines.push(`Postfix not measured: ${results.postfixSkipped}`);
  const a = results.accounting;
  lines.push(
    `accepted: mailroom ${a.accepted.mailroom}, Postfix ${a.accepted.postfix}; at the sink: ${a.atSink}${a.ok ? ' (every message once)' : ' MISMATCH'}`,
  );
  return lines.join('\n');
}

function mdTable(header, body) {
  const sep = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [header, sep, ...body].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** The relay block of docs/benchmarks.md: method, machine, results, target. */
export function relayMarkdown(results) {
  const { options: o, system: sys, accounting: a } = results;
  const time = `${results.date.slice(0, 16).replace('T', ' ')} UTC`;
  const pf = results.postfixSettings;
  const verdict =
    results.ratio === null
      ? `Postfix was not measured (${results.postfixSkipped}).`
      : `mailroom / Postfix end to end: **${ratio(results.ratio)}** (target ≥ ${RELAY_TARGET}×: ${results.ratio >= RELAY_TARGET ? 'met' : '**not met**'}).`;
  const tableRows = rows(results).map((r, i) => (i === 0 ? [`**${r[0]}**`, ...r.slice(1)] : r));
  return `## Relaying to a remote MX

How fast mailroom relays 10 KB messages to another domain's mail server, compared with Postfix relaying
the same load to the same server in the same run (issue 5's target: at least ${RELAY_TARGET}× Postfix end
to end). Last run: ${time}, ${o.runs} run${o.runs === 1 ? '' : 's'} of ${o.messages} messages per server.

### Method

- **Remote MX**: \`${results.commands.sink}\` on the loopback address 127.0.0.7 (accepts everything,
  writes nothing; \`-c\` prints a running message count, which the benchmark reads).
- **Load**: Postfix \`smtp-source\` (C), ${o.sessions} sessions, each over one connection, the same for both relays:
  \`${results.commands.source}\`. smtp-source rather than a client of our own: it is the same load
  generator as the intake benchmark, it is the one Postfix's own performance notes use, and it costs the
  shared cores less CPU than a Node.js client would.
- **mailroom**: \`node dist/cli/main.js serve\` with a fresh SQLite data directory (${sys.dataFs}), \`relay.test\` is
  not a local domain; its MX (\`MX 10 mx.relay.test\`, \`A 127.0.0.7\`, TTL 1 h) comes from a DNS server inside
  the benchmark process (\`dns.servers\`); \`delivery.port\` is the sink's port, \`delivery.tls: none\`; otherwise
  defaults: connection cache on (idle 5 s, 100 messages per connection), destination concurrency 5 growing
  to 20, \`queue.concurrency\` 100, \`log.level: warn\` (the per-message timeline still goes into the store).
- **Postfix** ${sys.postfix ?? ''}: a private instance (its own \`config_directory\`, \`queue_directory\` and log file in a
  temporary directory, \`postfix -c DIR start\`), smtpd on 127.0.0.1:PORT, \`${pf ? pf.transport_maps.replace(/:\d+ }/, ':PORT }') : 'transport_maps'}\`
  (no MX lookup), \`smtpd_tls_security_level = none\`, \`smtp_tls_security_level = none\`, connection
  cache on (\`smtp_connection_cache_on_demand = yes\`, the sink named in \`smtp_connection_cache_destinations\`),
  otherwise defaults (destination concurrency 5 growing to 20, \`maillog_file\` in the temporary directory).
- **Durability**: both answer \`250\` only after the message is on disk: Postfix's cleanup fsyncs each queue
  file; mailroom commits envelope and body in one SQLite transaction and fsyncs the WAL (group commit). Both
  record the outcome after the remote \`250\`, and remove the message.
- **Timing**: from spawning smtp-source to the moment the sink reports the run's last message
  (\`process.hrtime\`): *end to end*. *Injection* is spawning smtp-source to its exit (every \`250\`
  received). ${o.warmup} warm-up messages go through each relay first; the runs alternate which relay goes
  first; the tables show median (min–max). *CPU* columns are user + system time over the end-to-end
  time, 100% = one core; Postfix's includes every daemon (master and its children); *event-loop thread* is
  mailroom's main thread alone (\`/proc/PID/task/PID\`), the rest being SQLite's fsyncs and checkpoints, the
  garbage collector and the thread pool; *other* is the rest of the machine (\`/proc/stat\`) minus both relays, sink, smtp-source and the benchmark process.
- **Accounting**: at the end the sink must have received exactly as many messages as both relays accepted
  (none lost, none twice), and every recipient in mailroom's store must be \`delivered\`.

| machine | |
| --- | --- |
| CPU | ${sys.cpuCount} × ${sys.cpuModel} |
| OS, Node | ${sys.os}, ${sys.node} |
| data directory | ${sys.dataFs}; write 10 KiB + \`fdatasync\`: median ${sys.fsync.medianMs.toFixed(2)} ms, p90 ${sys.fsync.p90Ms.toFixed(2)} ms |
| load average at start (1, 5, 15 min) | ${sys.loadAverage.join(', ')} |
| CPU used by other processes during the runs | ${results.otherCpu ? `median ${pct(results.otherCpu.median)}, max ${pct(results.otherCpu.max)} of one core` : 'not measured'} |

### Results

${mdTable(HEADER, tableRows)}

${verdict} Accepted: mailroom ${a.accepted.mailroom}, Postfix ${a.accepted.postfix} (warm-up included); received
by the sink: ${a.atSink}${a.ok ? ', every message exactly once' : ' — **MISMATCH**'}.${results.mailroomWarnings ? ` mailroom logged ${results.mailroomWarnings} warning(s).` : ''}
`;
}
