// A tiny authoritative DNS server on 127.0.0.1 (random UDP port) for the benchmark's remote
// domain: MX and A records only, the way test/helpers/dns-server.ts serves test domains.

import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';

const NXDOMAIN = 3;
const REFUSED = 5;

const key = (name) => name.toLowerCase().replace(/\.$/, '');

/**
 * Serve `zone` ({ name: [{ type: 'MX' | 'A' | 'AAAA', data, ttl? }] }); answers are cached by
 * mailroom's resolver for their TTL (an hour unless given), as real ones would be.
 */
export async function startDns(zone) {
  const records = new Map(Object.entries(zone).map(([name, list]) => [key(name), list]));
  let queries = 0;
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    let query;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    queries++;
    socket.send(answer(query, records), rinfo.port, rinfo.address);
  });
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', resolve);
  });
  const { port } = socket.address();
  return {
    server: `127.0.0.1:${port}`,
    get queries() {
      return queries;
    },
    close: () => new Promise((resolve) => socket.close(resolve)),
  };
}

function answer(query, records) {
  const question = query.questions?.[0];
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE;
  const base = { type: 'response', id: query.id, questions: query.questions ?? [] };
  if (!question) return dnsPacket.encode({ ...base, flags: flags | REFUSED });
  const name = key(question.name);
  const list = records.get(name);
  const answers = (list ?? [])
    .filter((r) => r.type === question.type)
    .map((r) => ({ type: r.type, name, ttl: r.ttl ?? 3600, data: r.data }));
  return dnsPacket.encode({ ...base, flags: list ? flags : flags | NXDOMAIN, answers });
}
