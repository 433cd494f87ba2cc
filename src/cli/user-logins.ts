import type { Command } from 'commander';
import type { Config } from '../config/index.js';
import type { AuthFailureCount } from '../store/types.js';
import { configOption, loadCliConfig } from './config-option.js';
import { CliError, formatDate, printJson, printTable, say } from './output.js';
import { withStore } from './store.js';
import { parseAddress, parseDuration, parseIp } from './validate.js';

interface Opts {
  config?: string;
}

type FailurePolicy = Config['auth']['failures'];

/** Where a counter stands against `auth.failures`: still counting, answers delayed, locked out, or over. */
export type FailureStatus = 'counting' | 'delayed' | 'locked' | 'expired';

export interface FailureState {
  status: FailureStatus;
  /** When a lock-out ends (the end of the window), or null when not locked. */
  lockedUntil: number | null;
}

/** The state of one IP's or user's failed logins at `now`, under the configured policy. */
export function failureState(
  kind: 'ip' | 'user',
  failures: AuthFailureCount,
  policy: FailurePolicy,
  now: number,
): FailureState {
  if (failures.firstAt === null || failures.count === 0 || now - failures.firstAt >= policy.window) {
    return { status: 'expired', lockedUntil: null };
  }
  const lockAfter = kind === 'ip' ? policy.ipLockAfter : policy.userLockAfter;
  if (failures.count >= lockAfter) return { status: 'locked', lockedUntil: failures.firstAt + policy.window };
  return { status: failures.count >= policy.delayAfter ? 'delayed' : 'counting', lockedUntil: null };
}

/** `locked until 2024-05-01 12:34`, `delayed`, ... for tables. */
export function describeFailureState(state: FailureState): string {
  return state.lockedUntil === null ? state.status : `locked until ${formatDate(state.lockedUntil)}`;
}

/** `mailroom user failures` and `mailroom user unlock`: failed logins and the lock-outs they cause. */
export function addLoginCommands(cmd: Command): void {
  cmd
    .command('failures')
    .description('list IP addresses and users with failed logins (brute-force protection counters)')
    .option('--since <duration>', 'only those with a failure within this time, e.g. 30m, 24h, 7d', '24h')
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nSTATUS follows auth.failures in the configuration: "delayed" answers are slowed down, "locked" ones\n' +
        'get 454 until the window ends; lift a lock-out with `mailroom user unlock`.',
    )
    .action(async (opts: Opts & { since: string; json?: boolean }) => {
      const { config } = loadCliConfig(opts);
      const sinceMs = parseDuration(opts.since, '--since');
      const now = Date.now();
      const entries = await withStore(config, (store) => store.listAuthFailures(now - sinceMs));
      const rows = entries.map((e) => ({ ...e, ...failureState(e.kind, e, config.auth.failures, now) }));
      if (opts.json) {
        printJson(
          rows.map((r) => ({
            kind: r.kind,
            key: r.key,
            count: r.count,
            firstAt: isoOrNull(r.firstAt),
            lastAt: isoOrNull(r.lastAt),
            status: r.status,
            lockedUntil: isoOrNull(r.lockedUntil),
          })),
        );
      } else if (rows.length === 0) {
        say(`no failed logins in the last ${opts.since}`);
      } else {
        printTable(
          ['KIND', 'IP OR USER', 'COUNT', 'FIRST', 'LAST', 'STATUS'],
          rows.map((r) => [
            r.kind,
            r.key,
            String(r.count),
            r.firstAt === null ? '-' : formatDate(r.firstAt),
            r.lastAt === null ? '-' : formatDate(r.lastAt),
            describeFailureState(r),
          ]),
        );
      }
    });

  cmd
    .command('unlock')
    .description('forget the failed logins of a user, or of an IP address with --ip, lifting any lock-out')
    .argument('[address]', 'the user’s address')
    .option('--ip <ip>', 'unlock this IP address instead of a user')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nExamples:\n  mailroom user unlock alice@example.com\n  mailroom user unlock --ip 192.0.2.10',
    )
    .action(async (input: string | undefined, opts: Opts & { ip?: string }) => {
      if ((input === undefined) === (opts.ip === undefined)) {
        throw new CliError('give either a user address or --ip IP, e.g. `mailroom user unlock alice@example.com`');
      }
      const { config } = loadCliConfig(opts);
      const target =
        opts.ip === undefined
          ? { kind: 'user' as const, key: parseAddress(input ?? '').address }
          : { kind: 'ip' as const, key: parseIp(opts.ip) };
      const label = target.kind === 'user' ? target.key : `IP ${target.key}`;
      const cleared = await withStore(config, (store) => store.clearAuthFailures(target.kind, target.key));
      say(
        cleared
          ? `failed logins of ${label} cleared; it may log in again`
          : `no failed logins recorded for ${label}; nothing to unlock`,
      );
    });
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
