import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lines, runCli, spawnCli, workdir } from './helpers.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

describe('mailroom serve', () => {
  it('--help documents config lookup, env overrides, ports, signals and the data dir', async () => {
    const r = await runCli(['serve', '--help'], { cwd: workdir() });
    expect(r.code).toBe(0);
    for (const text of [
      '--config',
      '$MAILROOM_CONFIG',
      './mailroom.yaml',
      'MAILROOM_LIMITS__MESSAGE_SIZE=1MB',
      'camelCase',
      'YAML',
      '2525',
      '2587',
      '2465',
      '2143',
      '2993',
      '2110',
      '2995',
      '8025',
      'SIGTERM',
      'SIGINT',
      '421',
      'shutdown.drainTimeout',
      'dataDir',
    ]) {
      expect(r.stdout, text).toContain(text);
    }
  });

  it('refuses a bad configuration: problems on stderr, exit 1, nothing started', async () => {
    const cwd = workdir();
    const port = await freePort();
    fs.writeFileSync(
      path.join(cwd, 'mailroom.yaml'),
      `listeners: [{ protocol: smtp, port: ${port} }]\nlimits: { messageSize: huge }\n`,
    );
    const r = await runCli(['serve'], { cwd });
    expect(r.code).toBe(1);
    const err = lines(r.stderr);
    expect(err).toContain('limits.messageSize: "huge" is not a size, expected e.g. 64KB, 25MB');
    expect(err.at(-1)).toBe('fix the file above (see docs/configuration.md) and run `mailroom check-config`');
    expect(r.stdout).not.toMatch(/listening/);
    // It never got as far as creating the data directory or opening the port.
    expect(fs.existsSync(path.join(cwd, 'data'))).toBe(false);
    await expect(
      new Promise((resolve, reject) => net.connect(port, '127.0.0.1').on('connect', resolve).on('error', reject)),
    ).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses a --config file that does not exist', async () => {
    const cwd = workdir();
    const r = await runCli(['serve', '-c', 'missing.yaml'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('missing.yaml: cannot read the file');
  });

  it('exits 1 with one clear line when a port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const cwd = workdir(`listeners: [{ protocol: smtp, port: ${port} }]\n`);
      const r = await runCli(['serve'], { cwd });
      expect(r.code).toBe(1);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^error: cannot start: .*127\\.0\\.0\\.1:${port}`));
    } finally {
      blocker.close();
    }
  });

  it('starts, logs its listeners as JSON, and stops cleanly on SIGTERM', async () => {
    const cwd = workdir(
      [
        'hostname: mx.test.example',
        'listeners:',
        '  - { protocol: smtp, port: 0 }',
        '  - { protocol: submission, port: 0 }',
        'log: { level: info }',
        'shutdown: { drainTimeout: 2s }',
      ].join('\n'),
    );
    const child = spawnCli(['serve'], { cwd });
    child.stdin.end();
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    type Ready = { msg: string; listeners: { protocol: string; address: string; port: number }[] };
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`never ready; stdout: ${stdout} stderr: ${stderr}`)), 20_000);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        const line = lines(stdout)
          .map((l) => JSON.parse(l) as Ready)
          .find((l) => l.msg.startsWith('mailroom ready'));
        if (line) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      exited.then(() => reject(new Error(`exited early; stdout: ${stdout} stderr: ${stderr}`)));
    });
    expect(ready.listeners.map((l) => l.protocol).sort()).toEqual(['smtp', 'submission']);
    const smtp = ready.listeners.find((l) => l.protocol === 'smtp')!;
    expect(smtp.port).toBeGreaterThan(0);
    expect(ready.msg).toContain(`smtp 127.0.0.1:${smtp.port}`);

    const greeting = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(smtp.port, '127.0.0.1');
      sock.setEncoding('utf8').once('data', (d: string) => {
        sock.destroy();
        resolve(d);
      });
      sock.on('error', reject);
    });
    expect(greeting).toMatch(/^220 /);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lines(stdout).some((l) => (JSON.parse(l) as { msg: string }).msg === 'stopped')).toBe(true);
  });
});
