import { isIP } from 'node:net';
import { type DnsResolver, NOT_FOUND_CODES } from './resolver.js';

/** One mail exchanger with its addresses, in the order they should be tried. */
export interface MailHost {
  name: string;
  preference: number;
  addresses: string[];
}

/** Where mail for a domain goes, as DNS says. */
export type MailRoute =
  | { kind: 'hosts'; hosts: MailHost[]; implicit: boolean }
  /** RFC 7505: the domain accepts no mail at all. */
  | { kind: 'null-mx' }
  /** The domain does not exist, or has neither MX nor address records. */
  | { kind: 'none' }
  /** A lookup failed (timeout, SERVFAIL): try again later. */
  | { kind: 'temporary'; error: string };

const notFound = (err: unknown) => NOT_FOUND_CODES.includes((err as NodeJS.ErrnoException).code ?? '');

/** Shuffle in place (Fisher-Yates): hosts of equal preference share the load (RFC 5321 5.1). */
function shuffle<T>(list: T[], random: () => number): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j] as T, list[i] as T];
  }
  return list;
}

/** IPv6 then IPv4 addresses of a host; an unknown host has none, a failed lookup throws. */
export async function resolveAddresses(resolver: DnsResolver, name: string): Promise<string[]> {
  if (isIP(name)) return [name];
  const out: string[] = [];
  let failure: unknown = null;
  for (const lookup of [resolver.resolve6.bind(resolver), resolver.resolve4.bind(resolver)]) {
    try {
      out.push(...(await lookup(name)));
    } catch (err) {
      if (!notFound(err)) failure = err;
    }
  }
  if (out.length === 0 && failure) throw failure;
  return out;
}

/**
 * Resolve a domain's mail hosts (RFC 5321 section 5.1): MX records by preference, equal
 * preferences shuffled, each host's addresses; no MX means the domain itself (implicit MX);
 * a single `MX 0 .` means no mail (RFC 7505).
 */
export async function resolveMailRoute(
  resolver: DnsResolver,
  domain: string,
  random: () => number = Math.random,
): Promise<MailRoute> {
  let mx: { exchange: string; priority: number }[];
  try {
    mx = await resolver.resolveMx(domain);
  } catch (err) {
    if (!notFound(err)) return { kind: 'temporary', error: (err as Error).message };
    mx = [];
  }
  if (mx.length === 1 && (mx[0]?.exchange === '' || mx[0]?.exchange === '.')) return { kind: 'null-mx' };
  const implicit = mx.length === 0;
  const targets = implicit ? [{ exchange: domain, priority: 0 }] : mx.filter((m) => m.exchange !== '');
  const byPreference = new Map<number, string[]>();
  for (const m of targets) byPreference.set(m.priority, [...(byPreference.get(m.priority) ?? []), m.exchange]);
  const hosts: MailHost[] = [];
  let lastError: string | null = null;
  for (const preference of [...byPreference.keys()].sort((a, b) => a - b)) {
    for (const name of shuffle(byPreference.get(preference) ?? [], random)) {
      try {
        const addresses = await resolveAddresses(resolver, name);
        if (addresses.length > 0) hosts.push({ name: name.replace(/\.$/, '').toLowerCase(), preference, addresses });
      } catch (err) {
        lastError = (err as Error).message;
      }
    }
  }
  if (hosts.length > 0) return { kind: 'hosts', hosts, implicit };
  if (lastError) return { kind: 'temporary', error: lastError };
  return { kind: 'none' };
}
