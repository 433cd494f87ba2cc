import fs from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { type DnsResolver, resolveAddresses } from '../dns/index.js';

/** A parsed MTA-STS policy (RFC 8461 section 3.2) with the TXT id it was fetched under. */
export interface MtaStsPolicy {
  domain: string;
  id: string;
  mode: 'enforce' | 'testing' | 'none';
  /** MX patterns, lower case: `mx.example.com` or `*.example.com`. */
  mx: string[];
  /** Seconds. */
  maxAge: number;
  /** When it was fetched (ms since the epoch); it is valid until `fetchedAt + maxAge * 1000`. */
  fetchedAt: number;
}

export type MtaStsConfig = Config['delivery']['mtaSts'];

interface Options {
  resolver: DnsResolver;
  config: MtaStsConfig;
  logger: Logger;
  now?: () => number;
}

const MAX_POLICY_BYTES = 64 * 1024;
/** RFC 8461 section 3.2: max_age is at most 31557600 seconds (about a year). */
const MAX_AGE_LIMIT = 31_557_600;

/** The trust anchors for policy hosts and MX hosts under a policy: the system CAs plus `delivery.mtaSts.ca`. */
export function trustedCas(config: MtaStsConfig): string | undefined {
  if (!config.ca) return undefined;
  // One PEM bundle (the SMTP client takes a single string): node replaces its defaults with `ca`.
  return [...tls.rootCertificates, fs.readFileSync(config.ca, 'utf8')].join('\n');
}

/** Whether an MX host name matches a policy pattern; `*.` covers exactly one left-most label (section 4.1). */
export function mxMatches(host: string, pattern: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (p.startsWith('*.')) {
    const dot = h.indexOf('.');
    return dot > 0 && h.slice(dot + 1) === p.slice(2);
  }
  return h === p;
}

/** Parse a policy body (section 3.2); throws on anything invalid. */
export function parsePolicy(text: string): Pick<MtaStsPolicy, 'mode' | 'mx' | 'maxAge'> {
  const fields = new Map<string, string[]>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed policy line "${line.slice(0, 60)}"`);
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    fields.set(key, [...(fields.get(key) ?? []), value]);
  }
  const one = (k: string) => fields.get(k)?.[0];
  if (one('version') !== 'STSv1') throw new Error('policy version is not STSv1');
  const mode = one('mode');
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none') throw new Error(`invalid policy mode "${mode}"`);
  const age = one('max_age') ?? '';
  if (!/^\d{1,10}$/.test(age)) throw new Error(`invalid max_age "${age}"`);
  const mx = (fields.get('mx') ?? []).map((m) => m.toLowerCase()).filter((m) => m !== '');
  if (mx.length === 0 && mode !== 'none') throw new Error('policy lists no mx');
  return { mode, mx, maxAge: Math.min(Number(age), MAX_AGE_LIMIT) };
}

/** The id of a domain's `_mta-sts` TXT record, or null when there is none (or not exactly one). */
function txtId(records: string[]): string | null {
  const sts = records.filter((r) => /^v=STSv1\s*(;|$)/.test(r));
  if (sts.length !== 1) return null;
  const id = /(?:^|;)\s*id=([A-Za-z0-9]{1,32})\s*(?:;|$)/.exec(sts[0] as string)?.[1];
  return id ?? null;
}

/**
 * MTA-STS policies of recipient domains (RFC 8461): discovered through the `_mta-sts` TXT record,
 * fetched over verified HTTPS, cached by domain until `max_age` passes or the TXT id changes.
 * A failed refresh keeps a still-valid cached policy (section 5.1).
 */
export class MtaStsPolicies {
  private readonly cache = new Map<string, MtaStsPolicy>();
  private readonly pending = new Map<string, Promise<MtaStsPolicy | null>>();
  private readonly now: () => number;

  constructor(private readonly opts: Options) {
    this.now = opts.now ?? Date.now;
  }

  /** The policy in force for `domain`, or null when it has none (or none could be had). */
  get(domain: string): Promise<MtaStsPolicy | null> {
    const d = domain.toLowerCase();
    const running = this.pending.get(d);
    if (running) return running;
    const p = this.lookup(d).finally(() => this.pending.delete(d));
    this.pending.set(d, p);
    return p;
  }

  private valid(p: MtaStsPolicy | undefined): MtaStsPolicy | null {
    return p && this.now() < p.fetchedAt + p.maxAge * 1000 ? p : null;
  }

  private async lookup(domain: string): Promise<MtaStsPolicy | null> {
    const cached = this.valid(this.cache.get(domain));
    let id: string | null;
    try {
      id = txtId(await this.opts.resolver.resolveTxt(`_mta-sts.${domain}`));
    } catch {
      id = null; // no record or a failed lookup: a cached policy still applies (section 5.1)
    }
    if (id === null || (cached && cached.id === id)) return cached;
    try {
      const body = await this.fetch(domain);
      const policy: MtaStsPolicy = { domain, id, ...parsePolicy(body), fetchedAt: this.now() };
      this.cache.set(domain, policy);
      this.opts.logger.info({ domain, id, mode: policy.mode, mx: policy.mx }, 'MTA-STS policy fetched');
      return policy;
    } catch (err) {
      this.opts.logger.warn(
        { domain, id, error: (err as Error).message, keptCached: cached !== null },
        'MTA-STS policy fetch failed',
      );
      return cached;
    }
  }

  /** GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt, resolving the host through our own resolver. */
  private async fetch(domain: string): Promise<string> {
    const host = `mta-sts.${domain}`;
    const addresses = await resolveAddresses(this.opts.resolver, host);
    if (addresses.length === 0) throw new Error(`${host} has no address`);
    const errors: string[] = [];
    for (const address of addresses) {
      try {
        return await this.get1(host, address);
      } catch (err) {
        errors.push(`${address}: ${(err as Error).message}`);
      }
    }
    throw new Error(errors.join('; '));
  }

  private get1(host: string, address: string): Promise<string> {
    const { config } = this.opts;
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: address,
          port: config.port,
          servername: host,
          path: '/.well-known/mta-sts.txt',
          method: 'GET',
          headers: { host, 'user-agent': 'mailroom' },
          ca: trustedCas(config),
          rejectUnauthorized: true,
          agent: false,
          timeout: config.timeout,
        },
        (res) => {
          const type = String(res.headers['content-type'] ?? '');
          if (res.statusCode !== 200 || !/^text\/plain\s*(;|$)/i.test(type)) {
            res.resume();
            reject(new Error(`HTTP ${res.statusCode} ${type || '(no content type)'}`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_POLICY_BYTES) {
              req.destroy(new Error('policy larger than 64 KB'));
              return;
            }
            chunks.push(c);
          });
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        },
      );
      // The whole exchange, not just idle time, is bounded.
      const timer = setTimeout(() => req.destroy(new Error('timed out')), config.timeout);
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.on('close', () => clearTimeout(timer));
      req.end();
    });
  }
}
