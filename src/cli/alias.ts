import { Command } from 'commander';
import { configOption, loadCliConfig } from './config-option.js';
import { CliError, formatDate, printJson, printTable, say } from './output.js';
import { requireLocalDomain, withStore } from './store.js';
import { parseAddress, parseAliasSource, parseDomain } from './validate.js';

interface Opts {
  config?: string;
}

/** `mailroom alias add|list|rm`. */
export function aliasCommand(): Command {
  const cmd = new Command('alias').description('manage aliases: addresses that forward to other addresses');

  cmd
    .command('add')
    .description('make SOURCE deliver to each DEST; adding to an existing alias keeps its destinations')
    .argument('<source>', 'local@domain, or @domain for a catch-all; the domain must be local')
    .argument('<dest...>', 'destination addresses (local or remote)')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nExamples:\n  mailroom alias add postmaster@example.com alice@example.com\n' +
        '  mailroom alias add @example.com alice@example.com     # catch-all for unknown users',
    )
    .action(async (sourceInput: string, destInputs: string[], opts: Opts) => {
      const { config } = loadCliConfig(opts);
      const { source, domain } = parseAliasSource(sourceInput);
      const dests = destInputs.map((d) => parseAddress(d).address);
      if (dests.some((d) => d.toLowerCase() === source.toLowerCase())) {
        throw new CliError(`alias ${source} cannot deliver to itself; give other destinations`);
      }
      const all = await withStore(config, async (store) => {
        await requireLocalDomain(config, store, domain);
        const existing = await store.getAlias(source);
        const have = new Set(existing?.destinations.map((d) => d.toLowerCase()));
        if (dests.every((d) => have.has(d.toLowerCase()))) {
          throw new CliError(`alias ${source} already delivers to ${dests.join(', ')}; nothing to add`);
        }
        // addAlias merges with the destinations an existing alias already has.
        return (await store.addAlias(source, dests)).destinations;
      });
      say(`alias ${source} -> ${all.join(', ')} added`);
    });

  cmd
    .command('list')
    .alias('ls')
    .description('list aliases, optionally of one domain')
    .argument('[domain]', 'only aliases whose source is in this domain')
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .action(async (domainInput: string | undefined, opts: Opts & { json?: boolean }) => {
      const { config } = loadCliConfig(opts);
      const domain = domainInput === undefined ? undefined : parseDomain(domainInput).name;
      const aliases = await withStore(config, (store) => store.listAliases(domain));
      if (opts.json) {
        printJson(aliases.map((a) => ({ ...a, createdAt: new Date(a.createdAt).toISOString() })));
      } else if (aliases.length === 0) {
        say(domain ? `no aliases in ${domain}` : 'no aliases; add one with `mailroom alias add SOURCE DEST`');
      } else {
        printTable(
          ['SOURCE', 'DESTINATIONS', 'CREATED'],
          aliases.map((a) => [a.source, a.destinations.join(', '), formatDate(a.createdAt)]),
        );
      }
    });

  cmd
    .command('rm')
    .alias('remove')
    .description('remove an alias, or only some of its destinations')
    .argument('<source>', 'local@domain or @domain')
    .argument('[dest...]', 'remove only these destinations (the alias goes when none is left)')
    .addOption(configOption())
    .action(async (sourceInput: string, destInputs: string[], opts: Opts) => {
      const { config } = loadCliConfig(opts);
      const { source } = parseAliasSource(sourceInput);
      const dests = destInputs.map((d) => parseAddress(d).address);
      const message = await withStore(config, async (store) => {
        const existing = await store.getAlias(source);
        if (!existing) throw new CliError(`alias ${source} does not exist; see \`mailroom alias list\``);
        if (dests.length === 0) {
          await store.removeAlias(source);
          return `alias ${source} removed`;
        }
        const have = new Set(existing.destinations.map((d) => d.toLowerCase()));
        const missing = dests.filter((d) => !have.has(d.toLowerCase()));
        if (missing.length > 0) {
          throw new CliError(
            `alias ${source} does not deliver to ${missing.join(', ')}; it delivers to ${existing.destinations.join(', ')}`,
          );
        }
        // The store drops the whole alias once no destination is left.
        await store.removeAlias(source, dests);
        const left = await store.getAlias(source);
        return left
          ? `removed ${dests.join(', ')} from alias ${source} (still -> ${left.destinations.join(', ')})`
          : `alias ${source} removed`;
      });
      say(message);
    });

  return cmd;
}
