import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { type ConfigInput, parseConfig } from '../../src/config/index.js';
import { type RunningServer, startServer } from '../../src/server/index.js';

export interface TestServer {
  server: RunningServer;
  dataDir: string;
  /** Port of the first listener of each protocol. */
  port: (protocol: 'smtp' | 'submission' | 'submissions' | 'http') => number;
  stop: () => Promise<void>;
}

/** Make a fresh temporary directory that is removed at process exit. */
export function tempDir(prefix = 'mailroom-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Start an in-process server on free loopback ports with a temporary data directory.
 * `overrides` are merged over a test config (smtp, submission and submissions listeners);
 * `opts.http` adds an HTTP API listener (HTTPS with `{ tls: true }`).
 */
export async function startTestServer(
  overrides: Partial<ConfigInput> = {},
  opts: { logTo?: NodeJS.WritableStream; now?: () => number; http?: boolean | { tls: boolean } } = {},
): Promise<TestServer> {
  const ownDir = overrides.dataDir === undefined;
  const dataDir = overrides.dataDir ?? tempDir();
  const listeners = overrides.listeners ?? [
    { protocol: 'smtp', address: '127.0.0.1', port: 0 },
    { protocol: 'submission', address: '127.0.0.1', port: 0 },
    { protocol: 'submissions', address: '127.0.0.1', port: 0 },
  ];
  if (opts.http) {
    const tls = typeof opts.http === 'object' && opts.http.tls;
    listeners.push({ protocol: 'http', address: '127.0.0.1', port: 0, ...(tls ? { tls: true } : {}) });
  }
  const config = parseConfig({
    hostname: 'mx.test',
    dataDir,
    domains: [{ name: 'example.test', transport: 'mailbox' }],
    relay: { networks: [] },
    log: { level: 'silent' },
    shutdown: { drainTimeout: 2000 },
    // Tests send mail from made-up domains over the smtp listener: sender authentication stays off
    // unless a test turns it on (by passing its own `inbound`).
    inbound: { authentication: { enabled: false } },
    ...overrides,
    listeners,
  });
  const logger = opts.logTo ? pino({ level: config.log.level }, opts.logTo) : pino({ level: config.log.level });
  const server = await startServer(config, { logger, now: opts.now });
  return {
    server,
    dataDir,
    port: (protocol) => {
      const l = server.listeners.find((x) => x.protocol === protocol);
      if (!l) throw new Error(`no ${protocol} listener`);
      return l.port;
    },
    stop: async () => {
      await server.stop('test done');
      // vitest's worker processes do not always run 'exit' handlers, so clean up here too.
      if (ownDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
