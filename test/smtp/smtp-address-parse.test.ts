import { describe, expect, it } from 'vitest';
import { isRoutingTrick, type Mailbox, type PathOptions, parsePath } from '../../src/smtp/address.js';

const ascii: PathOptions = { allowNull: false, smtputf8: false };
const utf8: PathOptions = { allowNull: false, smtputf8: true };

function mailbox(text: string, opts: PathOptions = ascii): Mailbox {
  const r = parsePath(text, opts);
  if (!r.ok) throw new Error(`expected ${text} to parse, got ${r.enhanced} ${r.text}`);
  if (!r.mailbox) throw new Error(`expected a mailbox for ${text}`);
  return r.mailbox;
}

function error(text: string, opts: PathOptions = ascii): { enhanced: string; text: string } {
  const r = parsePath(text, opts);
  if (r.ok) throw new Error(`expected ${text} to fail, got ${JSON.stringify(r.mailbox)}`);
  return { enhanced: r.enhanced, text: r.text };
}

describe('parsePath: ordinary mailboxes', () => {
  it('parses a plain address and lower-cases only the domain', () => {
    expect(mailbox('<John.Doe@Example.COM>')).toEqual({
      local: 'John.Doe',
      domain: 'example.com',
      address: 'John.Doe@example.com',
      utf8: false,
      sourceRoute: [],
      quoted: false,
      literal: false,
    });
  });

  it('accepts every atext character in the local part', () => {
    const local = "a!#$%&'*+-/=?^_`{|}~9";
    expect(mailbox(`<${local}@x.test>`).local).toBe(local);
  });

  it('accepts hyphens inside labels and single-character labels', () => {
    expect(mailbox('<u@a-b.c-d.e>').domain).toBe('a-b.c-d.e');
    expect(mailbox('<u@x>').domain).toBe('x');
  });

  it('rejects bad dot-strings', () => {
    for (const t of ['<.u@x.test>', '<u.@x.test>', '<u..v@x.test>', '<u v@x.test>', '<u(c)@x.test>', '<u,v@x.test>']) {
      expect(error(t).enhanced, t).toBe('5.1.3');
    }
  });

  it('rejects bad domains', () => {
    for (const t of [
      '<u@>',
      '<u@-x.test>',
      '<u@x-.test>',
      '<u@x..test>',
      '<u@x.test.>',
      '<u@.x.test>',
      '<u@x_y.test>',
      '<u@x test>',
      '<u>',
      '<@x.test>',
    ]) {
      expect(error(t), t).toMatchObject({ enhanced: '5.1.3' });
    }
  });

  it('rejects labels longer than 63 octets', () => {
    expect(mailbox(`<u@${'a'.repeat(63)}.test>`).domain).toHaveLength(68);
    expect(error(`<u@${'a'.repeat(64)}.test>`).enhanced).toBe('5.1.3');
  });
});

describe('parsePath: brackets and the null path', () => {
  it('requires angle brackets', () => {
    expect(error('user@x.test').text).toMatch(/<>/);
    expect(error('<user@x.test').enhanced).toBe('5.1.3');
    expect(error('user@x.test>').enhanced).toBe('5.1.3');
    expect(error(' <user@x.test>').enhanced).toBe('5.1.3');
    expect(error('<user@x.test> ').enhanced).toBe('5.1.3');
    expect(error('').enhanced).toBe('5.1.3');
    expect(error('<').enhanced).toBe('5.1.3');
  });

  it('accepts <> only when allowed', () => {
    expect(parsePath('<>', { allowNull: true, smtputf8: false })).toEqual({ ok: true, mailbox: null });
    expect(error('<>').enhanced).toBe('5.1.3');
  });

  it('accepts a bare <Postmaster> only when asked to', () => {
    const opts = { ...ascii, allowBarePostmaster: true };
    expect(mailbox('<PostMaster>', opts)).toMatchObject({ local: 'PostMaster', domain: '', address: 'PostMaster' });
    expect(error('<Postmaster>').enhanced).toBe('5.1.3');
    expect(error('<postmasterx>', opts).enhanced).toBe('5.1.3');
  });
});

describe('parsePath: relay tricks parse, and isRoutingTrick spots them', () => {
  it('user%other.test@local', () => {
    const m = mailbox('<user%other.test@local.test>');
    expect(m).toMatchObject({ local: 'user%other.test', domain: 'local.test', quoted: false });
    expect(isRoutingTrick(m)).toBe(true);
  });

  it('other!user@local', () => {
    const m = mailbox('<other!user@local.test>');
    expect(m.local).toBe('other!user');
    expect(isRoutingTrick(m)).toBe(true);
  });

  it('"user@other"@local keeps the quotes', () => {
    const m = mailbox('<"user@other"@local.test>');
    expect(m).toMatchObject({ local: '"user@other"', address: '"user@other"@local.test', quoted: true });
    expect(isRoutingTrick(m)).toBe(true);
  });

  it('@a,@b:user@other parses with the route returned and ignored', () => {
    const m = mailbox('<@A.test,@b.test:user@other.test>');
    expect(m).toMatchObject({ sourceRoute: ['a.test', 'b.test'], address: 'user@other.test' });
    expect(isRoutingTrick(m)).toBe(true);
  });

  it('user@other@local is an error', () => {
    expect(error('<user@other@local.test>').enhanced).toBe('5.1.3');
  });

  it('a plain address is not a trick', () => {
    expect(isRoutingTrick(mailbox('<user@local.test>'))).toBe(false);
    expect(isRoutingTrick(mailbox('<"user name"@local.test>'))).toBe(false);
  });

  it('rejects malformed source routes', () => {
    for (const t of ['<@a.test:>', '<@a.test>', '<@a.test,b.test:u@x.test>', '<@:u@x.test>', '<@[1.2.3.4]:u@x.test>']) {
      expect(error(t).enhanced, t).toBe('5.1.3');
    }
  });
});

describe('parsePath: quoted local parts', () => {
  it('drops quotes that were not needed', () => {
    const m = mailbox('<"john.doe"@x.test>');
    expect(m).toMatchObject({ local: 'john.doe', address: 'john.doe@x.test', quoted: true });
  });

  it('keeps quotes and escapes as given when needed', () => {
    expect(mailbox('<"john doe"@x.test>').local).toBe('"john doe"');
    expect(mailbox('<"a\\"b"@x.test>').local).toBe('"a\\"b"');
    expect(mailbox('<"a>b"@x.test>').local).toBe('"a>b"');
  });

  it('rejects unterminated, empty and control-character quoted strings', () => {
    expect(error('<"abc@x.test>').enhanced).toBe('5.1.3');
    expect(error('<""@x.test>').enhanced).toBe('5.1.3');
    expect(error('<"a\tb"@x.test>').enhanced).toBe('5.1.3');
    expect(error('<"a\\\tb"@x.test>').enhanced).toBe('5.1.3');
    expect(error('<"ab"c@x.test>').enhanced).toBe('5.1.3');
  });
});

describe('parsePath: address literals', () => {
  it('accepts IPv4 literals', () => {
    expect(mailbox('<u@[192.0.2.1]>')).toMatchObject({ domain: '[192.0.2.1]', literal: true });
  });

  it('accepts IPv6 literals and normalizes the tag', () => {
    expect(mailbox('<u@[ipv6:2001:DB8::1]>')).toMatchObject({ domain: '[IPv6:2001:db8::1]', literal: true });
    expect(mailbox('<u@[IPv6:::ffff:192.0.2.1]>').literal).toBe(true);
  });

  it('rejects malformed literals', () => {
    for (const t of [
      '<u@[256.0.0.1]>',
      '<u@[1.2.3]>',
      '<u@[1.2.3.4>',
      '<u@[2001:db8::1]>',
      '<u@[IPv6:fe80::1%eth0]>',
      '<u@[IPv6:zz::1]>',
      '<u@[x-tag:abc]>',
    ]) {
      expect(error(t).enhanced, t).toBe('5.1.3');
    }
  });
});

describe('parsePath: UTF-8 (SMTPUTF8)', () => {
  it('rejects non-ASCII without SMTPUTF8 with 5.6.7', () => {
    for (const t of ['<jörg@x.test>', '<u@bücher.test>', '<"ü"@x.test>']) {
      expect(error(t)).toEqual({ enhanced: '5.6.7', text: 'Address contains non-ASCII characters; SMTPUTF8 required' });
    }
  });

  it('accepts UTF-8 local parts and U-labels with SMTPUTF8', () => {
    const m = mailbox('<jörg@Bücher.TEST>', utf8);
    expect(m).toMatchObject({ local: 'jörg', domain: 'bücher.test', utf8: true });
    expect(mailbox('<用户@例子.测试>', utf8).utf8).toBe(true);
    expect(mailbox('<"ü x"@x.test>', utf8).local).toBe('"ü x"');
  });

  it('marks pure-ASCII addresses as not utf8 even under SMTPUTF8', () => {
    expect(mailbox('<u@x.test>', utf8).utf8).toBe(false);
  });

  it('rejects broken or suspicious UTF-8', () => {
    expect(error('<a\ufffdb@x.test>', utf8).enhanced).toBe('5.1.3');
    expect(error('<a\ud800b@x.test>', utf8).enhanced).toBe('5.1.3');
    expect(error('<a\u0085b@x.test>', utf8).enhanced).toBe('5.1.3');
    expect(error('<u@a\u3002test>', utf8).enhanced).toBe('5.1.3');
    expect(error('<u@a\u00a0b.test>', utf8).enhanced).toBe('5.1.3');
  });
});

describe('parsePath: length limits (octets)', () => {
  it('allows a 64-octet local part and rejects 65', () => {
    expect(mailbox(`<${'a'.repeat(64)}@x.test>`).local).toHaveLength(64);
    expect(error(`<${'a'.repeat(65)}@x.test>`)).toEqual({ enhanced: '5.1.3', text: 'Local part too long' });
  });

  it('counts octets, not characters', () => {
    // 32 two-octet characters are 64 octets; one more ASCII letter makes 65.
    expect(mailbox(`<${'é'.repeat(32)}@x.test>`, utf8).utf8).toBe(true);
    expect(error(`<${'é'.repeat(32)}a@x.test>`, utf8).text).toBe('Local part too long');
  });

  it('rejects a domain over 255 octets', () => {
    const domain = Array.from({ length: 4 }, () => 'a'.repeat(63)).join('.'); // 255
    expect(error(`<u@${domain}x>`).text).toBe('Domain too long');
  });

  it('allows a 256-octet path and rejects 257', () => {
    const label = 'a'.repeat(61);
    const domain = `${label}.${label}.${label}.${label}.b`; // 249 octets
    const tooLong = `<${'u'.repeat(5)}@${domain}>`; // 1 + 5 + 1 + 249 + 1 = 257
    expect(error(tooLong)).toEqual({ enhanced: '5.1.3', text: 'Address too long' });
    expect(mailbox(`<${'u'.repeat(4)}@${domain}>`).domain).toBe(domain);
  });
});
