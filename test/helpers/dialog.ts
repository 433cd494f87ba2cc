import { expect } from 'vitest';
import { RawSmtp } from './smtp-client.js';

/**
 * Run a dialog script in the style of an RFC transcript:
 *   C: EHLO client.example        (a line the client sends)
 *   S: 250-*                      (a reply line expected; `*` matches anything)
 *   C> raw text with \r \n \t \0 \xHH \\ escapes (bytes sent exactly as written, nothing appended)
 * Consecutive `C:` lines are sent together (pipelined) before the following `S:` lines are read.
 * The greeting is read first and must be a 220.
 */
export async function runDialog(port: number, script: string, opts: { tls?: boolean } = {}): Promise<RawSmtp> {
  const client = await RawSmtp.connect(port, opts);
  const greeting = await client.read();
  expect(greeting.code, greeting.raw).toBe(220);
  const steps = script
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  let expected: string[] = [];
  let received: string[] = [];
  const check = async () => {
    while (received.length < expected.length) {
      const r = await client.read();
      r.raw
        .split('\r\n')
        .filter((l) => l.length > 0)
        .forEach((l) => {
          received.push(l);
        });
    }
    for (let i = 0; i < expected.length; i++) {
      expect(received[i], `reply line ${i + 1}; all: ${JSON.stringify(received)}`).toMatch(
        globToRegExp(expected[i] as string),
      );
    }
    expected = [];
    received = [];
  };
  for (const s of steps) {
    if (s.startsWith('C:')) {
      if (expected.length > 0) await check();
      client.send(s.slice(2).trimStart());
    } else if (s.startsWith('C>')) {
      if (expected.length > 0) await check();
      client.write(decodeEscapes(s.slice(2).trimStart()));
    } else if (s.startsWith('S:')) {
      expected.push(s.slice(2).trimStart());
    } else {
      throw new Error(`bad dialog line: ${s}`);
    }
  }
  if (expected.length > 0) await check();
  return client;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** Undo the escapes of a `C>` line: \r \n \t \0 \xHH (one octet) and \\; the rest is sent as UTF-8. */
function decodeEscapes(text: string): Buffer {
  const simple: Record<string, number> = { r: 13, n: 10, t: 9, '0': 0, '\\': 92 };
  const parts = text.split(/(\\(?:[rnt0\\]|x[0-9a-fA-F]{2}))/);
  return Buffer.concat(
    parts.map((p, i) => {
      if (i % 2 === 0) return Buffer.from(p, 'utf8');
      const e = p.slice(1);
      return Buffer.from([e[0] === 'x' ? Number.parseInt(e.slice(1), 16) : (simple[e] as number)]);
    }),
  );
}
