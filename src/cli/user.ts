import { Command } from 'commander';
import { makeCredentials } from '../auth/credentials.js';
import { configOption, loadCliConfig } from './config-option.js';
import { CliError, formatDate, formatSize, printJson, printTable, say } from './output.js';
import { readNewPassword } from './password-input.js';
import { requireLocalDomain, withStore } from './store.js';
import { addLoginCommands } from './user-logins.js';
import { addQuotaCommand } from './user-quota.js';
import { addSenderCommands } from './user-senders.js';
import { addShowCommand } from './user-show.js';
import { parseAddress, parseDomain, parseSize } from './validate.js';

interface Opts {
  config?: string;
}

const stdinHelp = 'read the password from the first line of stdin (implied when stdin is not a terminal)';
const cramHelp =
  'also allow CRAM-MD5 logins; this stores a password-equivalent secret (the password itself, base64), ' +
  'so enable it only for clients that cannot use SCRAM-SHA-256 or PLAIN over TLS';

/** `mailroom user add|passwd|list|show|rm|disable|enable|allow-sender|deny-sender|failures|unlock|quota`. */
export function userCommand(): Command {
  const cmd = new Command('user').description('manage mailbox users (who may log in over IMAP, POP3 and submission)');

  cmd
    .command('add')
    .description('add a user; the password is asked twice on the terminal, or read from stdin')
    .argument('<address>', 'the user’s address, local@domain; the domain must be local')
    .option('--password-stdin', stdinHelp)
    .option('--quota <size>', 'mailbox quota, e.g. 500MB or 2GB (default: none)')
    .option('--cram-md5', cramHelp)
    .addOption(configOption())
    .addHelpText('after', '\nExample:\n  printf "%s\\n" "$PASSWORD" | mailroom user add alice@example.com --quota 2GB')
    .action(async (input: string, opts: Opts & { passwordStdin?: boolean; quota?: string; cramMd5?: boolean }) => {
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
        const password = await readNewPassword({ fromStdin: opts.passwordStdin });
        const credentials = await makeCredentials(password, { cram: opts.cramMd5 === true });
        await store.addUser(address, credentials.passwordHash, {
          quotaBytes,
          scram: credentials.scram,
          cramSecret: credentials.cramSecret,
        });
      });
      const notes = [
        ...(quotaBytes === null ? [] : [`quota ${formatSize(quotaBytes)}`]),
        ...(opts.cramMd5 ? ['CRAM-MD5 enabled'] : []),
      ];
      say(`user ${address} added${notes.length === 0 ? '' : ` (${notes.join(', ')})`}`);
    });

  cmd
    .command('passwd')
    .description('set a new password for a user (CRAM-MD5 stays enabled if it was)')
    .argument('<address>', 'the user’s address')
    .option('--password-stdin', stdinHelp)
    .option('--cram-md5', cramHelp)
    .option('--no-cram-md5', 'turn CRAM-MD5 off for this user and drop its secret')
    .addOption(configOption())
    .action(async (input: string, opts: Opts & { passwordStdin?: boolean; cramMd5?: boolean }) => {
      const { config } = loadCliConfig(opts);
      const { address } = parseAddress(input);
      const result = await withStore(config, async (store) => {
        const user = await store.getUser(address);
        if (!user) throw new CliError(`user ${address} does not exist; see \`mailroom user list\``);
        const hadCram = user.cramSecret !== null;
        const cram = opts.cramMd5 ?? hadCram;
        const password = await readNewPassword({ fromStdin: opts.passwordStdin });
        // Every secret is replaced together, so no mechanism keeps accepting the old password.
        if (!(await store.setCredentials(user.address, await makeCredentials(password, { cram })))) {
          throw new CliError(`user ${address} was removed meanwhile; nothing was changed`);
        }
        return { address: user.address, note: cram ? ' (CRAM-MD5 enabled)' : hadCram ? ' (CRAM-MD5 disabled)' : '' };
      });
      say(`password changed for ${result.address}${result.note}`);
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

  addShowCommand(cmd);
  for (const disabled of [true, false]) {
    cmd
      .command(disabled ? 'disable' : 'enable')
      .description(
        disabled
          ? 'disable a user: its logins (IMAP, POP3, submission) are refused and mail to it bounces'
          : 'enable a disabled user again',
      )
      .argument('<address>', 'the user’s address')
      .addOption(configOption())
      .action(async (input: string, opts: Opts) => {
        const { config } = loadCliConfig(opts);
        const { address } = parseAddress(input);
        const state = disabled ? 'disabled' : 'enabled';
        const message = await withStore(config, async (store) => {
          const user = await store.getUser(address);
          if (!user) throw new CliError(`user ${address} does not exist; see \`mailroom user list\``);
          if (user.disabled === disabled) return `user ${user.address} is already ${state}`;
          if (!(await store.setUserDisabled(user.address, disabled))) {
            throw new CliError(`user ${address} was removed meanwhile; nothing was changed`);
          }
          return `user ${user.address} ${state}`;
        });
        say(message);
      });
  }
  addSenderCommands(cmd);
  addLoginCommands(cmd);
  addQuotaCommand(cmd);

  return cmd;
}
