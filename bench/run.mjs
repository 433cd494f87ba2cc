#!/usr/bin/env node
// `npm run bench`: the intake benchmark, then the relay benchmark, each as its own process with
// the options given here; each writes its own block of docs/benchmarks.md.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));

const HELP = `usage: npm run bench -- [options]   (or node bench/run.mjs after npm run build)

Runs bench/intake.mjs, bench/relay.mjs, then bench/imap.mjs. Options passed on to them (imap takes
--messages only and prints its table for docs/benchmarks.md):

  --messages N     messages per run (a quick run: --messages 500)
  --runs N         repetitions (default 3)
  --tmpdir DIR     where temporary data directories go
  --no-write       leave docs/benchmarks.md and bench/results/ alone
  --only NAME      intake, relay or imap only
  -h, --help       this help

Each benchmark has more options: node bench/intake.mjs --help, node bench/relay.mjs --help.`;

let values;
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      messages: { type: 'string' },
      runs: { type: 'string' },
      tmpdir: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (err) {
  process.stderr.write(`bench: ${err.message}\n\n${HELP}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
if (values.only && !['intake', 'relay', 'imap'].includes(values.only)) {
  process.stderr.write(`bench: --only takes intake, relay or imap, got "${values.only}"\n`);
  process.exit(2);
}

const shared = [];
if (values.messages) shared.push('--messages', values.messages);
if (values.runs) shared.push('--runs', values.runs);
if (values.tmpdir) shared.push('--tmpdir', values.tmpdir);
if (values['no-write']) shared.push('--no-write');

function run(name) {
  return new Promise((resolve) => {
    process.stderr.write(`\n=== ${name} ===\n`);
    const args = name === 'imap' ? (values.messages ? ['--messages', values.messages] : []) : shared;
    const child = spawn(process.execPath, [path.join(here, `${name}.mjs`), ...args], { stdio: 'inherit' });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

let status = 0;
for (const name of ['intake', 'relay', 'imap']) {
  if (values.only && values.only !== name) continue;
  const code = await run(name);
  if (code !== 0) {
    process.stderr.write(`bench: ${name} failed (exit ${code})\n`);
    status = 1;
  }
}
process.exit(status);
