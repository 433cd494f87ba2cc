// Numbers → text: summary statistics, the terminal table and final line, and docs/benchmarks.md.

export const MODES = {
  new: { short: 'new conn', long: 'new connection per message', flag: '' },
  reuse: { short: 'reused (-d)', long: 'one connection per session (`-d`)', flag: '-d' },
};

export const TARGET_RATIO = 0.5;
export const TARGET_RATE = 3000;
export const TARGET_RATE_SESSIONS = 20;

export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

export const rate = (n) => (n >= 100 ? String(Math.round(n)) : n.toFixed(1));
export const ratio = (n) => `${n.toFixed(2)}×`;
const pct = (n) => (n === null || n === undefined ? '–' : `${Math.round(n)}%`);
const range = (s) => (s.min === s.max ? rate(s.median) : `${rate(s.median)} (${rate(s.min)}–${rate(s.max)})`);

/** The issue's targets, checked against each connection pattern that was measured. */
export function evaluateTargets(scenarios) {
  const out = [];
  for (const s of scenarios) {
    out.push({
      mode: s.mode,
      sessions: s.sessions,
      what: `mailroom ≥ ${TARGET_RATIO}× smtp-sink at ${s.sessions} session${s.sessions === 1 ? '' : 's'}`,
      value: s.ratio,
      shown: ratio(s.ratio),
      met: s.ratio >= TARGET_RATIO,
    });
    if (s.sessions === TARGET_RATE_SESSIONS) {
      out.push({
        mode: s.mode,
        sessions: s.sessions,
        what: `mailroom ≥ ${TARGET_RATE} msg/s at ${TARGET_RATE_SESSIONS} sessions`,
        value: s.mailroom.median,
        shown: `${rate(s.mailroom.median)} msg/s`,
        met: s.mailroom.median >= TARGET_RATE,
      });
    }
  }
  return out;
}

function layout(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const lines = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  return { lines, width: Math.max(...lines.map((l) => l.length)) };
}

/** The results table, dropping detail until it fits `columns`. */
export function terminalTable(results, columns) {
  const variants = [
    { ranges: true, extra: true },
    { ranges: false, extra: true },
    { ranges: false, extra: false },
  ];
  let table;
  for (const v of variants) {
    const header = ['connections', 'sess', 'msgs', 'smtp-sink msg/s', 'mailroom msg/s', 'ratio'];
    if (v.extra) header.push('mailroom CPU', 'other CPU', 'drain');
    const rows = results.scenarios.map((s) => {
      const row = [
        MODES[s.mode].short,
        String(s.sessions),
        String(s.messages),
        v.ranges ? range(s.sink) : rate(s.sink.median),
        v.ranges ? range(s.mailroom) : rate(s.mailroom.median),
        ratio(s.ratio),
      ];
      if (v.extra)
        row.push(pct(s.mailroom.cpuPercent), pct(s.otherCpuPercent), `${s.mailroom.drainSeconds.toFixed(1)} s`);
      return row;
    });
    table = layout(header, rows);
    if (table.width <= columns) break;
  }
  return table.lines.join('\n');
}

/** One line with every ratio and the rate at 20 sessions, against the targets. */
export function finalLine(results) {
  const parts = [];
  for (const mode of Object.keys(MODES)) {
    const ss = results.scenarios.filter((s) => s.mode === mode);
    if (ss.length === 0) continue;
    parts.push(`${MODES[mode].short}: ${ss.map((s) => `${s.sessions} sess ${ratio(s.ratio)}`).join(', ')}`);
  }
  let line = `mailroom/smtp-sink (target ≥ ${TARGET_RATIO}×): ${parts.join('; ')}`;
  const at20 = results.scenarios.filter((s) => s.sessions === TARGET_RATE_SESSIONS);
  if (at20.length) {
    const rates = at20.map((s) => `${rate(s.mailroom.median)} msg/s ${MODES[s.mode].short}`).join(', ');
    line += ` | ${TARGET_RATE_SESSIONS} sessions: ${rates} (target ≥ ${TARGET_RATE})`;
  }
  const met = results.targets.filter((t) => t.met).length;
  return `${line} | targets met: ${met}/${results.targets.length}`;
}

export function accountingLines(acc) {
  const lines = [
    `accepted (250 to smtp-source): ${acc.expected}; in the store after SIGKILL: ${acc.inMailbox} in the INBOX + ${acc.pending - acc.pendingAlreadyInMailbox} still queued = ${acc.accounted}` +
      (acc.pendingAlreadyInMailbox ? ` (${acc.pendingAlreadyInMailbox} in both counted once)` : ''),
  ];
  if (acc.failed) lines.push(`bounced or expired: ${acc.failed}`);
  if (acc.receivedEvents < acc.expected) {
    lines.push(
      `timeline: ${acc.receivedEvents} 'received' events, so ${acc.expected - acc.receivedEvents} accepted message(s) have none after the SIGKILL (events are written after the 250)`,
    );
  }
  lines.push(
    acc.ok
      ? 'every accepted message is accounted for'
      : `MISMATCH: ${acc.expected - acc.accounted} accepted message(s) missing from the store`,
  );
  return lines;
}

function mdTable(header, rows, align) {
  const sep = header.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

const kib = (bytes) => `${Math.round(bytes / 1024)} KiB`;

/** The intake block of docs/benchmarks.md: method, machine, results, targets. */
export function intakeMarkdown(results) {
  const { system: sys, options: o, accounting: acc } = results;
  const date = results.date.slice(0, 10);
  const time = `${results.date.slice(0, 16).replace('T', ' ')} UTC`;
  const stored = acc.avgStoredSize
    ? `; mailroom stored ${acc.avgStoredSize} bytes per message on average, its own \`Received:\` header included`
    : '';

  const resultRows = results.scenarios.map((s) => [
    MODES[s.mode].long,
    String(s.sessions),
    String(s.messages),
    range(s.sink),
    range(s.mailroom),
    `**${ratio(s.ratio)}**`,
    pct(s.mailroom.cpuPercent),
    pct(s.otherCpuPercent),
    `${s.mailroom.drainSeconds.toFixed(1)} s`,
  ]);
  const targetRows = results.targets.map((t) => [t.what, MODES[t.mode].long, t.shown, t.met ? 'met' : '**not met**']);

  return `## Durable SMTP intake

Last run: ${time}.

How many 10 KB messages per second mailroom accepts, each made durable before its \`250\`, over 1 and 20
concurrent SMTP sessions to a local domain; and the same load, in the same run and from the same load
generator, against Postfix's \`smtp-sink\`, which accepts everything and writes nothing: the protocol ceiling
of this client on this machine. The figure of merit is the ratio of the two.

### Method

- **Load generator**: Postfix \`smtp-source\`${sys.postfix ? ` ${sys.postfix}` : ''} (C, no pipelining), the same arguments for both servers:
  \`smtp-source -4 [-d] -s SESSIONS -l ${o.size} -m MESSAGES -M client.bench.test -f bench@bench.test -t user@bench.test 127.0.0.1:PORT\`.
  Payload ${o.size} bytes plus smtp-source's headers${stored}.
- **Connection patterns**: *new connection per message* is smtp-source's default (connect, \`EHLO\`, \`MAIL\`,
  \`RCPT\`, \`DATA\`, \`QUIT\` for every message; at 20 sessions, 20 of these run at once). *One connection per
  session* (\`-d\`) sends all of a session's messages over one connection; mailroom's
  \`limits.messagesPerConnection\` is raised to 1000000 for it.
- **Reference**: \`${results.commands.sink.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:PORT')}\`, started by the benchmark on a free loopback port.
- **Subject**: mailroom from \`dist/\` as its own process (\`node dist/cli/main.js serve\`), fresh data directory
  under \`${o.tmpdir}\` (${sys.dataFs}), SQLite store, config: hostname \`bench.test\`, one \`smtp\` listener
  on a free loopback port, \`domains: [{ name: bench.test, transport: mailbox }]\`, \`log.level: warn\`,
  \`limits.perIp: 1000\`, \`limits.connections: 5000\`. \`user@bench.test\` is created first, so every message
  is also delivered into its INBOX by the queue while intake goes on.
- **Durability**: mailroom answers \`250\` only after the message's envelope and body are committed in one
  SQLite transaction (WAL) and the WAL file is \`fdatasync\`'d in the thread pool; sessions that finish a
  message at the same time share one commit and one fsync (group commit). smtp-sink writes nothing.
- **Timing**: wall clock (\`process.hrtime\`) from spawning smtp-source to its exit, so process start and
  connection set-up are included; msg/s = messages / seconds. smtp-source exits non-zero on any unexpected
  reply, which fails the benchmark. Before measuring, ${o.warmup} messages per connection pattern go to each
  server (warm-up). Each scenario runs ${o.runs} time${o.runs === 1 ? '' : 's'}, smtp-sink and mailroom
  alternating which goes first; the tables show the median with min–max.
- **Between runs** the benchmark waits until mailroom's queue has delivered everything, so one run's
  deliveries do not overlap the next measurement; that wait is the *drain* column. *mailroom CPU* is the
  server process's user + system CPU time during the run over the run's wall time (100% = one core).
  *Other CPU* is what the rest of the machine used during the runs (all busy CPU time from \`/proc/stat\`
  minus mailroom, smtp-sink, smtp-source and the benchmark itself; median over the scenario's runs of both
  servers): a noise indicator, since anything else running competes for the same cores.
- **Accounting**: after the last run mailroom is killed with \`SIGKILL\` (no drain, no checkpoint), and its
  database is opened read-only: messages in the INBOX plus recipients still queued must equal the messages
  smtp-source had accepted. This shows the \`250\` comes after the commit; it is a process crash, not a
  power loss, so the fsync itself is not tested by it.

| machine | |
| --- | --- |
| CPU | ${sys.cpuCount} × ${sys.cpuModel}${sys.cpuMHz ? ` (${sys.cpuMHz} MHz)` : ''} |
| memory | ${sys.memoryGiB} GiB |
| OS | ${sys.os} |
| Node | ${sys.node} |
| Postfix (smtp-source, smtp-sink) | ${sys.postfix ?? 'unknown'} |
| data directory file system | ${sys.dataFs}; write ${kib(10_240)} + \`fdatasync\`: median ${sys.fsync.medianMs.toFixed(2)} ms, p90 ${sys.fsync.p90Ms.toFixed(2)} ms |
| load average at start (1, 5, 15 min) | ${sys.loadAverage.join(', ')} |
| CPU used by other processes during the runs | ${results.otherCpu ? `median ${pct(results.otherCpu.median)}, max ${pct(results.otherCpu.max)} of one core` : 'not measured (no /proc)'} |

Load generator, reference and subject share the machine, as they do in the issue's setup.${
    results.otherCpu && results.otherCpu.median > 20
      ? ' Other processes were busy during this run (see the last row), so its numbers are noisier than usual; compare ratios rather than absolute rates, and re-run on a quiet machine before drawing fine conclusions.'
      : ''
  }

### Results (${date})

${mdTable(
  [
    'connections',
    'sessions',
    'messages per run',
    'smtp-sink msg/s',
    'mailroom msg/s',
    'mailroom / smtp-sink',
    'mailroom CPU',
    'other CPU',
    'drain',
  ],
  resultRows,
  ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
)}

${accountingLines(acc)
  .map((l) => `${l.charAt(0).toUpperCase()}${l.slice(1)}.`)
  .join(
    ' ',
  )}${results.mailroomWarnings ? ` mailroom logged ${results.mailroomWarnings} warning(s) or error(s) during the run.` : ' mailroom logged no warnings.'}

### Against the target

The issue's target: mailroom at least ${TARGET_RATIO}× smtp-sink at 1 and at 20 sessions, and at least
${TARGET_RATE} msg/s at 20 sessions.

${mdTable(['target', 'connections', 'this run', ''], targetRows)}

`;
}
