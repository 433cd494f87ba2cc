// DMARC pct= sampling (RFC 7489 6.6.4) with a stub resolver: outside the sampled share the next
// policy down applies.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import type { ResolveFunction } from '../../src/dns/index.js';
import { SenderAuthentication } from '../../src/policy/index.js';
import { message } from './helpers.js';

const records: Record<string, string> = {
  'TXT pct.test': 'v=spf1 -all',
  'TXT _dmarc.pct.test': 'v=DMARC1; p=reject; pct=50',
};
const resolver = (async (name: string, type: string) => {
  const v = records[`${type} ${name}`];
  if (v) return [[v]];
  throw Object.assign(new Error(`query ${type} ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
}) as unknown as ResolveFunction;

async function verdict(random: number): Promise<string> {
  const config = parseConfig({}).inbound.authentication;
  const auth = new SenderAuthentication({ hostname: 'mx.test', config, resolver, random: () => random });
  const spf = await auth.checkSpf({ ip: '192.0.2.1', helo: 'client.example', sender: 'a@pct.test' });
  expect(spf.result).toBe('fail');
  const msg = Buffer.from(message('a@pct.test', 'bob@example.test', 'sampled'));
  const r = await auth.checkMessage(msg, { sender: 'a@pct.test', spf, seal: null });
  expect(r.dmarc).toMatchObject({ result: 'fail', policy: 'reject' });
  return r.verdict.action;
}

describe('DMARC pct=50', () => {
  it('inside the sample: rejected', async () => {
    expect(await verdict(0.1)).toBe('reject');
  });
  it('outside the sample: quarantine, which is only a tag by default', async () => {
    expect(await verdict(0.9)).toBe('accept');
  });
});
