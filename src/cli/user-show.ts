import type { Command } from 'commander';
import { configOption, loadCliConfig } from './config-option.js';
import { CliError, formatDate, formatSize, printJson, say } from './output.js';
import { withStore } from './store.js';
import { describeFailureState, failureState } from './user-logins.js';
import { parseAddress } from './validate.js';

interface Opts {
  config?: string;
}

/** `mailroom user show ADDRESS`: everything about one user, without its secrets. */
export function addShowCommand(cmd: Command): void {
  cmd
    .command('show')
    .description('show one user: status, quota, login mechanisms, addresses it may send as, aliases to it')
    .argument('<address>', 'the user’s address')
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .action(async (input: string, opts: Opts & { json?: boolean }) => {
      const { config } = loadCliConfig(opts);
      const { address } = parseAddress(input);
      const now = Date.now();
      const policy = config.auth.failures;
      const info = await withStore(config, async (store) => {
        const user = await store.getUser(address);
        if (!user) throw new CliError(`user ${address} does not exist; see \`mailroom user list\``);
        const key = user.address.toLowerCase();
        const aliases = (await store.listAliases())
          .filter((a) => a.destinations.some((d) => d.toLowerCase() === key))
          .map((a) => a.source);
        const grants = await store.listSenderGrants(user.address);
        const failures = await store.getAuthFailures('user', user.address, now, policy.window);
        return { user, aliases, grants, failures };
      });
      const { user, aliases, grants, failures } = info;
      const state = failureState('user', failures, policy, now);
      if (opts.json) {
        // Never a secret: only whether each kind is set.
        printJson({
          address: user.address,
          createdAt: new Date(user.createdAt).toISOString(),
          quotaBytes: user.quotaBytes,
          disabled: user.disabled,
          cramMd5: user.cramSecret !== null,
          scramSha256: user.scram !== null,
          senderGrants: grants,
          aliases,
          failedLogins: { count: failures.count, status: state.status, lockedUntil: isoOrNull(state.lockedUntil) },
        });
        return;
      }
      const fields: [string, string][] = [
        ['address', user.address],
        ['status', user.disabled ? 'disabled' : 'active'],
        ['created', formatDate(user.createdAt)],
        ['quota', user.quotaBytes === null ? 'none' : formatSize(user.quotaBytes)],
        ['CRAM-MD5', user.cramSecret === null ? 'off' : 'on'],
        [
          'SCRAM-SHA-256',
          user.scram === null ? 'off (set the password again with `mailroom user passwd` to turn it on)' : 'on',
        ],
        [
          'sender grants',
          grants.length === 0 ? 'none (it may send as its own address and aliases)' : grants.join(', '),
        ],
        ['aliases to it', aliases.length === 0 ? 'none' : aliases.join(', ')],
        [
          'failed logins',
          failures.count === 0 ? 'none' : `${failures.count} in the current window (${describeFailureState(state)})`,
        ],
      ];
      const width = Math.max(...fields.map(([k]) => k.length)) + 2;
      for (const [k, v] of fields) say(`${`${k}:`.padEnd(width)}${v}`);
    });
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
