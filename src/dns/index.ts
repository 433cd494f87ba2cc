import type { Config } from '../config/index.js';
import { DnsResolver } from './resolver.js';
import { SecureResolver } from './secure-resolver.js';

export type { CheckStatus, RecordCheck } from './check.js';
export { checkRecords, parseTags } from './check.js';
export type { MailHost, MailRoute } from './mx.js';
export { resolveAddresses, resolveMailRoute } from './mx.js';
export type { DnsOptions, RecordType, ResolveFunction } from './resolver.js';
export { DnsResolver, NOT_FOUND_CODES, parseServer } from './resolver.js';
export type { RecordPurpose, RequiredRecord, ServiceName, SetupOptions } from './setup.js';
export { mtaStsPolicy, publicPorts, requiredRecords, SERVICE_PORTS, zoneLine } from './setup.js';

/** A resolver using `config.dns` (servers and timeout). */
export function resolverFromConfig(config: { dns: Pick<Config['dns'], 'servers' | 'timeout'> }): DnsResolver {
  return new DnsResolver({ servers: config.dns.servers, timeout: config.dns.timeout });
}

/** The validating resolver DANE asks: `dns.dane.servers`, else `dns.servers`, else the system's. */
export function secureResolverFromConfig(config: Pick<Config, 'dns'>): SecureResolver {
  const own = config.dns.dane.servers;
  return new SecureResolver({ servers: own.length > 0 ? own : config.dns.servers, timeout: config.dns.timeout });
}
export { type SecureAnswer, SecureResolver, type SecureResolverOptions } from './secure-resolver.js';
export {
  formatTlsa,
  lookupTlsa,
  parseTlsa,
  secureAddresses,
  secureMx,
  type TlsaLookup,
  type TlsaRecord,
} from './tlsa.js';
