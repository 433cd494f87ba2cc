import { expect } from 'vitest';
import { RawPop3 } from './client.js';

/**
 * Run a POP3 dialog script in the style of an RFC transcript:
 *   C: STAT          (a line the client sends)
 *   S: +OK 2 *       (a line expected from the server; `*` matches anything)
 * Consecutive `C:` lines are sent together (pipelined, RFC 2449) before the following `S:` lines
 * are read. The greeting is read first and must be `+OK`.
 */
export async function runPop3Dialog(port: number, script: string, opts: { tls?: boolean } = {}): Promise<RawPop3> {
  const client = await RawPop3.connect(port, opts);
  expect(await client.line()).toMatch(/^\+OK /);
  const steps = script
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  let expected: string[] = [];
  const seen: string[] = [];
  const check = async () => {
    for (const e of expected) {
      const got = await client.line();
      seen.push(got);
      expect(got, `after ${JSON.stringify(seen)}`).toMatch(globToRegExp(e));
    }
    expected = [];
  };
  for (const s of steps) {
    if (s.startsWith('C:')) {
      if (expected.length > 0) await check();
      client.send(s.slice(2).trimStart());
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
