import { Command, Option } from 'commander';
import { DKIM_ALGORITHMS, defaultSelector, dkimRecord, generateDkimKey, isSelector } from '../dkim/index.js';
import { zoneLine } from '../dns/index.js';
import type { DkimAlgorithm, DkimKey, Store } from '../store/types.js';
import { configOption, loadCliConfig } from './config-option.js';
import { CliError, formatDate, printJson, printTable, say } from './output.js';
import { requireLocalDomain, withStore } from './store.js';
import { parseDomain } from './validate.js';

interface Opts {
  config?: string;
}

/** `mailroom dkim generate|list|activate|rm|record`. */
export function dkimCommand(): Command {
  const cmd = new Command('dkim').description('manage the DKIM keys outgoing mail is signed with');

  cmd
    .command('generate')
    .description('make a new key for a domain, store it and print the DNS record to publish')
    .argument('<domain>', 'local domain, e.g. example.com')
    .option('-s, --selector <selector>', 'selector (default: mr + year and month, e.g. mr202405)')
    .addOption(new Option('-a, --algorithm <algorithm>', 'key type').choices(DKIM_ALGORITHMS).default('rsa-2048'))
    .option('--activate', 'sign with the new key right away (the first key of a domain always is)')
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .action(
      async (
        input: string,
        opts: Opts & { selector?: string; algorithm: DkimAlgorithm; activate?: boolean; json?: boolean },
      ) => {
        const { config } = loadCliConfig(opts);
        const { name: domain } = parseDomain(input);
        if (opts.selector !== undefined && !isSelector(opts.selector)) {
          throw new CliError(
            `selector "${opts.selector}" must be DNS labels of letters, digits, - and _ (e.g. mail2024)`,
          );
        }
        const key = await withStore(config, async (store) => {
          await requireLocalDomain(config, store, domain);
          const taken = new Set((await store.listDkimKeys(domain)).map((k) => k.selector));
          const selector = opts.selector?.toLowerCase() ?? freeSelector(taken);
          if (taken.has(selector)) {
            throw new CliError(
              `domain ${domain} already has a DKIM key with selector ${selector}; choose another with --selector`,
            );
          }
          const pair = generateDkimKey(opts.algorithm);
          return store.addDkimKey({ domain, selector, algorithm: opts.algorithm, ...pair, active: opts.activate });
        });
        if (opts.json) return printJson(publicView(key));
        say(
          key.active
            ? `DKIM key ${key.selector} (${key.algorithm}) for ${domain} stored; mail from ${domain} is signed with it from now on.`
            : `DKIM key ${key.selector} (${key.algorithm}) for ${domain} stored, not active yet.`,
        );
        say('Publish this DNS TXT record:');
        say('');
        printRecord(key);
        if (!key.active) {
          say('');
          say(
            `Once the record is visible (check with \`mailroom dns ${domain} --check\`), switch to the key with ` +
              `\`mailroom dkim activate ${domain} ${key.selector}\`.`,
          );
        }
      },
    );

  cmd
    .command('list')
    .alias('ls')
    .description('list DKIM keys (never the private keys)')
    .argument('[domain]', 'only this domain')
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .action(async (input: string | undefined, opts: Opts & { json?: boolean }) => {
      const { config } = loadCliConfig(opts);
      const domain = input === undefined ? undefined : parseDomain(input).name;
      const keys = await withStore(config, (store) => store.listDkimKeys(domain));
      if (opts.json) return printJson(keys.map(publicView));
      if (keys.length === 0) {
        return say(
          `no DKIM keys${domain ? ` for ${domain}` : ''}; make one with \`mailroom dkim generate ${domain ?? 'example.com'}\``,
        );
      }
      printTable(
        ['DOMAIN', 'SELECTOR', 'ALGORITHM', 'ACTIVE', 'CREATED', 'DNS NAME'],
        keys.map((k) => [
          k.domain,
          k.selector,
          k.algorithm,
          k.active ? 'yes' : 'no',
          formatDate(k.createdAt),
          dkimRecord(k).name,
        ]),
      );
    });

  cmd
    .command('activate')
    .description('sign new mail with this key; the previous key stays published until `dkim rm`')
    .argument('<domain>', 'domain')
    .argument('<selector>', 'selector of the key to sign with')
    .addOption(configOption())
    .action(async (input: string, selectorInput: string, opts: Opts) => {
      const { config } = loadCliConfig(opts);
      const { name: domain } = parseDomain(input);
      const selector = selectorInput.toLowerCase();
      const previous = await withStore(config, async (store) => {
        const key = await findKey(store, domain, selector);
        const active = await store.getActiveDkimKey(domain);
        if (active?.selector === key.selector) return key;
        await store.activateDkimKey(domain, selector);
        return active;
      });
      if (previous?.selector === selector) return say(`DKIM key ${selector} of ${domain} is already active`);
      say(`mail from ${domain} is now signed with DKIM key ${selector}`);
      if (previous) {
        say(
          `keep the record of ${previous.selector} published while mail signed with it may still be checked ` +
            `(a week is plenty), then run \`mailroom dkim rm ${domain} ${previous.selector}\``,
        );
      }
    });

  cmd
    .command('rm')
    .alias('remove')
    .description('delete a key; unpublish its DNS record afterwards')
    .argument('<domain>', 'domain')
    .argument('<selector>', 'selector of the key')
    .option('--force', 'also remove the active key (mail from the domain is then sent unsigned)')
    .addOption(configOption())
    .action(async (input: string, selectorInput: string, opts: Opts & { force?: boolean }) => {
      const { config } = loadCliConfig(opts);
      const { name: domain } = parseDomain(input);
      const selector = selectorInput.toLowerCase();
      await withStore(config, async (store) => {
        const key = await findKey(store, domain, selector);
        if (key.active && !opts.force) {
          const other = (await store.listDkimKeys(domain)).find((k) => !k.active);
          throw new CliError(
            `DKIM key ${selector} is the active key of ${domain}; ` +
              (other
                ? `activate another first (\`mailroom dkim activate ${domain} ${other.selector}\`)`
                : `generate and activate a new one first (\`mailroom dkim generate ${domain} --activate\`)`) +
              ', or add --force to send unsigned',
          );
        }
        await store.removeDkimKey(domain, selector);
      });
      say(`DKIM key ${selector} of ${domain} removed; delete the TXT record ${selector}._domainkey.${domain} too`);
    });

  cmd
    .command('record')
    .description('print the DNS TXT record of a domain’s keys (or one key)')
    .argument('<domain>', 'domain')
    .argument('[selector]', 'only this key')
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .action(async (input: string, selectorInput: string | undefined, opts: Opts & { json?: boolean }) => {
      const { config } = loadCliConfig(opts);
      const { name: domain } = parseDomain(input);
      const keys = await withStore(config, async (store) =>
        selectorInput === undefined
          ? store.listDkimKeys(domain)
          : [await findKey(store, domain, selectorInput.toLowerCase())],
      );
      if (opts.json) return printJson(keys.map(publicView));
      if (keys.length === 0) {
        throw new CliError(`domain ${domain} has no DKIM keys; make one with \`mailroom dkim generate ${domain}\``);
      }
      keys.forEach((key, i) => {
        if (i > 0) say('');
        if (keys.length > 1) say(`# ${key.selector} (${key.algorithm}${key.active ? ', active' : ''})`);
        printRecord(key);
      });
    });

  return cmd;
}

/** `mr202405`, or `mr202405-2`, `-3`, ... when a key was already made this month. */
function freeSelector(taken: Set<string>, now = new Date()): string {
  const base = defaultSelector(now);
  let selector = base;
  for (let n = 2; taken.has(selector); n++) selector = `${base}-${n}`;
  return selector;
}

async function findKey(store: Store, domain: string, selector: string): Promise<DkimKey> {
  const keys = await store.listDkimKeys(domain);
  const key = keys.find((k) => k.selector === selector);
  if (key) return key;
  throw new CliError(
    keys.length === 0
      ? `domain ${domain} has no DKIM keys; make one with \`mailroom dkim generate ${domain}\``
      : `domain ${domain} has no DKIM key ${selector}; its selectors: ${keys.map((k) => k.selector).join(', ')}`,
  );
}

function printRecord(key: DkimKey): void {
  const record = dkimRecord(key);
  say(`  name:  ${record.name}`);
  say(`  type:  TXT`);
  say(`  value: ${record.value}`);
  say('');
  say('  as a zone-file line:');
  say(`  ${zoneLine({ type: 'TXT', ...record })}`);
}

/** A key as shown to people and scripts: everything but the private key. */
function publicView(key: DkimKey) {
  const record = dkimRecord(key);
  return {
    domain: key.domain,
    selector: key.selector,
    algorithm: key.algorithm,
    active: key.active,
    createdAt: new Date(key.createdAt).toISOString(),
    publicKey: key.publicKey,
    record: { name: record.name, type: 'TXT', value: record.value, zone: zoneLine({ type: 'TXT', ...record }) },
  };
}
