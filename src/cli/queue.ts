import { Command } from 'commander';
import type { QueuedMessage, QueueFilter } from '../store/types.js';
import { configOption, loadCliConfig } from './config-option.js';
import { plural } from './domain.js';
import { formatSize, printJson, printTable, say } from './output.js';
import { addQueueActionCommands } from './queue-actions.js';
import {
  formatAge,
  iso,
  lastReply,
  parseDomainOption,
  parseOlderThan,
  parseStates,
  sender,
  shortReply,
  WAITING,
  withQueue,
} from './queue-common.js';
import { addQueueDeleteCommand } from './queue-delete.js';
import { addQueueShowCommand } from './queue-show.js';
import { addQueueSummaryCommand } from './queue-summary.js';

interface ListOpts {
  config?: string;
  domain?: string;
  state?: string;
  olderThan?: string;
  json?: boolean;
}

/** `mailroom queue list|show|retry|hold|release|delete|summary`, after postqueue, postsuper and qshape. */
export function queueCommand(): Command {
  const cmd = new Command('queue').description(
    'inspect and manage the delivery queue: list, show, retry, hold, release, delete, summary',
  );

  cmd
    .command('list')
    .alias('ls')
    .description('list queued messages, oldest first, with each recipient’s state (like mailq)')
    .option('--domain <domain>', 'only messages with a recipient at this domain')
    .option(
      '--state <states>',
      `only messages with a recipient in these states, comma-separated (default: ${WAITING.join(',')})`,
    )
    .option('--older-than <age>', 'only messages received longer ago than this, e.g. 30m, 4h, 2d')
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nExamples:\n  mailroom queue list --state deferred --older-than 1h\n  mailroom queue list --domain gmail.com --json',
    )
    .action(async (opts: ListOpts) => {
      const { config } = loadCliConfig(opts);
      const now = Date.now();
      const filter: QueueFilter = {
        states: opts.state === undefined ? [...WAITING] : parseStates(opts.state),
        ...(opts.domain === undefined ? {} : { domain: parseDomainOption(opts.domain) }),
        ...(opts.olderThan === undefined ? {} : { olderThan: parseOlderThan(opts.olderThan, now) }),
      };
      const messages = await withQueue(config, ({ store }) => store.listQueueMessages(filter));
      if (opts.json) printJson(messages.map((m) => messageJson(m, now)));
      else printList(messages, now, opts.domain !== undefined || opts.state !== undefined || !!opts.olderThan);
    });

  addQueueShowCommand(cmd);
  addQueueActionCommands(cmd);
  addQueueDeleteCommand(cmd);
  addQueueSummaryCommand(cmd);
  return cmd;
}

function printList(messages: QueuedMessage[], now: number, filtered: boolean): void {
  if (messages.length === 0) {
    say(filtered ? 'no queued messages match' : 'the queue is empty');
    return;
  }
  printTable(
    ['ID', 'AGE', 'SIZE', 'FROM', 'RECIPIENTS', 'LAST REPLY'],
    messages.map((m) => [
      m.id,
      formatAge(now - m.receivedAt),
      formatSize(m.size),
      sender(m.mailFrom),
      m.recipients.map((r) => `${r.address} (${r.state})`).join(', '),
      shortReply(lastReply(m.recipients)) || '-',
    ]),
  );
  const bytes = messages.reduce((sum, m) => sum + m.size, 0);
  // mailq's closing line, so a glance tells how big the backlog is.
  say(`-- ${formatSize(bytes)} in ${plural(messages.length, 'message')}`);
}

/** One message for `--json`: the envelope and every recipient, times in ISO 8601. */
export function messageJson(m: QueuedMessage, now: number) {
  return {
    id: m.id,
    from: m.mailFrom,
    size: m.size,
    receivedAt: iso(m.receivedAt),
    ageSeconds: Math.floor((now - m.receivedAt) / 1000),
    recipients: m.recipients.map((r) => ({
      address: r.address,
      state: r.state,
      attempts: r.attempts,
      nextAttemptAt: iso(r.nextAttemptAt),
      lastReply: r.lastReply,
    })),
  };
}
