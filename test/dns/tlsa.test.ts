import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatTlsa,
  lookupTlsa,
  parseTlsa,
  SecureResolver,
  secureAddresses,
  secureMx,
  secureResolverFromConfig,
} from '../../src/dns/index.js';
import { decodeResponse, encodeQuery, readName, TYPE, WireError } from '../../src/dns/wire.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

const DIGEST = Buffer.alloc(32, 0xab);
const tlsa = (usage: number, selector: number, matchingType: number, certificate = DIGEST) => ({
  type: 'TLSA' as const,
  data: { usage, selector, matchingType, certificate },
});

let dns: TestDnsServer;

beforeAll(async () => {
  dns = await startDnsServer({
    'signed.test': [{ type: 'MX', data: { preference: 10, exchange: 'mx.signed.test' } }],
    'mx.signed.test': [{ type: 'A', data: '127.0.0.20' }],
    '_25._tcp.mx.signed.test': [tlsa(3, 1, 1), tlsa(2, 0, 2, Buffer.alloc(64, 1))],
    'unsigned.test': [{ type: 'MX', data: { preference: 10, exchange: 'mx.unsigned.test' } }],
    'mx.unsigned.test': [{ type: 'A', data: '127.0.0.21' }],
    '_25._tcp.mx.unsigned.test': [tlsa(3, 1, 1)],
    '_25._tcp.alias.signed.test': [{ type: 'CNAME', data: '_25._tcp.mx.signed.test' }],
    '_25._tcp.bogus.test': [tlsa(3, 1, 1)],
    '_25._tcp.big.test': [tlsa(3, 0, 0, Buffer.alloc(1500, 7))],
    'hostonly.signed.test': [{ type: 'A', data: '127.0.0.22' }],
  });
  dns.secure(
    'signed.test',
    'mx.signed.test',
    '_25._tcp.mx.signed.test',
    '_25._tcp.alias.signed.test',
    '_25._tcp.nothing.signed.test',
    '_25._tcp.big.test',
    'hostonly.signed.test',
  );
  dns.fail('_25._tcp.bogus.test');
  dns.truncate('_25._tcp.big.test');
});
afterAll(() => dns.close());

const resolver = (opts: Partial<ConstructorParameters<typeof SecureResolver>[0]> = {}) =>
  new SecureResolver({ servers: [dns.server], timeout: 2000, ...opts });

describe('DNS wire format', () => {
  it('asks recursively with AD and the EDNS0 DO bit', () => {
    const q = dnsPacket.decode(encodeQuery(0x1234, '_25._tcp.MX.Example.COM.', TYPE.TLSA));
    expect(q.id).toBe(0x1234);
    expect(q.flag_rd).toBe(true);
    expect(q.flag_ad).toBe(true);
    expect(q.questions).toEqual([{ name: '_25._tcp.MX.Example.COM', type: 'TLSA', class: 'IN' }]);
    const opt = q.additionals?.[0] as { type: string; flag_do: boolean; udpPayloadSize: number };
    expect(opt).toMatchObject({ type: 'OPT', flag_do: true, udpPayloadSize: 1232 });
  });

  it('decodes answers with compressed names, and the AD bit', () => {
    const msg = dnsPacket.encode({
      type: 'response',
      id: 7,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA,
      questions: [{ type: 'MX', name: 'example.com' }],
      answers: [{ type: 'MX', name: 'example.com', ttl: 60, data: { preference: 5, exchange: 'mx.example.com' } }],
    });
    const r = decodeResponse(msg);
    expect(r).toMatchObject({ id: 7, rcode: 0, ad: true, truncated: false, question: { name: 'example.com' } });
    const [mx] = r.answers;
    expect(mx).toMatchObject({ name: 'example.com', type: TYPE.MX, ttl: 60 });
    expect(readName(msg, (mx?.offset ?? 0) + 2).name).toBe('mx.example.com');
  });

  it('ignores AD when the response says checking was disabled', () => {
    const msg = dnsPacket.encode({
      type: 'response',
      flags: dnsPacket.AUTHENTIC_DATA | dnsPacket.CHECKING_DISABLED,
      questions: [{ type: 'A', name: 'a.test' }],
    });
    expect(decodeResponse(msg).ad).toBe(false);
  });

  it('refuses malformed messages instead of crashing', () => {
    const good = dnsPacket.encode({
      type: 'response',
      questions: [{ type: 'TLSA', name: 'x.test' }],
      answers: [
        { type: 'TLSA', name: 'x.test', data: { usage: 3, selector: 1, matchingType: 1, certificate: DIGEST } },
      ],
    });
    for (let cut = 0; cut < good.length; cut++) {
      expect(() => decodeResponse(good.subarray(0, cut)), `cut at ${cut}`).toThrow(WireError);
    }
    // A name that points at itself.
    const loop = Buffer.concat([good.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    loop.writeUInt16BE(1, 4);
    loop.writeUInt16BE(0, 6);
    expect(() => decodeResponse(loop)).toThrow(/loop/);
    const query = encodeQuery(1, 'a.test', TYPE.A);
    expect(() => decodeResponse(query)).toThrow(/not a response/);
    expect(() => encodeQuery(1, `${'a'.repeat(64)}.test`, TYPE.A)).toThrow(WireError);
  });

  it('any bytes either decode or fail with WireError, never anything else', () => {
    const header = fc.uint8Array({ minLength: 12, maxLength: 12 }).map((h) => {
      h[2] = (h[2] ?? 0) | 0x80; // a response, so the decoder goes past the header
      return h;
    });
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 300 }), (h, rest) => {
        try {
          decodeResponse(Buffer.concat([h, rest]));
        } catch (err) {
          if (!(err instanceof WireError)) throw err;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('parses TLSA RDATA (RFC 6698 2.1)', () => {
    const rdata = Buffer.concat([Buffer.from([3, 1, 1]), DIGEST]);
    const r = parseTlsa(rdata);
    expect(r).toEqual({ usage: 3, selector: 1, matchingType: 1, data: DIGEST });
    expect(formatTlsa(r)).toBe(`3 1 1 ${'ab'.repeat(32)}`);
    expect(parseTlsa(Buffer.from([2, 0, 0, 0x30]))).toMatchObject({ usage: 2, selector: 0, matchingType: 0 });
    expect(() => parseTlsa(Buffer.from([3, 1, 1]))).toThrow(WireError);
  });
});

describe('SecureResolver and TLSA lookups', () => {
  it('finds validated TLSA records', async () => {
    const t = await lookupTlsa(resolver(), 'MX.Signed.Test.');
    expect(t.name).toBe('_25._tcp.mx.signed.test');
    expect(t.secure).toBe(true);
    expect(t.records.map(formatTlsa)).toEqual([`3 1 1 ${'ab'.repeat(32)}`, `2 0 2 ${'01'.repeat(64)}`]);
    expect(dns.queries).toContain('TLSA _25._tcp.mx.signed.test');
  });

  it('reports records from an unsigned zone as insecure', async () => {
    const t = await lookupTlsa(resolver(), 'mx.unsigned.test');
    expect(t).toMatchObject({ secure: false });
    expect(t.records).toHaveLength(1);
  });

  it('uses the port in the owner name', async () => {
    const t = await lookupTlsa(resolver(), 'mx.signed.test', 2525);
    expect(t).toMatchObject({ name: '_2525._tcp.mx.signed.test', records: [] });
  });

  it('follows a CNAME to the records when every name in the chain is signed', async () => {
    const r = resolver();
    const t = await lookupTlsa(r, 'alias.signed.test');
    expect(t.secure).toBe(true);
    expect(t.records).toHaveLength(2);
  });

  it('a validated denial is secure and empty', async () => {
    const t = await lookupTlsa(resolver(), 'nothing.signed.test');
    expect(t).toMatchObject({ secure: true, records: [] });
  });

  it('SERVFAIL (bogus data) is an error, not an absence', async () => {
    await expect(lookupTlsa(resolver(), 'bogus.test')).rejects.toMatchObject({ code: 'ESERVFAIL' });
  });

  it('retries over TCP when the UDP answer is truncated', async () => {
    const t = await lookupTlsa(resolver(), 'big.test');
    expect(t.secure).toBe(true);
    expect(t.records[0]?.data.length).toBe(1500);
  });

  it('secureMx and secureAddresses read the AD bit of MX and A/AAAA answers', async () => {
    const r = resolver();
    expect(await secureMx(r, 'signed.test')).toEqual({ secure: true, hosts: ['mx.signed.test'] });
    expect(await secureMx(r, 'unsigned.test')).toEqual({ secure: false, hosts: ['mx.unsigned.test'] });
    // No MX at all, validated: the domain itself is the mail host (secure denial).
    expect(await secureMx(r, 'hostonly.signed.test')).toEqual({ secure: true, hosts: [] });
    expect(await secureAddresses(r, 'mx.signed.test')).toBe(true);
    expect(await secureAddresses(r, 'mx.unsigned.test')).toBe(false);
  });

  it('caches answers for their TTL at most', async () => {
    let now = 0;
    const r = resolver({ now: () => now });
    const count = () => dns.queries.filter((q) => q === 'TLSA _25._tcp.mx.signed.test').length;
    await lookupTlsa(r, 'mx.signed.test');
    const before = count();
    await lookupTlsa(r, 'mx.signed.test');
    expect(count()).toBe(before);
    now += 61_000; // past the 60 s cache limit (the records' TTL is 300 s)
    await lookupTlsa(r, 'mx.signed.test');
    expect(count()).toBe(before + 1);
  });

  it('asks the next server when one does not answer, and times out when none does', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    const dead = `127.0.0.1:${silent.address().port}`;
    try {
      const both = new SecureResolver({ servers: [dead, dns.server], timeout: 1000 });
      expect((await lookupTlsa(both, 'mx.signed.test')).secure).toBe(true);
      const none = new SecureResolver({ servers: [dead], timeout: 300 });
      await expect(lookupTlsa(none, 'mx.signed.test')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    } finally {
      silent.close();
    }
  });

  it('asks again when the first datagram gets no answer', async () => {
    const flaky = dgram.createSocket('udp4');
    let seen = 0;
    flaky.on('message', (msg, rinfo) => {
      if (seen++ === 0) return; // the first query is lost
      const q = dnsPacket.decode(msg);
      const reply = dnsPacket.encode({
        type: 'response',
        id: q.id,
        flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHENTIC_DATA,
        questions: q.questions,
        answers: [
          {
            type: 'TLSA',
            name: 'flaky.test',
            ttl: 60,
            data: { usage: 3, selector: 1, matchingType: 1, certificate: DIGEST },
          },
        ],
      });
      flaky.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => flaky.bind(0, '127.0.0.1', () => resolve()));
    try {
      const r = new SecureResolver({ servers: [`127.0.0.1:${flaky.address().port}`], timeout: 600 });
      const answer = await r.query('flaky.test', TYPE.TLSA);
      expect(answer).toMatchObject({ status: 'found', secure: true });
      expect(seen).toBe(2);
    } finally {
      flaky.close();
    }
  });

  it('takes dns.dane.servers, else dns.servers', () => {
    const own = secureResolverFromConfig({ dns: { servers: ['10.0.0.1'], timeout: 1000, dane: { servers: ['::1'] } } });
    expect(own.servers).toEqual([{ host: '::1', port: 53 }]);
    const shared = secureResolverFromConfig({ dns: { servers: [dns.server], timeout: 1000, dane: { servers: [] } } });
    expect(shared.servers).toEqual([{ host: '127.0.0.1', port: dns.port }]);
  });
});
