import dgram from 'node:dgram';
import dnsPacket, { type Answer, type DecodedPacket } from 'dns-packet';

/** A record the test server answers with; names are case-insensitive, without the trailing dot. */
export type TestRecord =
  | { type: 'TXT'; data: string | string[]; ttl?: number }
  | { type: 'MX'; data: { preference: number; exchange: string }; ttl?: number }
  | { type: 'A' | 'AAAA' | 'CNAME'; data: string; ttl?: number }
  | { type: 'SRV'; data: { priority: number; weight: number; port: number; target: string }; ttl?: number };

export type TestZone = Record<string, TestRecord[]>;

export interface TestDnsServer {
  /** `127.0.0.1:PORT`, the form `dns.servers` in mailroom.yaml takes. */
  readonly server: string;
  readonly port: number;
  /** Every question asked, in order, as `TYPE name`. */
  readonly queries: string[];
  /** Replace the records of one name (an empty list makes it NXDOMAIN). */
  set(name: string, records: TestRecord[]): void;
  close(): Promise<void>;
}

const NXDOMAIN = 3;
const REFUSED = 5;

/** Start an authoritative-looking UDP DNS server on 127.0.0.1 (random port) serving `zone`. */
export async function startDnsServer(zone: TestZone = {}): Promise<TestDnsServer> {
  const records = new Map<string, TestRecord[]>();
  const set = (name: string, list: TestRecord[]) => {
    if (list.length === 0) records.delete(key(name));
    else records.set(key(name), list);
  };
  for (const [name, list] of Object.entries(zone)) set(name, list);
  const queries: string[] = [];

  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return; // not DNS; a real server would drop it too
    }
    const reply = answer(query, records, queries);
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = socket.address();
  return {
    server: `127.0.0.1:${port}`,
    port,
    queries,
    set,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

function key(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function answer(query: DecodedPacket, records: Map<string, TestRecord[]>, log: string[]): Buffer {
  const question = query.questions?.[0];
  const base = { type: 'response' as const, id: query.id, questions: query.questions ?? [] };
  // Recursion desired is echoed and available is set, so stub resolvers do not complain.
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE;
  if (!question) return dnsPacket.encode({ ...base, flags: flags | REFUSED });
  log.push(`${question.type} ${key(question.name)}`);

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
  }
  const exists = records.has(key(question.name));
  return dnsPacket.encode({ ...base, flags: exists ? flags : flags | NXDOMAIN, answers });
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
