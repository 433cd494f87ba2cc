import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket } from 'dns-packet';

/** A record the test server answers with; names are case-insensitive, without the trailing dot. */
export type TestRecord =
  | { type: 'TXT'; data: string | string[]; ttl?: number }
  | { type: 'MX'; data: { preference: number; exchange: string }; ttl?: number }
  | { type: 'A' | 'AAAA' | 'CNAME' | 'PTR'; data: string; ttl?: number }
  | { type: 'SRV'; data: { priority: number; weight: number; port: number; target: string }; ttl?: number }
  | {
      type: 'TLSA';
      data: { usage: number; selector: number; matchingType: number; certificate: Buffer };
      ttl?: number;
    };

export type TestZone = Record<string, TestRecord[]>;

export interface TestDnsServer {
  /** `127.0.0.1:PORT`, the form `dns.servers` in mailroom.yaml takes. */
  readonly server: string;
  readonly port: number;
  /** Every question asked, in order, as `TYPE name`. */
  readonly queries: string[];
  /** Replace the records of one name (an empty list makes it NXDOMAIN). */
  set(name: string, records: TestRecord[]): void;
  /**
   * Answer for these names as a validating resolver would for signed data: with the AD bit, when the
   * query asks for it (AD or the EDNS DO bit). An answer through a CNAME needs every name marked.
   */
  secure(...names: string[]): void;
  /** Answer SERVFAIL for this name, as a validating resolver does for data that fails validation. */
  fail(name: string): void;
  /** Over UDP, answer this name with TC set and no records, so the client must ask again over TCP. */
  truncate(name: string): void;
  close(): Promise<void>;
}

interface Behaviour {
  secure: Set<string>;
  fail: Set<string>;
  truncate: Set<string>;
}

const SERVFAIL = 2;
const NXDOMAIN = 3;
const REFUSED = 5;

/** Start an authoritative-looking DNS server on 127.0.0.1 (random port, UDP and TCP) serving `zone`. */
export async function startDnsServer(zone: TestZone = {}): Promise<TestDnsServer> {
  const records = new Map<string, TestRecord[]>();
  const set = (name: string, list: TestRecord[]) => {
    if (list.length === 0) records.delete(key(name));
    else records.set(key(name), list);
  };
  for (const [name, list] of Object.entries(zone)) set(name, list);
  const queries: string[] = [];
  const how: Behaviour = { secure: new Set(), fail: new Set(), truncate: new Set() };

  const udp = () => {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg, rinfo) => {
      let query: DecodedPacket;
      try {
        query = dnsPacket.decode(msg);
      } catch {
        return; // not DNS; a real server would drop it too
      }
      const reply = answer(query, records, queries, how, 'udp');
      socket.send(reply, rinfo.port, rinfo.address);
    });
    return socket;
  };
  const open = new Set<net.Socket>();
  const tcp = net.createServer((conn) => {
    let buf = Buffer.alloc(0);
    open.add(conn);
    conn.on('close', () => open.delete(conn));
    conn.on('error', () => {});
    conn.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        let query: DecodedPacket;
        try {
          query = dnsPacket.decode(msg);
        } catch {
          conn.destroy();
          return;
        }
        const reply = answer(query, records, queries, how, 'tcp');
        const head = Buffer.alloc(2);
        head.writeUInt16BE(reply.length);
        conn.write(Buffer.concat([head, reply]));
      }
    });
  });
  const { socket, port } = await bindBoth(udp, tcp);
  return {
    server: `127.0.0.1:${port}`,
    port,
    queries,
    set,
    secure: (...names) => {
      for (const n of names) how.secure.add(key(n));
    },
    fail: (name) => how.fail.add(key(name)),
    truncate: (name) => how.truncate.add(key(name)),
    close: async () => {
      for (const c of open) c.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

/** UDP on a random port, then TCP on the same one (another try when that one is taken). */
async function bindBoth(udp: () => dgram.Socket, tcp: net.Server): Promise<{ socket: dgram.Socket; port: number }> {
  for (let tries = 0; ; tries++) {
    const socket = udp();
    const port = await new Promise<number>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve(socket.address().port));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, '127.0.0.1', () => resolve());
      });
      return { socket, port };
    } catch (err) {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      if (tries >= 5) throw err;
    }
  }
}

function key(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function answer(
  query: DecodedPacket,
  records: Map<string, TestRecord[]>,
  log: string[],
  how: Behaviour,
  over: 'udp' | 'tcp',
): Buffer {
  const question = query.questions?.[0];
  const base = { type: 'response' as const, id: query.id, questions: query.questions ?? [] };
  // Recursion desired is echoed and available is set, so stub resolvers do not complain.
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE;
  if (!question) return dnsPacket.encode({ ...base, flags: flags | REFUSED });
  log.push(`${question.type} ${key(question.name)}`);
  if (how.fail.has(key(question.name))) return dnsPacket.encode({ ...base, flags: flags | SERVFAIL });
  if (over === 'udp' && how.truncate.has(key(question.name))) {
    return dnsPacket.encode({ ...base, flags: flags | dnsPacket.TRUNCATED_RESPONSE });
  }
  // RFC 6840 5.7: AD only for a client that shows it understands it (AD in the query, or DO).
  const wantsAd =
    query.flag_ad || (query.additionals ?? []).some((a) => a.type === 'OPT' && (a as { flag_do?: boolean }).flag_do);
  const chain = [key(question.name)];

  const answers: Answer[] = [];
  let name = key(question.name);
  // Follow CNAMEs like a recursive resolver would, so clients asking for TXT behind a CNAME get both.
  for (let hops = 0; hops < 8; hops++) {
    const list = records.get(name);
    if (!list) break;
    const direct = list.filter((r) => r.type === question.type);
    if (direct.length > 0) {
      answers.push(...direct.map((r) => toAnswer(name, r)));
      break;
    }
    const cname = list.find((r) => r.type === 'CNAME');
    if (!cname) break;
    answers.push(toAnswer(name, cname));
    name = key(cname.data as string);
    chain.push(name);
  }
  const exists = records.has(key(question.name));
  const ad = wantsAd && chain.every((n) => how.secure.has(n)) ? dnsPacket.AUTHENTIC_DATA : 0;
  return dnsPacket.encode({ ...base, flags: (exists ? flags : flags | NXDOMAIN) | ad, answers });
}

function toAnswer(name: string, r: TestRecord): Answer {
  const ttl = r.ttl ?? 300;
  switch (r.type) {
    case 'TXT':
      // One character-string holds at most 255 octets; longer values are split like a zone file would.
      return { type: 'TXT', name, ttl, data: [r.data].flat().flatMap(split255) };
    case 'MX':
      return { type: 'MX', name, ttl, data: r.data };
    case 'SRV':
      return { type: 'SRV', name, ttl, data: r.data };
    case 'TLSA':
      return { type: 'TLSA', name, ttl, data: r.data };
    default:
      return { type: r.type, name, ttl, data: r.data };
  }
}

function split255(s: string): Buffer[] {
  const buf = Buffer.from(s);
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += 255) parts.push(buf.subarray(i, i + 255));
  return parts.length > 0 ? parts : [Buffer.alloc(0)];
}
