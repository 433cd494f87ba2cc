import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsResolver } from '../../src/dns/index.js';
import { MtaStsPolicies, mxMatches, parsePolicy } from '../../src/transports/mta-sts.js';
import { makeTestCerts } from '../helpers/certs.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { mailboxTexts, relayThrough, waitFor } from '../helpers/mail.js';
import { freePort } from '../helpers/process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// MTA-STS (RFC 8461) against real sockets: a policy server on 127.0.0.8 with a certificate from a
// test CA, and two peer mailrooms as MX hosts: mx.far.test (127.0.0.12) with a valid certificate from
// that CA, mx.badcert.test (127.0.0.13) with a certificate for another name.

let dns: TestDnsServer;
let web: https.Server;
let good: TestServer;
let bad: TestServer;
let us: TestServer;
let certs: string;

let webPort: number;
/** Policy fetches per host name. */
const hits: Record<string, number> = {};
const policies: Record<string, string> = {
  'mta-sts.far.test': 'version: STSv1\r\nmode: enforce\r\nmx: mx.far.test\r\nmax_age: 86400\r\n',
  'mta-sts.stray.test': 'version: STSv1\r\nmode: enforce\r\nmx: mx.far.test\r\nmax_age: 86400\r\n',
  'mta-sts.badcert.test': 'version: STSv1\r\nmode: enforce\r\nmx: *.badcert.test\r\nmax_age: 86400\r\n',
  'mta-sts.trial.test': 'version: STSv1\r\nmode: testing\r\nmx: mx.far.test\r\nmax_age: 86400\r\n',
};

async function delivered(t: TestServer, to: string, subject: string): Promise<void> {
  await waitFor(async () => (await mailboxTexts(t, to)).find((m) => m.includes(subject)), `delivery of "${subject}"`);
}

async function deferred(id: string): Promise<string> {
  const [r] = await waitFor(async () => {
    const rs = await us.server.resources.store.getRecipients(id);
    return rs[0]?.state === 'deferred' ? rs : null;
  }, 'deferred');
  return r?.lastReply ?? '';
}

beforeAll(async () => {
  const made = makeTestCerts('mailroom-mta-sts-');
  certs = made.dir;
  const leaf = made.leaf;
  const policyCert = leaf('policy', [...Object.keys(policies), 'mta-sts.cache.test']);
  const { cert, key } = leaf('mx', ['mx.far.test']);
  const mxCert = { cert, key };
  const other = leaf('other', ['other.test']);
  const otherCert = { cert: other.cert, key: other.key };

  webPort = await freePort();
  web = https.createServer(
    { cert: fs.readFileSync(policyCert.cert), key: fs.readFileSync(policyCert.key) },
    (req, res) => {
      const host = (req.headers.host ?? '').toLowerCase();
      hits[host] = (hits[host] ?? 0) + 1;
      const body = policies[host];
      if (req.url !== '/.well-known/mta-sts.txt' || !body) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
    },
  );
  await new Promise<void>((resolve) => web.listen(webPort, '127.0.0.8', resolve));

  const port = await freePort();
  good = await startTestServer({
    hostname: 'mx.far.test',
    listeners: [{ protocol: 'smtp', address: '127.0.0.12', port }],
    domains: [
      { name: 'far.test', transport: 'mailbox' },
      { name: 'plain.test', transport: 'mailbox' },
    ],
    tls: mxCert,
  });
  bad = await startTestServer({
    hostname: 'mx.badcert.test',
    listeners: [{ protocol: 'smtp', address: '127.0.0.13', port }],
    domains: [
      { name: 'badcert.test', transport: 'mailbox' },
      { name: 'trial.test', transport: 'mailbox' },
    ],
    tls: otherCert,
  });
  for (const a of ['friend@far.test', 'friend@plain.test']) await good.server.resources.store.addUser(a, '!');
  for (const a of ['friend@badcert.test', 'friend@trial.test']) await bad.server.resources.store.addUser(a, '!');

  const sts = (id: string) => [{ type: 'TXT' as const, data: `v=STSv1; id=${id}` }];
  const mx = (exchange: string) => [{ type: 'MX' as const, data: { preference: 10, exchange } }];
  const policyHost = [{ type: 'A' as const, data: '127.0.0.8' }];
  dns = await startDnsServer({
    'mx.far.test': [{ type: 'A', data: '127.0.0.12' }],
    'mx.badcert.test': [{ type: 'A', data: '127.0.0.13' }],
    'far.test': mx('mx.far.test'),
    '_mta-sts.far.test': sts('20261123'),
    'mta-sts.far.test': policyHost,
    // The policy names mx.far.test, DNS points at another host: enforcing refuses it.
    'stray.test': mx('mx.badcert.test'),
    '_mta-sts.stray.test': sts('1'),
    'mta-sts.stray.test': policyHost,
    'badcert.test': mx('mx.badcert.test'),
    '_mta-sts.badcert.test': sts('1'),
    'mta-sts.badcert.test': policyHost,
    'trial.test': mx('mx.badcert.test'),
    '_mta-sts.trial.test': sts('1'),
    'mta-sts.trial.test': policyHost,
    'plain.test': mx('mx.far.test'),
    'mta-sts.cache.test': policyHost,
  });
  us = await startTestServer({
    hostname: 'mx.local.test',
    relay: { networks: ['127.0.0.0/8'] },
    dns: { servers: [dns.server] },
    delivery: { port, connectTimeout: 2000, mtaSts: { ca: path.join(certs, 'ca.pem'), port: webPort, timeout: 3000 } },
    queue: { retry: ['1h'] },
  });
  await us.server.resources.store.addUser('sender@example.test', '!');
}, 60_000);

afterAll(async () => {
  await us?.stop();
  await good?.stop();
  await bad?.stop();
  await dns?.close();
  await new Promise((resolve) => (web ? web.close(resolve) : resolve(undefined)));
});

describe('MTA-STS policies', () => {
  it('parses policies and matches MX patterns', () => {
    expect(
      parsePolicy('version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n'),
    ).toEqual({
      mode: 'enforce',
      mx: ['mail.example.com', '*.example.net'],
      maxAge: 604800,
    });
    expect(() => parsePolicy('version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n')).toThrow(/STSv1/);
    expect(() => parsePolicy('version: STSv1\nmode: strict\nmx: a.b\nmax_age: 1\n')).toThrow(/mode/);
    expect(mxMatches('mx1.example.net', '*.example.net')).toBe(true);
    expect(mxMatches('a.mx1.example.net', '*.example.net')).toBe(false);
    expect(mxMatches('example.net', '*.example.net')).toBe(false);
    expect(mxMatches('MX.Far.Test.', 'mx.far.test')).toBe(true);
  });

  it('caches by TXT id and max_age, and keeps the cached policy when a refresh fails', async () => {
    let now = 1_000_000;
    const host = 'mta-sts.cache.test';
    const sts = new MtaStsPolicies({
      resolver: new DnsResolver({ servers: [dns.server], cacheTtl: 0 }),
      config: { enabled: true, ca: path.join(certs, 'ca.pem'), port: webPort, timeout: 3000 },
      logger: pino({ level: 'silent' }),
      now: () => now,
    });
    const setId = (id: string) => dns.set('_mta-sts.cache.test', [{ type: 'TXT', data: `v=STSv1; id=${id}` }]);
    expect(await sts.get('cache.test')).toBeNull(); // no TXT record: no policy, nothing fetched
    expect(hits[host]).toBeUndefined();

    setId('a1');
    policies[host] = 'version: STSv1\nmode: enforce\nmx: *.cache.test\nmax_age: 100\n';
    expect(await sts.get('cache.test')).toMatchObject({ id: 'a1', mode: 'enforce', mx: ['*.cache.test'] });
    expect(await sts.get('cache.test')).toMatchObject({ id: 'a1' });
    expect(hits[host]).toBe(1); // same id, within max_age: from the cache

    setId('a2');
    delete policies[host]; // the refresh gets a 404: the cached policy stays (RFC 8461 5.1)
    expect(await sts.get('cache.test')).toMatchObject({ id: 'a1', mode: 'enforce' });
    expect(hits[host]).toBe(2);

    policies[host] = 'version: STSv1\nmode: testing\nmx: *.cache.test\nmax_age: 100\n';
    expect(await sts.get('cache.test')).toMatchObject({ id: 'a2', mode: 'testing' });
    expect(hits[host]).toBe(3);

    now += 101_000; // max_age passed: fetched again although the id is unchanged
    expect(await sts.get('cache.test')).toMatchObject({ id: 'a2' });
    expect(hits[host]).toBe(4);

    delete policies[host];
    now += 101_000; // expired and the refresh fails: no policy any more
    expect(await sts.get('cache.test')).toBeNull();
  });
});

describe('delivery under MTA-STS', () => {
  it('enforce: delivers to a listed MX with a valid certificate', async () => {
    await relayThrough(us, 'sender@example.test', 'friend@far.test', 'sts enforced ok');
    await delivered(good, 'friend@far.test', 'sts enforced ok');
    expect(dns.queries).toContain('TXT _mta-sts.far.test');
  });

  it('enforce: defers with 4.7.5 when no MX host is in the policy', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@stray.test', 'sts stray mx');
    expect(await deferred(id)).toMatch(/^451 4\.7\.5 MTA-STS policy for stray\.test not satisfied: no MX host matches/);
  });

  it('enforce: defers with 4.7.5 when the certificate does not match the MX name', async () => {
    const id = await relayThrough(us, 'sender@example.test', 'friend@badcert.test', 'sts bad cert');
    const reply = await deferred(id);
    expect(reply).toMatch(/^451 4\.7\.5 MTA-STS policy for badcert\.test not satisfied: .*mx\.badcert\.test/);
    expect(reply).toMatch(/TLS|certificate/i);
    expect(await mailboxTexts(bad, 'friend@badcert.test')).toEqual([]);
  });

  it('testing: delivers as usual despite the mismatch', async () => {
    await relayThrough(us, 'sender@example.test', 'friend@trial.test', 'sts testing mode');
    await delivered(bad, 'friend@trial.test', 'sts testing mode');
  });

  it('no policy: delivers as before', async () => {
    await relayThrough(us, 'sender@example.test', 'friend@plain.test', 'no sts here');
    await delivered(good, 'friend@plain.test', 'no sts here');
  });
});
