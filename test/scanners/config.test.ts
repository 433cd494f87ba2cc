import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';

const problems = (scanning: unknown): string => {
  try {
    parseConfig({ scanning });
    return '';
  } catch (err) {
    return String((err as Error).message);
  }
};

describe('scanning configuration', () => {
  it('defaults: no scanner, a one-minute bound', () => {
    expect(parseConfig({}).scanning).toEqual({ milters: [], timeout: 60_000 });
  });

  it('fills each scanner’s defaults (accept on failure)', () => {
    const s = parseConfig({
      scanning: {
        rspamd: { url: 'http://127.0.0.1:11333/' },
        clamd: { address: '/run/clamav/clamd.ctl', maxSize: '10MB' },
        milters: [{ address: 'inet:8891@127.0.0.1', timeout: '5s', failure: 'tempfail' }],
      },
    }).scanning;
    expect(s.rspamd).toEqual({ url: 'http://127.0.0.1:11333/', timeout: 15_000, failure: 'accept' });
    expect(s.clamd).toEqual({
      address: '/run/clamav/clamd.ctl',
      timeout: 30_000,
      failure: 'accept',
      maxSize: 10 * 1024 ** 2,
    });
    expect(s.milters).toEqual([{ address: 'inet:8891@127.0.0.1', timeout: 5000, failure: 'tempfail' }]);
  });

  it('names what is wrong', () => {
    expect(problems({ rspamd: { url: 'ftp://x/' } })).toContain(
      'scanning.rspamd.url: expected an http:// or https:// URL',
    );
    expect(problems({ clamd: { address: 'clamd' } })).toContain('scanning.clamd.address: expected host:port');
    expect(problems({ milters: [{ address: 'x:y' }] })).toContain('scanning.milters.0.address');
    expect(problems({ clamd: { address: '127.0.0.1:3310', failure: 'drop' } })).toContain('scanning.clamd.failure');
  });
});
