/**
 * Address normalization shared by every Store implementation, so sqlite and postgres agree on
 * what "the same address" means.
 */

/** Split `local@domain` at the last '@' (a quoted local part may contain '@'). */
export function splitAddress(address: string): { local: string; domain: string } {
  const trimmed = address.trim();
  const at = trimmed.lastIndexOf('@');
  if (at < 0) throw new Error(`not an address: ${JSON.stringify(address)}`);
  return { local: trimmed.slice(0, at), domain: trimmed.slice(at + 1) };
}

/** Lower-case a domain name; a trailing root dot is dropped so `example.com.` matches. */
export function normalizeDomain(name: string): string {
  const d = name.trim().toLowerCase().replace(/\.$/, '');
  if (d === '' || d.includes('@') || /\s/.test(d)) throw new Error(`not a domain name: ${JSON.stringify(name)}`);
  return d;
}

/** The stored form of a user address: local part as given, domain lower-case. */
export function userAddress(address: string): { address: string; key: string; domain: string } {
  const { local, domain } = splitAddress(address);
  if (local === '') throw new Error(`not a user address: ${JSON.stringify(address)}`);
  const d = normalizeDomain(domain);
  const full = `${local}@${d}`;
  return { address: full, key: full.toLowerCase(), domain: d };
}

/** The key of an alias: `local@domain` or `@domain` (catch-all), lower-cased. */
export function aliasSource(source: string): { key: string; domain: string } {
  const { local, domain } = splitAddress(source);
  const d = normalizeDomain(domain);
  return { key: `${local.toLowerCase()}@${d}`, domain: d };
}

/** Trim, drop empties and case-insensitive duplicates, keeping the first spelling. */
export function uniqueAddresses(list: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of list) {
    const a = raw.trim();
    const k = a.toLowerCase();
    if (a === '' || seen.has(k)) continue;
    seen.add(k);
    out.push(a);
  }
  return out;
}
