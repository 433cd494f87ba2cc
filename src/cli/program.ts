import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.js';
import { aliasCommand } from './alias.js';
import { apikeyCommand } from './apikey.js';
import { checkConfigCommand } from './check-config.js';
import { reportConfigError } from './config-option.js';
import { dkimCommand } from './dkim.js';
import { dnsCommand } from './dns.js';
import { domainCommand } from './domain.js';
import { mailboxCommand } from './mailbox.js';
import { CliError } from './output.js';
import { queueCommand } from './queue.js';
import { serveCommand } from './serve.js';
import { userCommand } from './user.js';

// package.json sits two levels up from both src/cli and dist/cli.
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** The `mailroom` command tree; parse with `parseAsync` and report failures with `reportError`. */
export function buildProgram(): Command {
  const program = new Command('mailroom')
    .description('a self-hosted mail server: SMTP intake, durable queue, local mailboxes, delivery')
    .version(version, '-V, --version')
    .addHelpText('after', '\nRun `mailroom <command> --help` for details; start with `mailroom serve --help`.');
  program.addCommand(serveCommand());
  program.addCommand(checkConfigCommand());
  program.addCommand(domainCommand());
  program.addCommand(userCommand());
  program.addCommand(aliasCommand());
  program.addCommand(mailboxCommand());
  program.addCommand(queueCommand());
  program.addCommand(dkimCommand());
  program.addCommand(dnsCommand());
  program.addCommand(apikeyCommand());
  // Settings reach only children made with .command(), not ones added with addCommand, so set it everywhere.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.showHelpAfterError('(add --help for usage)');
  return program;
}

/** Print any failure of a command for the user; returns the process exit code. */
export function reportError(err: unknown): number {
  if (err instanceof ConfigError) return reportConfigError(err);
  if (err instanceof CliError) {
    process.stderr.write(`error: ${err.message}\n`);
    return err.exitCode;
  }
  // Commander has already printed its own message.
  if (err instanceof CommanderError) return err.exitCode;
  process.stderr.write(`error: ${(err as Error)?.message ?? String(err)}\n`);
  if (process.env.DEBUG?.includes('mailroom')) process.stderr.write(`${(err as Error)?.stack}\n`);
  return 1;
}

/** Run the CLI with `argv` (as in process.argv); resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}
