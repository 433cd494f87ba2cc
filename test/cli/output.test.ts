import { describe, expect, it } from 'vitest';
import { formatSize, formatTable } from '../../src/cli/output.js';
import { parseAddress, parseAliasSource, parseDomain, parseSize } from '../../src/cli/validate.js';

describe('formatTable', () => {
  const headers = ['ADDRESS', 'QUOTA'];
  const rows = [
    ['alice@example.com', '2 GB'],
    ['a-very-long-local-part-indeed@subdomain.example.com', '-'],
  ];

  it('aligns columns two spaces apart and keeps whole values without a width', () => {
    expect(formatTable(headers, rows)).toBe(
      [
        'ADDRESS                                              QUOTA',
        'alice@example.com                                    2 GB',
        'a-very-long-local-part-indeed@subdomain.example.com  -',
        '',
      ].join('\n'),
    );
  });

  it('shortens the widest column with … to fit the terminal', () => {
    const out = formatTable(headers, rows, 30);
    for (const line of out.trimEnd().split('\n')) expect([...line].length).toBeLessThanOrEqual(30);
    expect(out).toContain('a-very-long-local-part…  -');
    expect(out).toContain('alice@example.com        2 GB');
  });

  it('never shrinks a column below a readable minimum', () => {
    const out = formatTable(headers, rows, 5);
    expect(out.split('\n')[1]).toMatch(/^alice…\s+2 GB$/);
  });
});

describe('formatSize', () => {
  it('uses binary units like the config file', () => {
    expect(formatSize(512)).toBe('512 B');
    expect(formatSize(500 * 1024 * 1024)).toBe('500 MB');
    expect(formatSize(1.5 * 1024 * 1024)).toBe('1.5 MB');
    expect(formatSize(2 * 1024 ** 3)).toBe('2 GB');
  });
});

describe('argument checks', () => {
  it('normalizes domains (case, trailing dot, IDN) and checks transports', () => {
    expect(parseDomain('Example.COM.')).toEqual({ name: 'example.com', transport: 'mailbox' });
    expect(parseDomain('bücher.example').name).toBe('xn--bcher-kva.example');
    expect(parseDomain('example.com', 'relay:smtp.example.net:587').transport).toBe('relay:smtp.example.net:587');
    expect(() => parseDomain('no spaces.example')).toThrow(/must be a DNS host name/);
    expect(() => parseDomain('example.com', 'smtp')).toThrow(/transport "smtp" must be one of/);
  });

  it('keeps the local part as typed and lower-cases the domain', () => {
    expect(parseAddress('Alice.Smith+tag@Example.COM')).toEqual({
      address: 'Alice.Smith+tag@example.com',
      local: 'Alice.Smith+tag',
      domain: 'example.com',
    });
    for (const bad of [
      'alice',
      '@example.com',
      'a b@example.com',
      '.a@example.com',
      'a..b@example.com',
      'a@',
      'a@b@',
    ]) {
      expect(() => parseAddress(bad), bad).toThrow(/is not a mail address|must be a DNS host name/);
    }
  });

  it('accepts catch-all alias sources', () => {
    expect(parseAliasSource('@Example.com')).toEqual({ source: '@example.com', domain: 'example.com' });
    expect(parseAliasSource('Info@example.com')).toEqual({ source: 'info@example.com', domain: 'example.com' });
  });

  it('reads sizes like the config file', () => {
    expect(parseSize('1048576', 'quota')).toBe(1048576);
    expect(parseSize('25MB', 'quota')).toBe(25 * 1024 * 1024);
    expect(() => parseSize('lots', 'quota')).toThrow('quota "lots" is not a size');
  });
});
