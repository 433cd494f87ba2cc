import { createHash } from 'node:crypto';
import { dkimRecord, txtStrings } from '../dkim/index.js';
import type { DkimKey } from '../store/types.js';

/** What a record is for, as `mailroom dns` labels it. */
export type RecordPurpose = 'MX' | 'SPF' | 'DKIM' | 'DMARC' | 'MTA-STS' | 'TLS-RPT' | 'SRV' | 'autoconfig';

/** One DNS record a mail domain should publish. */
export interface RequiredRecord {
  purpose: RecordPurpose;
  type: 'MX' | 'TXT' | 'SRV' | 'CNAME';
  /** Owner name, without the trailing dot. */
  name: string;
  /**
   * Presentation value: `10 mx.example.com` (MX), `0 1 587 mx.example.com` (SRV), the target
   * (CNAME) or the unsplit text (TXT). Null when there is nothing to publish yet (DKIM without a key).
   */
  value: string | null;
  /** Extra advice shown with the record. */
  note?: string;
  /** For DKIM records: the selector, which `check` compares by key. */
  selector?: string;
}

/** Client-facing services and their ports, advertised with SRV records (RFC 6186, RFC 8314). */
export const SERVICE_PORTS = { submission: 587, submissions: 465, imaps: 993, pop3s: 995 } as const;
export type ServiceName = keyof typeof SERVICE_PORTS;

export interface SetupOptions {
  domain: string;
  /** The mail server's host name (`config.hostname`): MX target and SRV target. */
  hostname: string;
  /** The domain's DKIM keys; all stay published, the active one signs. */
  dkimKeys: Pick<DkimKey, 'domain' | 'selector' | 'algorithm' | 'publicKey' | 'active'>[];
  /** Public ports, where they differ from the standard ones. */
  ports?: Partial<Record<ServiceName, number>>;
}

const MTA_STS_MAX_AGE = 604_800; // one week, the common choice; senders cache the policy this long

/** The MTA-STS policy file (RFC 8461 §3.2), the URL to serve it at, and the id for its TXT record. */
export function mtaStsPolicy(domain: string, hostname: string): { url: string; text: string; id: string } {
  // `testing` first: with `enforce`, a certificate problem on the MX makes senders hold mail back.
  const text = `version: STSv1\nmode: testing\nmx: ${hostname}\nmax_age: ${MTA_STS_MAX_AGE}\n`;
  // Derived from the policy, so the id changes exactly when the policy does (senders refetch on change).
  const id = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return { url: `https://mta-sts.${domain}/.well-known/mta-sts.txt`, text, id };
}

/** Every record `domain` needs for sending and receiving through `hostname`, in display order. */
export function requiredRecords(opts: SetupOptions): RequiredRecord[] {
  const { domain, hostname } = opts;
  const postmaster = `postmaster@${domain}`;
  const records: RequiredRecord[] = [
    { purpose: 'MX', type: 'MX', name: domain, value: `10 ${hostname}` },
    {
      purpose: 'SPF',
      type: 'TXT',
      name: domain,
      value: 'v=spf1 mx -all',
      note: 'authorizes the MX hosts to send for the domain; add other senders (ip4:, include:) before -all',
    },
  ];
  const keys = [...opts.dkimKeys].sort((a, b) => Number(b.active) - Number(a.active));
  if (keys.length === 0) {
    records.push({
      purpose: 'DKIM',
      type: 'TXT',
      name: `*._domainkey.${domain}`,
      value: null,
      note: `no DKIM key yet: run \`mailroom dkim generate ${domain}\``,
    });
  }
  for (const key of keys) {
    const { name, value } = dkimRecord(key);
    records.push({
      purpose: 'DKIM',
      type: 'TXT',
      name,
      value,
      selector: key.selector,
      note: key.active
        ? `active key (${key.algorithm})`
        : `inactive key (${key.algorithm}): keep it published while mail signed with it may still arrive, then \`mailroom dkim rm ${domain} ${key.selector}\``,
    });
  }
  const policy = mtaStsPolicy(domain, hostname);
  records.push(
    {
      purpose: 'DMARC',
      type: 'TXT',
      name: `_dmarc.${domain}`,
      value: `v=DMARC1; p=quarantine; rua=mailto:${postmaster}`,
    },
    {
      purpose: 'MTA-STS',
      type: 'TXT',
      name: `_mta-sts.${domain}`,
      value: `v=STSv1; id=${policy.id}`,
      note: `serve the policy file at ${policy.url}`,
    },
    { purpose: 'TLS-RPT', type: 'TXT', name: `_smtp._tls.${domain}`, value: `v=TLSRPTv1; rua=mailto:${postmaster}` },
  );
  for (const service of Object.keys(SERVICE_PORTS) as ServiceName[]) {
    const port = opts.ports?.[service] ?? SERVICE_PORTS[service];
    records.push({ purpose: 'SRV', type: 'SRV', name: `_${service}._tcp.${domain}`, value: `0 1 ${port} ${hostname}` });
  }
  records.push({
    purpose: 'autoconfig',
    type: 'CNAME',
    name: `autoconfig.${domain}`,
    value: hostname,
    note: 'mail clients (Thunderbird) look here for settings',
  });
  return records;
}

/** The public port of each client service: a listener's port when it listens beyond loopback. */
export function publicPorts(
  listeners: { protocol: string; address: string; port: number }[],
): Partial<Record<ServiceName, number>> {
  const ports: Partial<Record<ServiceName, number>> = {};
  for (const l of listeners) {
    if (!(l.protocol in SERVICE_PORTS) || isLoopback(l.address)) continue;
    ports[l.protocol as ServiceName] ??= l.port;
  }
  return ports;
}

function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || address.startsWith('127.');
}

/** The record as a BIND zone-file line; TXT values are split into quoted strings of at most 255 octets. */
export function zoneLine(record: Pick<RequiredRecord, 'type' | 'name' | 'value'>): string {
  const owner = `${record.name}.`;
  const value = record.value ?? '';
  switch (record.type) {
    case 'TXT':
      return `${owner} IN TXT ${txtStrings(value)
        .map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`)
        .join(' ')}`;
    case 'CNAME':
      return `${owner} IN CNAME ${fqdn(value)}`;
    default: {
      // MX and SRV end in a host name, which must be absolute in a zone file.
      const parts = value.split(' ');
      const host = parts.pop() ?? '';
      return `${owner} IN ${record.type} ${[...parts, fqdn(host)].join(' ')}`;
    }
  }
}

function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}
