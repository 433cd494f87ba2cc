import type { Command } from 'commander';
import type { Store, User } from '../store/types.js';
import { configOption, loadCliConfig } from './config-option.js';
import { CliError, say } from './output.js';
import { withStore } from './store.js';
import { parseAddress, parseSender } from './validate.js';

interface Opts {
  config?: string;
}

const senderHelp = 'an address, or @domain for every address of a domain';

/** `mailroom user allow-sender` and `mailroom user deny-sender`: extra addresses a user may send as. */
export function addSenderCommands(cmd: Command): void {
  cmd
    .command('allow-sender')
    .description('let a user send as another address (envelope sender and From:) besides its own and its aliases')
    .argument('<address>', 'the user’s address')
    .argument('<sender>', senderHelp)
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nExamples:\n  mailroom user allow-sender alice@example.com sales@example.com\n' +
        '  mailroom user allow-sender app@example.com @example.com     # any address of example.com',
    )
    .action(async (input: string, senderInput: string, opts: Opts) => {
      const { config } = loadCliConfig(opts);
      const { address } = parseAddress(input);
      const { sender } = parseSender(senderInput);
      const message = await withStore(config, async (store) => {
        const user = await requireUser(store, address);
        if (sender === user.address.toLowerCase()) {
          throw new CliError(`${sender} is ${user.address}’s own address; a user may always send as itself`);
        }
        if ((await store.listSenderGrants(user.address)).includes(sender)) {
          return `${user.address} may already send as ${describeSender(sender)}`;
        }
        await store.addSenderGrant(user.address, sender);
        return `${user.address} may now send as ${describeSender(sender)}`;
      });
      say(message);
    });

  cmd
    .command('deny-sender')
    .description('take back an address granted with `user allow-sender`')
    .argument('<address>', 'the user’s address')
    .argument('<sender>', senderHelp)
    .addOption(configOption())
    .action(async (input: string, senderInput: string, opts: Opts) => {
      const { config } = loadCliConfig(opts);
      const { address } = parseAddress(input);
      const { sender } = parseSender(senderInput);
      const message = await withStore(config, async (store) => {
        const user = await requireUser(store, address);
        if (!(await store.removeSenderGrant(user.address, sender))) {
          const grants = await store.listSenderGrants(user.address);
          throw new CliError(
            `${user.address} has no grant for ${sender}; ` +
              (grants.length === 0 ? 'it has none' : `its grants are ${grants.join(', ')}`),
          );
        }
        return `${user.address} may no longer send as ${describeSender(sender)}`;
      });
      say(message);
    });
}

async function requireUser(store: Store, address: string): Promise<User> {
  const user = await store.getUser(address);
  if (!user) throw new CliError(`user ${address} does not exist; see \`mailroom user list\``);
  return user;
}

/** `sales@example.com`, or `any address of example.com` for `@example.com`. */
function describeSender(sender: string): string {
  return sender.startsWith('@') ? `any address of ${sender.slice(1)}` : sender;
}
