// Postfix smtp-sink on a loopback port: accepts everything, writes nothing. The protocol ceiling.

import { spawn } from 'node:child_process';
import { freePort, tail, track, waitForSmtp } from './processes.mjs';

export async function startSink(bin) {
  const port = await freePort();
  // smtp-sink refuses to run as root without -u; as another user -u would fail.
  const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const args = [...user, '-4', `127.0.0.1:${port}`, '1024'];
  const child = track(spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  const out = tail(child.stdout);
  const err = tail(child.stderr);
  await waitForSmtp(port, { child, name: 'smtp-sink', output: [err, out] });
  return { child, port, command: `smtp-sink ${args.join(' ')}` };
}
