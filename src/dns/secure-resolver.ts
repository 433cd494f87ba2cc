import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { Resolver as NodeResolver } from 'node:dns';
import net from 'node:net';
import { parseServer } from './resolver.js';
import { decodeResponse, encodeQuery, RCODE, readName, TYPE, type WireRecord, type WireResponse } from './wire.js';

/** An answer from a validating resolver, with whether it was validated. */
export interface SecureAnswer {
  /** `found`: records of the type asked; `nodata`: the name exists without them; `nxdomain`: no such name. */
  status: 'found' | 'nodata' | 'nxdomain';
  /** The resolver set AD: the records (or their absence) are DNSSEC-validated. */
  secure: boolean;
  /** Records of the type asked for, from the end of any CNAME chain. */
  records: WireRecord[];
  /** The whole response, for names inside RDATA. */
  message: Buffer;
}

export interface SecureResolverOptions {
  /** `ip`, `ip:port` or `[ipv6]:port`; empty means the system's resolvers. */
  servers: string[];
  /** Milliseconds for a whole lookup, every server included. */
  timeout?: number;
  /** Longest time an answer is reused (ms); 0 disables the cache. Answers are kept no longer than their TTL. */
  cacheTtl?: number;
  /** How long "no such name/record" answers are reused (ms). */
  negativeTtl?: number;
  /** For tests: the clock. */
  now?: () => number;
}

interface Entry {
  expires: number;
  answer: SecureAnswer;
}

const CACHE_SIZE = 1000;

/**
 * Queries a validating resolver directly (UDP, TCP when truncated) and reports the AD bit, which
 * node:dns hides. It does no validation itself: it trusts the resolver and the path to it, so that
 * resolver should be on the same host (RFC 7672 section 8).
 */
export class SecureResolver {
  readonly servers: { host: string; port: number }[];
  private readonly timeout: number;
  private readonly cacheTtl: number;
  private readonly negativeTtl: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<SecureAnswer>>();

  constructor(opts: SecureResolverOptions) {
    const list = opts.servers.length > 0 ? opts.servers : new NodeResolver().getServers();
    this.servers = list.map((s) => splitServer(parseServer(s)));
    this.timeout = opts.timeout ?? 5000;
    this.cacheTtl = opts.cacheTtl ?? 60_000;
    this.negativeTtl = Math.min(opts.negativeTtl ?? 30_000, this.cacheTtl);
    this.now = opts.now ?? Date.now;
  }

  /**
   * Records of `type` at `name`. Throws an Error with `code` ESERVFAIL (which a validating resolver
   * also answers for data that fails validation), ETIMEOUT, EREFUSED or EBADRESP when there is no answer.
   */
  query(rawName: string, type: number): Promise<SecureAnswer> {
    const name = rawName.toLowerCase().replace(/\.$/, '');
    const key = `${type} ${name}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) return Promise.resolve(hit.answer);
    if (hit) this.cache.delete(key);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.ask(name, type)
        .then((answer) => {
          this.remember(key, answer);
          return answer;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** Forget every cached answer. */
  clearCache(): void {
    this.cache.clear();
  }

  private async ask(name: string, type: number): Promise<SecureAnswer> {
    if (this.servers.length === 0) throw dnsError('ECONNREFUSED', name, 'no DNS server configured');
    const share = Math.max(200, Math.floor(this.timeout / this.servers.length));
    let last: Error | null = null;
    // Servers in order; SERVFAIL from one may be a local failure, so the next one is asked too.
    for (const server of this.servers) {
      try {
        let response = await udpTwice(server, name, type, share);
        if (response.truncated) response = await tcpExchange(server, name, type, share);
        return toAnswer(name, type, response);
      } catch (err) {
        last = err as Error;
      }
    }
    throw last ?? dnsError('ESERVFAIL', name, 'no answer');
  }

  private remember(key: string, answer: SecureAnswer): void {
    const ttl =
      answer.status === 'found'
        ? Math.min(...answer.records.map((r) => r.ttl * 1000), this.cacheTtl)
        : this.negativeTtl;
    if (ttl <= 0) return;
    if (this.cache.size >= CACHE_SIZE) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key, { expires: this.now() + ttl, answer });
  }
}

/** `1.2.3.4`, `1.2.3.4:53`, `[::1]:53`, `::1` → host and port. */
function splitServer(s: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (bracketed) return { host: bracketed[1] as string, port: Number(bracketed[2]) };
  const v4 = /^([\d.]+):(\d+)$/.exec(s);
  if (v4) return { host: v4[1] as string, port: Number(v4[2]) };
  return { host: s, port: 53 };
}

function dnsError(code: string, name: string, why: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code} ${name}: ${why}`);
  err.code = code;
  return err;
}

/** The response must answer our question with our id, or it is someone else's (or forged). */
function matches(r: WireResponse, id: number, name: string, type: number): boolean {
  return r.id === id && r.question !== null && r.question.name === name && r.question.type === type;
}

function toAnswer(name: string, type: number, r: WireResponse): SecureAnswer {
  if (r.rcode === RCODE.NXDOMAIN) return { status: 'nxdomain', secure: r.ad, records: [], message: r.message };
  if (r.rcode === RCODE.SERVFAIL) throw dnsError('ESERVFAIL', name, 'server failure (or DNSSEC validation failed)');
  if (r.rcode !== RCODE.NOERROR) throw dnsError('EREFUSED', name, `response code ${r.rcode}`);
  // Follow the CNAME chain inside the answer, as the resolver did, to the records of the type asked.
  let owner = name;
  for (let hops = 0; hops < 8; hops++) {
    const cname = r.answers.find((a) => a.name === owner && a.type === TYPE.CNAME);
    if (!cname || type === TYPE.CNAME) break;
    owner = readName(r.message, cname.offset).name;
  }
  const records = r.answers.filter((a) => a.name === owner && a.type === type);
  return { status: records.length > 0 ? 'found' : 'nodata', secure: r.ad, records, message: r.message };
}

/** Two tries over UDP within `timeoutMs`, so one lost datagram is not a failed lookup. */
async function udpTwice(
  server: { host: string; port: number },
  name: string,
  type: number,
  timeoutMs: number,
): Promise<WireResponse> {
  const half = Math.max(100, Math.floor(timeoutMs / 2));
  try {
    return await udpExchange(server, name, type, half);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ETIMEOUT') throw err;
    return udpExchange(server, name, type, half);
  }
}

function udpExchange(
  server: { host: string; port: number },
  name: string,
  type: number,
  timeoutMs: number,
): Promise<WireResponse> {
  const id = randomInt(0, 0x10000);
  const query = encodeQuery(id, name, type);
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    const done = (err: Error | null, r?: WireResponse) => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(r as WireResponse);
    };
    const timer = setTimeout(() => done(dnsError('ETIMEOUT', name, `no answer from ${server.host}`)), timeoutMs);
    socket.on('error', (err) => done(err));
    socket.on('message', (msg, rinfo) => {
      if (rinfo.address !== server.host || rinfo.port !== server.port) return;
      let r: WireResponse;
      try {
        r = decodeResponse(msg);
      } catch {
        return; // not an answer to us; keep waiting for one
      }
      if (matches(r, id, name, type)) done(null, r);
    });
    socket.send(query, server.port, server.host, (err) => err && done(err));
  });
}

function tcpExchange(
  server: { host: string; port: number },
  name: string,
  type: number,
  timeoutMs: number,
): Promise<WireResponse> {
  const id = randomInt(0, 0x10000);
  const query = encodeQuery(id, name, type);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, r?: WireResponse) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(r as WireResponse);
    };
    const timer = setTimeout(() => done(dnsError('ETIMEOUT', name, `no answer from ${server.host} (TCP)`)), timeoutMs);
    socket.on('error', (err) => done(dnsError('ECONNREFUSED', name, err.message)));
    socket.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      socket.write(Buffer.concat([len, query]));
    });
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2) return;
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) return;
      try {
        const r = decodeResponse(buf.subarray(2, 2 + len));
        if (!matches(r, id, name, type)) done(dnsError('EBADRESP', name, 'answer to another question'));
        else done(null, r);
      } catch (err) {
        done(dnsError('EBADRESP', name, (err as Error).message));
      }
    });
    socket.on('end', () => done(dnsError('EBADRESP', name, 'connection closed before the answer')));
  });
}
