import { isIP } from 'node:net';
import type { Config } from '../config/index.js';
import { NOT_FOUND_CODES, type ResolveFunction } from '../dns/index.js';
import { reply } from '../smtp/reply.js';
import { ACCEPT, type Verdict } from './checks.js';

type DnsblZone = Config['inbound']['dnsbl']['zones'][number];

const notFound = (err: unknown) => NOT_FOUND_CODES.includes((err as NodeJS.ErrnoException).code ?? '');

/** Plain IPv4 for an IPv4-mapped IPv6 address, the address itself otherwise. */
export function plainIp(ip: string): string {
  return /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1] ?? ip;
}

/** The full 32 hex digits of an IPv6 address. */
function expandIpv6(ip: string): string {
  const [head = '', tail = ''] = ip.split('::') as [string, string?];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => g.padStart(4, '0')).join('');
}

/** The DNSBL query name for an address: reversed octets (IPv4) or nibbles (IPv6), then the zone. */
export function dnsblName(ip: string, zone: string): string {
  const addr = plainIp(ip);
  if (isIP(addr) === 4) return `${addr.split('.').reverse().join('.')}.${zone}`;
  return `${expandIpv6(addr).split('').reverse().join('.')}.${zone}`;
}

/**
 * DNS blocklists: the client is refused when a zone lists it with a return code the zone counts
 * (any code when none are configured). A failed lookup lists nobody: a blocklist outage must not
 * stop mail.
 */
export async function checkDnsbl(
  ip: string,
  zones: readonly DnsblZone[],
  resolve: ResolveFunction,
): Promise<Verdict & { listed?: { zone: string; code: string; meaning: string } }> {
  for (const z of zones) {
    let answers: string[];
    try {
      answers = (await resolve(dnsblName(ip, z.zone), 'A')) as string[];
    } catch {
      continue;
    }
    const codes = Object.keys(z.codes);
    const hit = answers.find((a) => a.startsWith('127.') && (codes.length === 0 || codes.includes(a)));
    if (!hit) continue;
    return {
      action: 'reject',
      reply: reply(554, '5.7.1', `Service unavailable; client [${plainIp(ip)}] blocked using ${z.zone}`),
      reason: `listed in ${z.zone} (${hit}${z.codes[hit] ? `: ${z.codes[hit]}` : ''})`,
      listed: { zone: z.zone, code: hit, meaning: z.codes[hit] ?? 'listed' },
    };
  }
  return ACCEPT;
}

/**
 * Forward-confirmed reverse DNS: a PTR name of the address must resolve back to it. No name
 * is a refusal (550 5.7.25); a failed lookup is a temporary one (450 4.7.25).
 */
export async function checkReverseDns(ip: string, resolve: ResolveFunction): Promise<Verdict & { name?: string }> {
  const addr = plainIp(ip);
  const text = `Client host rejected: cannot find your hostname, [${addr}]`;
  const refuse = (temporary: boolean, reason: string): Verdict =>
    temporary
      ? { action: 'tempfail', reply: reply(450, '4.7.25', text), reason }
      : { action: 'reject', reply: reply(550, '5.7.25', text), reason };
  let names: string[];
  try {
    names = (await resolve(ptrName(addr), 'PTR')) as string[];
  } catch (err) {
    return refuse(!notFound(err), `no PTR record (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let failed = false;
  for (const name of names.slice(0, 10)) {
    for (const type of isIP(addr) === 4 ? ['A'] : ['AAAA']) {
      try {
        const back = (await resolve(name, type)) as string[];
        if (back.some((b) => b.toLowerCase() === addr.toLowerCase())) return { ...ACCEPT, name };
      } catch (err) {
        if (!notFound(err)) failed = true;
      }
    }
  }
  return refuse(failed, `PTR ${names.join(', ')} does not resolve back to ${addr}`);
}

function ptrName(addr: string): string {
  if (isIP(addr) === 4) return `${addr.split('.').reverse().join('.')}.in-addr.arpa`;
  return `${expandIpv6(addr).split('').reverse().join('.')}.ip6.arpa`;
}

/** Optional HELO rules: a fully-qualified name (or an address literal), and not our own name. */
export function checkHelo(
  helo: string,
  opts: { requireFqdn: boolean; rejectOurName: boolean; hostname: string },
): Verdict {
  const literal = /^\[[^\]]+\]$/.test(helo);
  if (opts.rejectOurName && helo.toLowerCase() === opts.hostname.toLowerCase()) {
    return {
      action: 'reject',
      reply: reply(550, '5.7.1', 'Helo command rejected: you are not me'),
      reason: 'HELO with our name',
    };
  }
  if (opts.requireFqdn && !literal && !/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\.?$/.test(helo)) {
    return {
      action: 'reject',
      reply: reply(550, '5.7.1', 'Helo command rejected: need fully-qualified hostname'),
      reason: `HELO ${helo} is not fully qualified`,
    };
  }
  return ACCEPT;
}
