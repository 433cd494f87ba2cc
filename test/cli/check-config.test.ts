import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lines, runCli, workdir } from './helpers.js';

const HINT = 'fix the file above (see docs/configuration.md) and run `mailroom check-config`';

describe('mailroom check-config', () => {
  it('accepts no file at all and reports the defaults', async () => {
    const cwd = workdir();
    const r = await runCli(['check-config'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toBe('configuration OK (defaults)');
    expect(r.stdout).toContain(`data dir   ${path.join(cwd, 'data')}`);
    expect(r.stdout).toContain('smtp 127.0.0.1:2525');
    expect(r.stdout).toContain('localhost (mailbox)');
  });

  it('finds ./mailroom.yaml and summarizes it', async () => {
    const cwd = workdir(
      [
        'hostname: mx.example.com',
        'listeners:',
        '  - { protocol: smtp, address: 0.0.0.0, port: 25 }',
        '  - { protocol: imaps, port: 993 }',
        'domains:',
        '  - { name: Example.COM }',
        '  - { name: lists.example.com, transport: "relay:10.0.0.5:2525" }',
      ].join('\n'),
    );
    const r = await runCli(['check-config'], { cwd });
    expect(r.code).toBe(0);
    expect(lines(r.stdout)[0]).toBe(`configuration OK (${path.join(cwd, 'mailroom.yaml')})`);
    expect(r.stdout).toMatch(/hostname\s+mx\.example\.com/);
    expect(r.stdout).toContain('smtp 0.0.0.0:25, imaps 127.0.0.1:993');
    expect(r.stdout).toContain('example.com (mailbox), lists.example.com (relay:10.0.0.5:2525)');
  });

  it('follows --config, then $MAILROOM_CONFIG, before ./mailroom.yaml', async () => {
    const cwd = workdir('hostname: local.example\n');
    const other = path.join(workdir('hostname: other.example\n'), 'mailroom.yaml');
    const third = path.join(workdir('hostname: third.example\n'), 'mailroom.yaml');
    const viaEnv = await runCli(['check-config'], { cwd, env: { MAILROOM_CONFIG: other } });
    expect(viaEnv.stdout).toContain(`configuration OK (${other})`);
    expect(viaEnv.stdout).toContain('other.example');
    const viaFlag = await runCli(['check-config', '-c', third], { cwd, env: { MAILROOM_CONFIG: other } });
    expect(viaFlag.stdout).toContain(`configuration OK (${third})`);
  });

  it('applies environment overrides (--json shows the effective values)', async () => {
    const cwd = workdir('limits: { messageSize: 10MB }\n');
    const r = await runCli(['check-config', '--json'], {
      cwd,
      env: { MAILROOM_LIMITS__MESSAGE_SIZE: '1MB', MAILROOM_QUEUE__RETRY: '[1m, 1h]', MAILROOM_MODE: 'sandbox' },
    });
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.ok).toBe(true);
    expect(json.source).toBe(path.join(cwd, 'mailroom.yaml'));
    expect(json.config.limits.messageSize).toBe(1024 * 1024);
    expect(json.config.queue.retry).toEqual([60_000, 3_600_000]);
    expect(json.config.mode).toBe('sandbox');
  });

  it('hides a database password in --json output', async () => {
    const cwd = workdir('store: { driver: postgres, url: "postgres://mail:hunter2@db.example.com/mailroom" }\n');
    const r = await runCli(['check-config', '--json'], { cwd });
    expect(r.stdout).not.toContain('hunter2');
    expect(JSON.parse(r.stdout).config.store.url).toContain('db.example.com');
  });

  const bad: [string, string, string | RegExp][] = [
    ['an unknown key', 'hostnme: mx.example.com', '(top level): unknown key "hostnme", expected only the keys'],
    ['an unknown nested key', 'limits: { maxSize: 5 }', 'limits: unknown key "maxSize"'],
    [
      'a wrong type',
      'limits: { recipients: many }',
      'limits.recipients: is missing or has the wrong type, expected number',
    ],
    ['a value outside an enum', 'mode: test', 'mode: is not allowed, expected one of "normal", "sandbox"'],
    ['a bad duration', 'queue: { lifetime: 5 days }', 'queue.lifetime: "5 days" is not a duration, expected e.g. 30s'],
    ['a bad size', 'limits: { messageSize: huge }', 'limits.messageSize: "huge" is not a size, expected e.g. 64KB'],
    [
      'a number too small',
      'limits: { commandLength: 100 }',
      'limits.commandLength: is too small, expected at least 512',
    ],
    ['a port too big', 'listeners: [{ protocol: smtp, port: 70000 }]', 'listeners.0.port: is too big'],
    ['a missing port', 'listeners: [{ protocol: smtp }]', 'listeners.0.port: is missing or has the wrong type'],
    ['an unknown protocol', 'listeners: [{ protocol: smtpx, port: 25 }]', /^listeners\.0\.protocol: is not allowed/],
    ['a bad host name', 'hostname: "mx example"', 'hostname: must be a DNS host name such as mx.example.com'],
    ['a bad transport', 'domains: [{ name: example.com, transport: pigeon }]', 'domains.0.transport: must be one of'],
    ['a bad relay network', 'relay: { networks: [everyone] }', 'relay.networks.0: must be an IP address or CIDR'],
    ['an unknown store driver', 'store: { driver: mysql }', /^store(\.driver)?: /],
    [
      'a reused listener port',
      'listeners: [{ protocol: smtp, port: 2525 }, { protocol: http, port: 2525 }]',
      'listeners.1.port: 127.0.0.1:2525 is already used by listeners.0',
    ],
    [
      'a domain listed twice',
      'domains: [{ name: example.com }, { name: EXAMPLE.com }]',
      'domains.1.name: "example.com" is listed twice',
    ],
    [
      'missing TLS files',
      'tls: { cert: /nonexistent/cert.pem, key: /nonexistent/key.pem }',
      'tls.cert: file /nonexistent/cert.pem does not exist',
    ],
    ['YAML syntax', 'listeners: [', /^yaml: /],
    ['a top level that is not a mapping', '- smtp', '(top level): is not a mapping'],
  ];

  describe.concurrent('rejects a configuration with', () => {
    it.each(bad)('%s', async (_what, yaml, expected) => {
      const cwd = workdir(`${yaml}\n`);
      const r = await runCli(['check-config'], { cwd });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const err = lines(r.stderr);
      expect(err[0]).toBe(`invalid configuration in ${path.join(cwd, 'mailroom.yaml')}:`);
      const problems = err.slice(1, -1);
      expect(problems.length).toBeGreaterThan(0);
      for (const p of problems) expect(p).toMatch(/^[\w.()\s]+: \S/);
      if (typeof expected === 'string')
        expect(
          problems.some((p) => p.startsWith(expected)),
          r.stderr,
        ).toBe(true);
      else
        expect(
          problems.some((p) => expected.test(p)),
          r.stderr,
        ).toBe(true);
      expect(err.at(-1)).toBe(HINT);
    });
  });

  it('lists every problem at once', async () => {
    const cwd = workdir('mode: test\nlimits: { messageSize: huge, recipients: 0 }\nbogus: 1\n');
    const r = await runCli(['check-config'], { cwd });
    expect(r.code).toBe(1);
    const err = lines(r.stderr);
    expect(err).toHaveLength(1 + 4 + 1);
    expect(err.some((l) => l.startsWith('mode: '))).toBe(true);
    expect(err.some((l) => l.startsWith('limits.messageSize: '))).toBe(true);
    expect(err.some((l) => l.startsWith('limits.recipients: is too small'))).toBe(true);
    expect(err.some((l) => l.startsWith('(top level): unknown key "bogus"'))).toBe(true);
  });

  it('blames a bad environment override when there is no file', async () => {
    const cwd = workdir();
    const r = await runCli(['check-config'], { cwd, env: { MAILROOM_LIMITS__MESSAGE_SIZE: 'huge' } });
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([
      'invalid configuration:',
      'limits.messageSize: "huge" is not a size, expected e.g. 64KB, 25MB',
      'fix the MAILROOM_* environment variables above (see docs/configuration.md) and run `mailroom check-config`',
    ]);
  });

  it('names the overrides when a file is used too', async () => {
    const cwd = workdir('hostname: mx.example.com\n');
    const r = await runCli(['check-config'], { cwd, env: { MAILROOM_LIMITS__RECIPIENTS: 'lots' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('limits.recipients: is missing or has the wrong type');
    expect(r.stderr).toContain('MAILROOM_LIMITS__RECIPIENTS');
    expect(lines(r.stderr).at(-1)).toBe(HINT);
  });

  it('fails when --config names a missing file', async () => {
    const cwd = workdir();
    const r = await runCli(['check-config', '--config', 'nope.yaml'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path.join(cwd, 'nope.yaml')}: cannot read the file`);
  });

  it('--json reports problems on stdout and exits 1', async () => {
    const cwd = workdir('mode: test\n');
    const r = await runCli(['check-config', '--json'], { cwd });
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.ok).toBe(false);
    expect(json.problems).toEqual(['mode: is not allowed, expected one of "normal", "sandbox"']);
  });
});
