// Postfix smtp-sink on a loopback port: accepts everything, writes nothing. The protocol ceiling
// for intake, and the remote MX for relaying (where it counts the messages it received).

import { spawn } from 'node:child_process';
import { freePort, tail, track, waitForSmtp } from './processes.mjs';

/**
 * Start smtp-sink on `address` (127.0.0.1 unless given). With `count`, it prints a running
 * message counter (`-c`), and the result tracks it: `messages` so far, and `waitFor(n)`, which
 * resolves with the process.hrtime at which the n-th message was received.
 */
export async function startSink(bin, { address = '127.0.0.1', count = false } = {}) {
  const port = await freePort();
  // smtp-sink refuses to run as root without -u; as another user -u would fail.
  const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const args = [...user, ...(count ? ['-c'] : []), '-4', `${address}:${port}`, '1024'];
  const child = track(spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  const err = tail(child.stderr);
  const counter = count ? watchCounter(child.stdout) : null;
  const out = counter ? { text: '' } : tail(child.stdout);
  await waitForSmtp(port, { child, name: 'smtp-sink', output: [err, out], host: address });
  return {
    child,
    port,
    address,
    command: `smtp-sink ${args.join(' ')}`,
    get messages() {
      return counter?.messages ?? 0;
    },
    waitFor: (n, timeoutMs) => counter.waitFor(n, timeoutMs),
  };
}

/** smtp-sink -c writes `sess=S quit=Q mesg=M\r` after every message and session end. */
function watchCounter(stream) {
  const state = { messages: 0, waiters: [] };
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const now = process.hrtime.bigint();
    const parts = (partial + chunk).split('\r');
    partial = parts.pop() ?? '';
    const last = parts.length > 0 ? /mesg=(\d+)/.exec(parts[parts.length - 1]) : null;
    if (!last) return;
    state.messages = Number(last[1]);
    state.waiters = state.waiters.filter((w) => {
      if (state.messages < w.n) return true;
      clearTimeout(w.timer);
      w.resolve(now);
      return false;
    });
  });
  state.waitFor = (n, timeoutMs) =>
    new Promise((resolve, reject) => {
      if (state.messages >= n) {
        resolve(process.hrtime.bigint());
        return;
      }
      const w = { n, resolve };
      w.timer = setTimeout(() => {
        state.waiters = state.waiters.filter((x) => x !== w);
        reject(new Error(`smtp-sink received ${state.messages} of ${n} messages within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      state.waiters.push(w);
    });
  return state;
}
