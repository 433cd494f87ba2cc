import { Command } from 'commander';
import { configOption, loadCliConfig } from './config-option.js';
import { CliError, formatDate, printJson, printTable, say } from './output.js';
import { listLocalDomains, withStore } from './store.js';
import { parseDomain } from './validate.js';

interface Opts {
  config?: string;
}

/** `mailroom domain add|list|rm`. */
export function domainCommand(): Command {
  const cmd = new Command('domain').description('manage the local domains mailroom accepts mail for');

  cmd
    .command('add')
    .description('add a local domain')
    .argument('<name>', 'domain name, e.g. example.com')
    .option(
      '-t, --transport <transport>',
      'how its mail is delivered: mailbox, maildir, discard, sandbox or relay:HOST:PORT',
      'mailbox',
    )
    .addOption(configOption())
    .action(async (input: string, opts: Opts & { transport: string }) => {
      const { config, source } = loadCliConfig(opts);
      const { name, transport } = parseDomain(input, opts.transport);
      const inConfig = config.domains.find((d) => d.name === name);
      if (inConfig) {
        throw new CliError(
          `domain ${name} is already set in ${source ?? 'the built-in defaults'} (transport ${inConfig.transport}); ` +
            'change it there instead',
        );
      }
      await withStore(config, async (store) => {
        const existing = await store.getDomain(name);
        if (existing) {
          throw new CliError(
            `domain ${name} already exists (transport ${existing.transport}); ` +
              `to change it run \`mailroom domain rm ${name}\` and add it again`,
          );
        }
        await store.addDomain(name, transport);
      });
      say(`domain ${name} added (transport ${transport})`);
    });

  cmd
    .command('list')
    .alias('ls')
    .description('list local domains, from the configuration file and from the store')
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .action(async (opts: Opts & { json?: boolean }) => {
      const { config } = loadCliConfig(opts);
      const domains = await withStore(config, (store) => listLocalDomains(config, store));
      if (opts.json) {
        printJson(
          domains.map((d) => ({ ...d, createdAt: d.createdAt === null ? null : new Date(d.createdAt).toISOString() })),
        );
      } else if (domains.length === 0) {
        say('no local domains; add one with `mailroom domain add example.com`');
      } else {
        printTable(
          ['DOMAIN', 'TRANSPORT', 'SOURCE', 'CREATED'],
          domains.map((d) => [d.name, d.transport, d.source, d.createdAt === null ? '-' : formatDate(d.createdAt)]),
        );
      }
    });

  cmd
    .command('rm')
    .alias('remove')
    .description('remove a local domain added with `domain add`')
    .argument('<name>', 'domain name')
    .option('--force', 'also remove the domain’s users and aliases')
    .addOption(configOption())
    .action(async (input: string, opts: Opts & { force?: boolean }) => {
      const { config, source } = loadCliConfig(opts);
      const { name } = parseDomain(input);
      if (config.domains.some((d) => d.name === name)) {
        throw new CliError(
          source
            ? `domain ${name} is set in ${source}; remove it from \`domains:\` there`
            : `domain ${name} is a built-in default; set \`domains:\` in mailroom.yaml to replace it`,
        );
      }
      const removed = await withStore(config, async (store) => {
        if (!(await store.getDomain(name))) {
          throw new CliError(`domain ${name} does not exist; see \`mailroom domain list\``);
        }
        const users = await store.listUsers(name);
        const aliases = await store.listAliases(name);
        if ((users.length > 0 || aliases.length > 0) && !opts.force) {
          throw new CliError(
            `domain ${name} still has ${plural(users.length, 'user')} and ${plural(aliases.length, 'alias', 'aliases')}; ` +
              `remove them first or run \`mailroom domain rm ${name} --force\``,
          );
        }
        // Users and aliases first, so a failure part-way never leaves them pointing at a missing domain.
        for (const user of users) await store.removeUser(user.address);
        for (const alias of aliases) await store.removeAlias(alias.source);
        await store.removeDomain(name);
        return { users: users.length, aliases: aliases.length };
      });
      const extra =
        removed.users + removed.aliases > 0
          ? ` with ${plural(removed.users, 'user')} and ${plural(removed.aliases, 'alias', 'aliases')}`
          : '';
      say(`domain ${name} removed${extra}`);
    });

  return cmd;
}

/** `2 users`, `1 alias`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
