import { makeCredentials } from '../../src/auth/credentials.js';
import type { ConfigInput } from '../../src/config/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** A test server with SMTP, POP3 (STLS) and POP3S listeners on free loopback ports. */
export interface Pop3Server extends TestServer {
  pop3: number;
  pop3s: number;
  /** Add a local user with a password (and its SCRAM keys; CRAM-MD5 too when asked). */
  addUser(address: string, password: string, opts?: { cram?: boolean }): Promise<void>;
}

/** Start one; `pop3` options go to the `pop3` config section. */
export async function startPop3Server(
  pop3: NonNullable<ConfigInput['pop3']> = {},
  overrides: Partial<ConfigInput> = {},
): Promise<Pop3Server> {
  const t = await startTestServer({
    listeners: [
      { protocol: 'smtp', address: '127.0.0.1', port: 0 },
      { protocol: 'submission', address: '127.0.0.1', port: 0 },
      { protocol: 'submissions', address: '127.0.0.1', port: 0 },
      { protocol: 'pop3', address: '127.0.0.1', port: 0 },
      { protocol: 'pop3s', address: '127.0.0.1', port: 0 },
    ],
    relay: { networks: ['127.0.0.0/8'] },
    pop3,
    ...overrides,
  });
  const port = (p: string) => {
    const l = t.server.listeners.find((x) => x.protocol === p);
    if (!l) throw new Error(`no ${p} listener`);
    return l.port;
  };
  return {
    ...t,
    pop3: port('pop3'),
    pop3s: port('pop3s'),
    addUser: async (address, password, opts = {}) => {
      const c = await makeCredentials(password, opts);
      await t.server.resources.store.addUser(address, c.passwordHash, { scram: c.scram, cramSecret: c.cramSecret });
    },
  };
}
