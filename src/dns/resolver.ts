import type { MxRecord, SrvRecord } from 'node:dns';
import { Resolver as NodeResolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DNSResolver } from 'mailauth';

/** Options for a DnsResolver; `config.dns` fits as is. */
export interface DnsOptions {
  /** `ip`, `ip:port` or `[ipv6]:port` entries; empty means the system's resolvers (/etc/resolv.conf). */
  servers?: string[];
  /** Milliseconds for a whole lookup, retries included. */
  timeout?: number;
  /**
   * Longest time an answer is reused, in ms (0 disables the cache). node:dns reports TTLs only for
   * A/AAAA, so other answers are kept for this long; A/AAAA for their TTL if that is shorter.
   */
  cacheTtl?: number;
  /** How long "no such name"/"no such record" answers are reused, in ms. */
  negativeTtl?: number;
  /** Entries kept at most; the oldest go first. */
  cacheSize?: number;
  /** For tests: the clock. */
  now?: () => number;
}

/** Record types this wrapper looks up, by the name node:dns and mailauth use. */
export type RecordType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'SRV' | 'CNAME' | 'PTR' | 'NS';

/**
 * The resolver shape mailauth takes (`dns.promises.resolve`). mailauth types the answer as strings;
 * at run time it is whatever node:dns gives for the type (MX objects, TXT string arrays, ...).
 */
export type ResolveFunction = DNSResolver;

/** Error codes meaning "the name or the record does not exist", as opposed to a failed lookup. */
export const NOT_FOUND_CODES: readonly string[] = ['ENOTFOUND', 'ENODATA'];

interface CacheEntry {
  expires: number;
  value?: unknown[];
  error?: NodeJS.ErrnoException;
}

/**
 * DNS lookups through configurable servers with a small cache. Errors are node:dns errors
 * (`err.code` ENOTFOUND, ENODATA, ETIMEOUT, ESERVFAIL, ...), which is what mailauth expects.
 */
export class DnsResolver {
  private readonly resolver: NodeResolver;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<unknown[]>>();
  private readonly cacheTtl: number;
  private readonly negativeTtl: number;
  private readonly cacheSize: number;
  private readonly now: () => number;
  private readonly timeout: number;
  /** The configured servers (`ip:port`), empty for the system's. */
  readonly servers: string[];

  constructor(opts: DnsOptions = {}) {
    this.timeout = opts.timeout ?? 5000;
    // Two tries, so one lost UDP packet is not a failure. c-ares lengthens the timeout of each retry,
    // so the whole lookup is also cut off at `timeout` (see ask()).
    this.resolver = new NodeResolver({ timeout: Math.max(1, Math.floor(this.timeout / 2)), tries: 2 });
    this.servers = (opts.servers ?? []).map(parseServer);
    if (this.servers.length > 0) this.resolver.setServers(this.servers);
    this.cacheTtl = opts.cacheTtl ?? 60_000;
    this.negativeTtl = Math.min(opts.negativeTtl ?? 30_000, this.cacheTtl);
    this.cacheSize = opts.cacheSize ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /** mailauth-compatible lookup: `(name, rrtype)` answering like dns.promises.resolve. */
  readonly resolve: ResolveFunction = (name, rrtype) =>
    this.lookup(name, rrtype.toUpperCase() as RecordType) as Promise<string[] | string[][]>;

  /** MX records sorted by preference (lowest first). */
  async resolveMx(name: string): Promise<MxRecord[]> {
    const list = (await this.lookup(name, 'MX')) as MxRecord[];
    return [...list].sort((a, b) => a.priority - b.priority);
  }

  /** TXT records, each one's character-strings joined into one string. */
  async resolveTxt(name: string): Promise<string[]> {
    return ((await this.lookup(name, 'TXT')) as string[][]).map((chunks) => chunks.join(''));
  }

  /** IPv4 addresses. */
  async resolve4(name: string): Promise<string[]> {
    return (await this.lookup(name, 'A')) as string[];
  }

  /** IPv6 addresses. */
  async resolve6(name: string): Promise<string[]> {
    return (await this.lookup(name, 'AAAA')) as string[];
  }

  /** SRV records. */
  async resolveSrv(name: string): Promise<SrvRecord[]> {
    return (await this.lookup(name, 'SRV')) as SrvRecord[];
  }

  /** CNAME targets. */
  async resolveCname(name: string): Promise<string[]> {
    return (await this.lookup(name, 'CNAME')) as string[];
  }

  /** Forget every cached answer. */
  clearCache(): void {
    this.cache.clear();
  }

  /** Abort lookups in flight (they reject with ECANCELLED). */
  cancel(): void {
    this.resolver.cancel();
  }

  private async lookup(rawName: string, type: RecordType): Promise<unknown[]> {
    const name = rawName.toLowerCase().replace(/\.$/, '');
    const key = `${type} ${name}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) {
      if (hit.error) throw hit.error;
      // A copy, so a caller sorting or trimming its answer does not change what others get.
      return [...(hit.value ?? [])];
    }
    if (hit) this.cache.delete(key);
    // Concurrent asks for the same record (SPF includes, parallel checks) share one query.
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.query(name, type).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return [...(await pending)];
  }

  private async query(name: string, type: RecordType): Promise<unknown[]> {
    const key = `${type} ${name}`;
    try {
      const { value, ttl } = await this.ask(name, type);
      this.remember(key, { expires: this.now() + Math.min(ttl, this.cacheTtl), value });
      return value;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // Only definite answers are cached; timeouts and server failures are worth asking again.
      if (NOT_FOUND_CODES.includes(e.code ?? '')) {
        this.remember(key, { expires: this.now() + this.negativeTtl, error: e });
      }
      throw e;
    }
  }

  private async ask(name: string, type: RecordType): Promise<{ value: unknown[]; ttl: number }> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err: NodeJS.ErrnoException = new Error(`query${type} ETIMEOUT ${name}`);
        err.code = 'ETIMEOUT';
        reject(err);
      }, this.timeout);
    });
    try {
      return await Promise.race([this.askOnce(name, type), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async askOnce(name: string, type: RecordType): Promise<{ value: unknown[]; ttl: number }> {
    if (type === 'A' || type === 'AAAA') {
      const answers =
        type === 'A'
          ? await this.resolver.resolve4(name, { ttl: true })
          : await this.resolver.resolve6(name, { ttl: true });
      const ttl = Math.min(...answers.map((a) => a.ttl)) * 1000;
      return { value: answers.map((a) => a.address), ttl };
    }
    return { value: (await this.resolver.resolve(name, type)) as unknown[], ttl: Number.POSITIVE_INFINITY };
  }

  private remember(key: string, entry: CacheEntry): void {
    if (this.cacheTtl <= 0 || entry.expires <= this.now()) return;
    if (this.cache.size >= this.cacheSize) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key, entry);
  }
}

/**
 * `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353` → the form Resolver.setServers takes.
 * Host names are refused: a resolver's own address cannot depend on DNS.
 */
export function parseServer(entry: string): string {
  const s = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s);
  const v4 = /^([\d.]+)(?::(\d{1,5}))?$/.exec(s);
  const [host, port] = bracketed ? [bracketed[1], bracketed[2]] : v4 ? [v4[1], v4[2]] : [s, undefined];
  if (!host || isIP(host) === 0) {
    throw new Error(
      `DNS server "${entry}" must be an IP address with an optional port, e.g. 127.0.0.1:5353 or [::1]:53`,
    );
  }
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    throw new Error(`DNS server "${entry}" has an invalid port`);
  }
  if (port === undefined) return host;
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
