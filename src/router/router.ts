import type { Domain, Store } from '../store/index.js';

/** Where one final recipient goes. */
export type Route =
  | { kind: 'local'; address: string; domain: Domain }
  | { kind: 'remote'; address: string; domain: string };

/** Result of expanding an address given at RCPT into final recipients. */
export type Expansion =
  | { ok: true; addresses: string[] }
  | { ok: false; reason: 'unknown-user' | 'alias-loop' | 'not-local' };

const MAX_DEPTH = 10;

/** Split `local@domain` at the last `@`, lower-casing the domain. */
export function splitAddress(address: string): { local: string; domain: string } {
  const at = address.lastIndexOf('@');
  if (at < 0) return { local: address, domain: '' };
  return { local: address.slice(0, at), domain: address.slice(at + 1).toLowerCase() };
}

/**
 * Decides where mail for an address goes: which domains are local, and what users, aliases,
 * catch-alls, plus-addressing and postmaster make of a local address.
 */
export class Router {
  constructor(private readonly store: Store) {}

  /** The local domain record, or null when the domain is not ours. */
  localDomain(domain: string): Promise<Domain | null> {
    return this.store.getDomain(domain.toLowerCase());
  }

  /** Expand a local address into final recipient addresses (users, remote alias targets). */
  async expand(address: string): Promise<Expansion> {
    const out = new Set<string>();
    const result = await this.expandInto(address, out, new Set(), 0);
    if (result !== true) return { ok: false, reason: result };
    if (out.size === 0) return { ok: false, reason: 'unknown-user' };
    return { ok: true, addresses: [...out] };
  }

  /** The route for a final address, as produced by expand(). */
  async route(address: string): Promise<Route> {
    const { domain } = splitAddress(address);
    const local = await this.localDomain(domain);
    if (local) return { kind: 'local', address, domain: local };
    return { kind: 'remote', address, domain };
  }

  private async expandInto(
    address: string,
    out: Set<string>,
    seen: Set<string>,
    depth: number,
  ): Promise<true | 'unknown-user' | 'alias-loop' | 'not-local'> {
    const key = address.toLowerCase();
    if (depth > MAX_DEPTH) return 'alias-loop';
    if (seen.has(key)) return true; // an alias naming an address twice delivers once
    seen.add(key);
    const { local, domain } = splitAddress(address);
    const dom = await this.localDomain(domain);
    if (!dom) {
      if (depth === 0) return 'not-local';
      out.add(address);
      return true;
    }
    const canonical = `${local}@${domain}`;
    const user = await this.store.getUser(canonical);
    if (user) {
      out.add(user.address);
      return true;
    }
    const alias = await this.store.getAlias(canonical);
    if (alias) return this.expandAll(alias.destinations, out, seen, depth);
    const plus = local.indexOf('+');
    if (plus > 0) {
      const base = `${local.slice(0, plus)}@${domain}`;
      const baseUser = await this.store.getUser(base);
      if (baseUser) {
        out.add(baseUser.address);
        return true;
      }
      const baseAlias = await this.store.getAlias(base);
      if (baseAlias) return this.expandAll(baseAlias.destinations, out, seen, depth);
    }
    const catchAll = await this.store.getAlias(`@${domain}`);
    if (catchAll) return this.expandAll(catchAll.destinations, out, seen, depth);
    if (local.toLowerCase() === 'postmaster') {
      // RFC 5321 4.5.1: postmaster must always be accepted; the mailbox transport creates it.
      out.add(`postmaster@${domain}`);
      return true;
    }
    // Domains we only pass on (relay:HOST) or swallow cannot check users: any local part goes.
    if (dom.transport === 'discard' || dom.transport === 'sandbox' || dom.transport.startsWith('relay:')) {
      out.add(canonical);
      return true;
    }
    return 'unknown-user';
  }

  private async expandAll(
    destinations: string[],
    out: Set<string>,
    seen: Set<string>,
    depth: number,
  ): Promise<true | 'unknown-user' | 'alias-loop' | 'not-local'> {
    let any = false;
    for (const dest of destinations) {
      const r = await this.expandInto(dest, out, seen, depth + 1);
      if (r === 'alias-loop') return r;
      if (r === true) any = true;
    }
    return any ? true : 'unknown-user';
  }
}
