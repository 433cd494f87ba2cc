// Small pieces of the inbound pipeline on their own: header surgery, DNS names, verdict folding, limits.
import { describe, expect, it } from 'vitest';
import { ConnectionLimiter } from '../../src/net/limits.js';
import {
  ACCEPT,
  authservId,
  clientNetwork,
  combine,
  dnsblName,
  removeForgedResults,
  runChecks,
  type Verdict,
} from '../../src/policy/index.js';
import { reply } from '../../src/smtp/reply.js';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'));

describe('removeForgedResults', () => {
  it('drops our fields (folded ones whole, any case, comments ignored) and keeps the rest and the body', () => {
    const msg = crlf([
      'Received: from a by b',
      'Authentication-Results: mx.test; spf=pass',
      'Authentication-Results: (comment) MX.Test;',
      '\tdkim=pass header.d=x',
      'Authentication-Results: other.test; dkim=pass',
      'Subject: hi',
      '',
      'Authentication-Results: mx.test; in the body stays',
      '',
    ]);
    const out = removeForgedResults(msg, 'mx.test');
    expect(out.removed).toBe(2);
    expect(out.message.toString()).toBe(
      crlf([
        'Received: from a by b',
        'Authentication-Results: other.test; dkim=pass',
        'Subject: hi',
        '',
        'Authentication-Results: mx.test; in the body stays',
        '',
      ]).toString(),
    );
  });

  it('returns the same buffer when there is nothing to remove, and copes with no header at all', () => {
    const msg = crlf(['Subject: x', '', 'body']);
    expect(removeForgedResults(msg, 'mx.test').message).toBe(msg);
    const bare = crlf(['', 'only a body']);
    expect(removeForgedResults(bare, 'mx.test').message).toBe(bare);
  });

  it('authservId takes the first token, without comments or version', () => {
    expect(authservId(' mx.test 1; spf=pass')).toBe('mx.test');
    expect(authservId('(x) MX.TEST;')).toBe('mx.test');
    expect(authservId('mx.test')).toBe('mx.test');
  });
});

describe('DNS names', () => {
  it('dnsblName reverses IPv4 octets and IPv6 nibbles, and unwraps IPv4-mapped addresses', () => {
    expect(dnsblName('192.0.2.99', 'bl.test')).toBe('99.2.0.192.bl.test');
    expect(dnsblName('::ffff:192.0.2.99', 'bl.test')).toBe('99.2.0.192.bl.test');
    expect(dnsblName('2001:db8::1', 'bl.test')).toBe(
      `1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test`,
    );
  });
  it('clientNetwork is the /24 or the /64', () => {
    expect(clientNetwork('192.0.2.99')).toBe('192.0.2.0/24');
    expect(clientNetwork('::ffff:192.0.2.99')).toBe('192.0.2.0/24');
    expect(clientNetwork('2001:db8:1:2:3::9')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:db8::9')).toBe('2001:db8:0:0::/64');
  });
});

describe('verdicts', () => {
  const tempfail: Verdict = { action: 'tempfail', reply: reply(451, '4.7.1', 'later'), headers: ['X-A: 1\r\n'] };
  const reject: Verdict = { action: 'reject', reply: reply(550, '5.7.1', 'no') };
  const hold: Verdict = { action: 'quarantine', reason: 'hold', headers: ['X-B: 2\r\n'] };
  it('combine: the most severe action wins, every header is kept', () => {
    const v = combine([ACCEPT, hold, tempfail]);
    expect(v.action).toBe('tempfail');
    expect(v.headers).toEqual(['X-B: 2\r\n', 'X-A: 1\r\n']);
    expect(combine([hold, reject, tempfail]).reply?.code).toBe(550);
    expect(combine([]).action).toBe('accept');
  });
  it('runChecks stops at the first refusal', async () => {
    const ran: string[] = [];
    const check = (name: string, v: Verdict) => async () => {
      ran.push(name);
      return v;
    };
    const v = await runChecks([check('a', hold), check('b', tempfail), check('c', ACCEPT)], null);
    expect(ran).toEqual(['a', 'b']);
    expect(v.action).toBe('tempfail');
  });
});

describe('ConnectionLimiter rate', () => {
  it('counts new connections per address in a sliding window; refused ones are not counted', () => {
    let now = 0;
    const l = new ConnectionLimiter(100, 100, { count: 2, per: 60_000 }, () => now);
    expect(l.acquire('a')).toBe('ok');
    now = 30_000;
    expect(l.acquire('a')).toBe('ok');
    expect(l.acquire('a')).toBe('rate');
    expect(l.acquire('b')).toBe('ok');
    now = 60_001;
    expect(l.acquire('a')).toBe('ok');
    expect(l.acquire('a')).toBe('rate');
    now = 90_001;
    expect(l.acquire('a')).toBe('ok');
    expect(l.open).toBe(5);
  });
  it('exempt addresses are not rate limited', () => {
    const l = new ConnectionLimiter(100, 100, { count: 1, per: 60_000, exempt: (ip) => ip === 'a' }, () => 0);
    expect([l.acquire('a'), l.acquire('a'), l.acquire('b'), l.acquire('b')]).toEqual(['ok', 'ok', 'ok', 'rate']);
  });
});
