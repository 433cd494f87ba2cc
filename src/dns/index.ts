import type { Config } from '../config/index.js';
import { DnsResolver } from './resolver.js';

export type { CheckStatus, RecordCheck } from './check.js';
export { checkRecords, parseTags } from './check.js';
export type { MailHost, MailRoute } from './mx.js';
export { resolveAddresses, resolveMailRoute } from './mx.js';
export type { DnsOptions, RecordType, ResolveFunction } from './resolver.js';
export { DnsResolver, NOT_FOUND_CODES, parseServer } from './resolver.js';
export type { RecordPurpose, RequiredRecord, ServiceName, SetupOptions } from './setup.js';
export { mtaStsPolicy, publicPorts, requiredRecords, SERVICE_PORTS, zoneLine } from './setup.js';

/** A resolver using `config.dns` (servers and timeout). */
export function resolverFromConfig(config: Pick<Config, 'dns'>): DnsResolver {
  return new DnsResolver({ servers: config.dns.servers, timeout: config.dns.timeout });
}
