import type { Command } from 'commander';
import { configOption, loadCliConfig } from './config-option.js';
import { CliError, formatSize, printJson, say } from './output.js';
import { withStore } from './store.js';
import { parseAddress, parseSize } from './validate.js';

interface Opts {
  config?: string;
  json?: boolean;
}

/** `mailroom user quota ADDRESS [SIZE|none]`: show a user's quota and usage, or set it. */
export function addQuotaCommand(cmd: Command): void {
  cmd
    .command('quota')
    .description('show a user’s mailbox quota and usage, or set it (none: back to mailbox.quota from the config)')
    .argument('<address>', 'the user’s address')
    .argument('[size]', 'new quota, e.g. 500MB or 2GB, or none')
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nExamples:\n  mailroom user quota alice@example.com 2GB\n  mailroom user quota alice@example.com',
    )
    .action(async (input: string, sizeInput: string | undefined, opts: Opts) => {
      const { config } = loadCliConfig(opts);
      const { address } = parseAddress(input);
      const newQuota =
        sizeInput === undefined ? undefined : sizeInput.toLowerCase() === 'none' ? null : parseSize(sizeInput, 'quota');
      const info = await withStore(config, async (store) => {
        const user = await store.getUser(address);
        if (!user) throw new CliError(`user ${address} does not exist; see \`mailroom user list\``);
        if (newQuota !== undefined && !(await store.setUserQuota(user.address, newQuota))) {
          throw new CliError(`user ${address} was removed meanwhile; nothing was changed`);
        }
        const own = newQuota === undefined ? user.quotaBytes : newQuota;
        return { address: user.address, own, usage: await store.mailboxUsage(user.id) };
      });
      const limit = info.own ?? config.mailbox.quota ?? null;
      if (opts.json) {
        printJson({
          address: info.address,
          quotaBytes: limit,
          source: info.own !== null ? 'user' : limit !== null ? 'config' : 'none',
          usedBytes: info.usage.bytes,
          messages: info.usage.messages,
        });
        return;
      }
      const limitText =
        limit === null
          ? 'unlimited'
          : `${formatSize(limit)}${info.own === null ? ' (mailbox.quota)' : ''}, ${percent(info.usage.bytes, limit)} used`;
      const verb = newQuota === undefined ? 'quota of' : 'quota set for';
      say(
        `${verb} ${info.address}: ${limitText}; ${formatSize(info.usage.bytes)} in ${info.usage.messages} message(s)`,
      );
    });
}

function percent(used: number, limit: number): string {
  return `${Math.min(999, Math.round((used / limit) * 100))}%`;
}
