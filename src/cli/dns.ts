import { Command } from 'commander';
import {
  checkRecords,
  mtaStsPolicy,
  publicPorts,
  type RecordCheck,
  type RequiredRecord,
  requiredRecords,
  resolverFromConfig,
  zoneLine,
} from '../dns/index.js';
import { configOption, loadCliConfig } from './config-option.js';
import { CliError, printJson, printTable, say } from './output.js';
import { requireLocalDomain, withStore } from './store.js';
import { parseDomain } from './validate.js';

interface Opts {
  config?: string;
  json?: boolean;
  check?: boolean;
}

const STATUS_LABEL = { ok: 'OK', missing: 'missing', wrong: 'WRONG', error: 'error' } as const;

/** `mailroom dns DOMAIN [--check] [--json]`: the DNS records a mail domain needs, and whether they are live. */
export function dnsCommand(): Command {
  return new Command('dns')
    .description('print the DNS records a domain needs (MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, SRV, autoconfig)')
    .argument('<domain>', 'local domain, e.g. example.com')
    .option(
      '--check',
      'look the records up (through dns.servers) and say which are OK, missing or wrong; exit 1 unless all are OK',
    )
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .action(async (input: string, opts: Opts) => {
      const { config } = loadCliConfig(opts);
      const { name: domain } = parseDomain(input);
      const hostname = config.hostname.toLowerCase();
      const keys = await withStore(config, async (store) => {
        await requireLocalDomain(config, store, domain);
        return store.listDkimKeys(domain);
      });
      const records = requiredRecords({ domain, hostname, dkimKeys: keys, ports: publicPorts(config.listeners) });
      const policy = mtaStsPolicy(domain, hostname);
      // A bare host name cannot be an MX target others resolve; say so before printing records built on it.
      if (!hostname.includes('.')) {
        process.stderr.write(
          `warning: hostname "${hostname}" is not a fully qualified name; set hostname: in mailroom.yaml (e.g. mx.${domain})\n`,
        );
      }

      let checks: RecordCheck[] | null = null;
      if (opts.check) {
        let resolver: ReturnType<typeof resolverFromConfig>;
        try {
          resolver = resolverFromConfig(config);
        } catch (err) {
          throw new CliError(`${(err as Error).message} (dns.servers in the configuration)`);
        }
        checks = await checkRecords(records, resolver);
        if (checks.some((c) => c.status !== 'ok')) process.exitCode = 1;
      }

      if (opts.json) {
        const list = (checks ?? records).map((r) => ({ ...r, zone: r.value === null ? null : zoneLine(r) }));
        return printJson({ domain, hostname, records: list, mtaStsPolicy: { url: policy.url, text: policy.text } });
      }
      if (checks) return printChecks(domain, checks);
      printRecords(domain, hostname, records, policy);
    });
}

function printRecords(
  domain: string,
  hostname: string,
  records: RequiredRecord[],
  policy: ReturnType<typeof mtaStsPolicy>,
): void {
  say(`DNS records for ${domain} (mail server ${hostname}):`);
  say('');
  printTable(
    ['PURPOSE', 'TYPE', 'NAME', 'VALUE'],
    records.map((r) => [r.purpose, r.type, r.name, r.value ?? `(${r.note})`]),
  );
  say('');
  say('As zone-file lines (long TXT values are split into strings of at most 255 characters):');
  say('');
  for (const r of records) if (r.value !== null) say(zoneLine(r));
  const notes = records.filter((r) => r.note && r.value !== null);
  if (notes.length > 0) {
    say('');
    say('Notes:');
    for (const r of notes) say(`  ${r.purpose} ${r.name}: ${r.note}`);
  }
  say('');
  say(`MTA-STS policy, to serve at ${policy.url}`);
  say(`(mta-sts.${domain} needs an address record and a valid certificate for that name):`);
  say('');
  for (const line of policy.text.trimEnd().split('\n')) say(`  ${line}`);
  say('');
  say(`Check the published records with \`mailroom dns ${domain} --check\`.`);
}

function printChecks(domain: string, checks: RecordCheck[]): void {
  say(`DNS records for ${domain}, as the resolver sees them:`);
  say('');
  printTable(
    ['PURPOSE', 'TYPE', 'NAME', 'STATUS', 'FOUND'],
    checks.map((c) => [c.purpose, c.type, c.name, STATUS_LABEL[c.status], c.found.join(' | ') || '-']),
  );
  const todo = checks.filter((c) => c.status !== 'ok');
  const count = (s: RecordCheck['status']) => checks.filter((c) => c.status === s).length;
  say('');
  say(`${count('ok')} OK, ${count('missing')} missing, ${count('wrong')} wrong, ${count('error')} not checked`);
  if (todo.length === 0) return;
  say('');
  say('To change:');
  // Fixes carry whole zone-file lines, so they are printed in full rather than clipped in the table.
  for (const c of todo) say(`  ${c.purpose} ${c.name} (${STATUS_LABEL[c.status]}): ${c.fix}`);
}
