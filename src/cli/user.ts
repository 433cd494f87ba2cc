import { Command } from 'commander';
import { hashPassword } from '../auth/password.js';
import { configOption, loadCliConfig } from './config-option.js';
import { CliError, formatDate, formatSize, printJson, printTable, say } from './output.js';
import { readNewPassword } from './password-input.js';
import { requireLocalDomain, withStore } from './store.js';
import { parseAddress, parseDomain, parseSize } from './validate.js';

interface Opts {
  config?: string;
}

const stdinHelp = 'read the password from the first line of stdin (implied when stdin is not a terminal)';

/** `mailroom user add|passwd|list|rm`. */
export function userCommand(): Command {
  const cmd = new Command('user').description('manage mailbox users (who may log in over IMAP, POP3 and submission)');

  cmd
    .command('add')
    .description('add a user; the password is asked twice on the terminal, or read from stdin')
    .argument('<address>', 'the user’s address, local@domain; the domain must be local')
    .option('--password-stdin', stdinHelp)
    .option('--quota <size>', 'mailbox quota, e.g. 500MB or 2GB (default: none)')
    .addOption(configOption())
    .addHelpText('after', '\nExample:\n  printf "%s\\n" "$PASSWORD" | mailroom user add alice@example.com --quota 2GB')
    .action(async (input: string, opts: Opts & { passwordStdin?: boolean; quota?: string }) => {
      const { config } = loadCliConfig(opts);
      const { address, domain } = parseAddress(input);
      const quotaBytes = opts.quota === undefined ? null : parseSize(opts.quota, 'quota');
      await withStore(config, async (store) => {
        await requireLocalDomain(config, store, domain);
        const existing = await store.getUser(address);
        if (existing) {
          throw new CliError(
            `user ${existing.address} already exists; change its password with \`mailroom user passwd ${existing.address}\``,
          );
        }
        // Ask for the password only once the address is known to be usable.
        const hash = await hashPassword(await readNewPassword({ fromStdin: opts.passwordStdin }));
        await store.addUser(address, hash, { quotaBytes });
      });
      say(`user ${address} added${quotaBytes === null ? '' : ` (quota ${formatSize(quotaBytes)})`}`);
    });

  cmd
    .command('passwd')
    .description('set a new password for a user')
    .argument('<address>', 'the user’s address')
    .option('--password-stdin', stdinHelp)
    .addOption(configOption())
    .action(async (input: string, opts: Opts & { passwordStdin?: boolean }) => {
      const { config } = loadCliConfig(opts);
      const { address } = parseAddress(input);
      const stored = await withStore(config, async (store) => {
        const user = await store.getUser(address);
        if (!user) throw new CliError(`user ${address} does not exist; see \`mailroom user list\``);
        const hash = await hashPassword(await readNewPassword({ fromStdin: opts.passwordStdin }));
        if (!(await store.setPassword(user.address, hash))) {
          throw new CliError(`user ${address} was removed meanwhile; nothing was changed`);
        }
        return user.address;
      });
      say(`password changed for ${stored}`);
    });

  cmd
    .command('list')
    .alias('ls')
    .description('list users, optionally of one domain')
    .argument('[domain]', 'only users of this domain')
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .action(async (domainInput: string | undefined, opts: Opts & { json?: boolean }) => {
      const { config } = loadCliConfig(opts);
      const domain = domainInput === undefined ? undefined : parseDomain(domainInput).name;
      const users = await withStore(config, (store) => store.listUsers(domain));
      if (opts.json) {
        // Never the password hash: the listing is meant to be pasted and shared.
        printJson(
          users.map((u) => ({
            address: u.address,
            quotaBytes: u.quotaBytes,
            disabled: u.disabled,
            createdAt: new Date(u.createdAt).toISOString(),
          })),
        );
      } else if (users.length === 0) {
        say(
          domain
            ? `no users in ${domain}; add one with \`mailroom user add name@${domain}\``
            : 'no users; add one with `mailroom user add alice@example.com`',
        );
      } else {
        printTable(
          ['ADDRESS', 'QUOTA', 'STATUS', 'CREATED'],
          users.map((u) => [
            u.address,
            u.quotaBytes === null ? '-' : formatSize(u.quotaBytes),
            u.disabled ? 'disabled' : 'active',
            formatDate(u.createdAt),
          ]),
        );
      }
    });

  cmd
    .command('rm')
    .alias('remove')
    .description('remove a user together with its mailboxes and the mail in them')
    .argument('<address>', 'the user’s address')
    .addOption(configOption())
    .action(async (input: string, opts: Opts) => {
      const { config } = loadCliConfig(opts);
      const { address } = parseAddress(input);
      const removed = await withStore(config, (store) => store.removeUser(address));
      if (!removed) throw new CliError(`user ${address} does not exist; see \`mailroom user list\``);
      say(`user ${address} removed`);
    });

  return cmd;
}
