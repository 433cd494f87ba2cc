import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { configSchema } from '../config/index.js';
import type { DomainTransport } from '../store/types.js';
import { CliError } from './output.js';

// Domains, transports and sizes given on the command line are checked by the same schema as the
// config file, so `mailroom domain add` accepts exactly what `domains:` in mailroom.yaml accepts.
const domainsSchema = configSchema.shape.domains;
const limitsSchema = configSchema.shape.limits;
const queueSchema = configSchema.shape.queue;

/** A domain name as the store keeps it (lower-case A-label), or a CliError saying what is wrong. */
export function parseDomain(input: string, transport?: string): { name: string; transport: DomainTransport } {
  if (input.trim() === '') throw new CliError('a domain name is required, e.g. example.com');
  const ascii = domainToASCII(input.trim().replace(/\.$/, ''));
  const result = domainsSchema.safeParse([{ name: ascii || input, transport }]);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path[1] === 'transport' ? `transport "${transport}"` : `domain "${input}"`;
    throw new CliError(`${field} ${issue?.message ?? 'is not valid'}`);
  }
  const domain = result.data[0]!;
  return { name: domain.name, transport: domain.transport as DomainTransport };
}

/** A mailbox address `local@domain`: local part kept as typed, domain normalized. */
export function parseAddress(input: string): { address: string; local: string; domain: string } {
  const at = input.lastIndexOf('@');
  const local = at > 0 ? input.slice(0, at) : '';
  if (at <= 0 || at === input.length - 1 || !isLocalPart(local)) {
    throw new CliError(`"${input}" is not a mail address, expected local@domain such as alice@example.com`);
  }
  const { name } = parseDomain(input.slice(at + 1));
  return { address: `${local}@${name}`, local, domain: name };
}

/** An alias source: `local@domain`, or `@domain` for the domain's catch-all. */
export function parseAliasSource(input: string): { source: string; domain: string } {
  if (input.startsWith('@')) {
    const { name } = parseDomain(input.slice(1));
    return { source: `@${name}`, domain: name };
  }
  const { local, domain } = parseAddress(input);
  // Alias sources match case-insensitively, and the store keeps them lower-case.
  return { source: `${local.toLowerCase()}@${domain}`, domain };
}

// Dot-atom or any non-special characters (SMTPUTF8); quoted local parts are not worth the confusion here.
function isLocalPart(local: string): boolean {
  return (
    local.length <= 64 &&
    /^[^\s@<>()[\]\\,;:"]+$/u.test(local) &&
    !local.startsWith('.') &&
    !local.endsWith('.') &&
    !local.includes('..')
  );
}

/** `25MB`, `1GB` or a byte count, read with the config file's size rules. */
export function parseSize(input: string, what: string): number {
  const value = /^\d+$/.test(input.trim()) ? Number(input) : input;
  const result = limitsSchema.safeParse({ messageSize: value });
  if (!result.success) throw new CliError(`${what} "${input}" is not a size, expected e.g. 500MB or 2GB`);
  return result.data.messageSize;
}

/** `30m`, `24h`, `7d` or milliseconds, read with the config file's duration rules. */
export function parseDuration(input: string, what: string): number {
  const value = /^\d+$/.test(input.trim()) ? Number(input) : input;
  const result = queueSchema.safeParse({ lifetime: value });
  if (!result.success) throw new CliError(`${what} "${input}" is not a duration, expected e.g. 30m, 24h or 7d`);
  return result.data.lifetime;
}

/** An IPv4 or IPv6 address, as the store counts it (IPv6 lower-case). */
export function parseIp(input: string): string {
  const ip = input.trim();
  if (isIP(ip) === 0) throw new CliError(`"${input}" is not an IP address, expected e.g. 192.0.2.1 or 2001:db8::1`);
  return ip.toLowerCase();
}

/** A sender a user may be allowed to use: `local@domain`, or `@domain` for every address of a domain. */
export function parseSender(input: string): { sender: string; domain: string } {
  try {
    const { source, domain } = parseAliasSource(input.trim());
    return { sender: source, domain };
  } catch {
    throw new CliError(
      `sender "${input}" is not an address or @domain, expected e.g. sales@example.com or @example.com`,
    );
  }
}
