import type { Command } from 'commander';
import type { Message, Recipient, StoredEvent } from '../store/types.js';
import { configOption, loadCliConfig } from './config-option.js';
import { CliError, formatSize, printJson, printTable, say } from './output.js';
import { formatAge, formatDetail, formatTime, iso, sender, shortReply, withQueue } from './queue-common.js';

interface Opts {
  config?: string;
  body?: boolean;
  json?: boolean;
}

/** `mailroom queue show ID [--body]`: one message's envelope, recipients and timeline, or its raw text. */
export function addQueueShowCommand(cmd: Command): void {
  cmd
    .command('show')
    .description('show one message: envelope, each recipient’s state, attempts and replies, and its timeline')
    .argument('<id>', 'queue ID, from `mailroom queue list` or the `250 2.0.0 Ok: queued as ID` reply')
    .option('--body', 'print the raw message as stored instead (like postcat -bh), e.g. to save it to a file')
    .option('--json', 'print JSON for scripts (with --body, the message is added base64-encoded)')
    .addOption(configOption())
    .action(async (id: string, opts: Opts) => {
      const { config } = loadCliConfig(opts);
      const now = Date.now();
      await withQueue(config, async ({ store, blobs }) => {
        const message = await store.getMessage(id);
        const events = await store.listEvents(id);
        if (!message && events.length === 0) {
          throw new CliError(`message ${id} is not in the queue; see \`mailroom queue list\``);
        }
        if (!message) {
          // Delivered (or deleted) mail leaves the queue, but its timeline stays and still answers "what happened".
          if (opts.body) throw new CliError(`message ${id} has left the queue; its body is no longer kept`);
          if (opts.json) printJson({ id, inQueue: false, events: events.map(eventJson) });
          else {
            say(`message ${id} has left the queue; its timeline:`);
            printEvents(events);
          }
          return;
        }
        const recipients = await store.getRecipients(id);
        const body = opts.body ? await blobs.read(message.blobRef) : null;
        if (opts.json) {
          printJson({
            ...envelopeJson(message),
            inQueue: true,
            recipients: recipients.map(recipientJson),
            events: events.map(eventJson),
            ...(body ? { bodyBase64: body.toString('base64') } : {}),
          });
        } else if (body) {
          process.stdout.write(body);
        } else {
          printMessage(message, recipients, events, now);
        }
      });
    });
}

function printMessage(m: Message, recipients: Recipient[], events: StoredEvent[], now: number): void {
  const dsn = [m.dsnRet && `RET=${m.dsnRet}`, m.dsnEnvid && `ENVID=${m.dsnEnvid}`].filter(Boolean).join(' ');
  const fields: [string, string][] = [
    ['id', m.id],
    ['from', sender(m.mailFrom)],
    ['size', `${formatSize(m.size)} (${m.size} bytes)`],
    ['received', `${formatTime(m.receivedAt)} UTC (${formatAge(now - m.receivedAt)} ago)`],
    ['client', formatDetail(m.client) || '-'],
    ['body', [m.bodyType, ...(m.smtputf8 ? ['SMTPUTF8'] : [])].join(', ')],
    ['dsn', dsn || '-'],
  ];
  const width = Math.max(...fields.map(([k]) => k.length)) + 2;
  for (const [k, v] of fields) say(`${`${k}:`.padEnd(width)}${v}`);
  say('');
  printTable(
    ['RECIPIENT', 'STATE', 'ATTEMPTS', 'NEXT ATTEMPT', 'LEASE', 'LAST REPLY'],
    recipients.map((r) => [
      r.address,
      r.state,
      String(r.attempts),
      nextAttempt(r, now),
      r.leaseOwner === null ? '-' : `${r.leaseOwner} until ${formatTime(r.leaseUntil ?? 0).slice(11)}`,
      shortReply(r.lastReply, 80) || '-',
    ]),
  );
  say('');
  printEvents(events);
}

function printEvents(events: StoredEvent[]): void {
  if (events.length === 0) {
    say('no events recorded');
    return;
  }
  printTable(
    ['TIME (UTC)', 'EVENT', 'RECIPIENT', 'DETAIL'],
    events.map((e) => [formatTime(e.at), e.type, e.recipient ?? '-', formatDetail(e.detail)]),
  );
}

// Only waiting recipients have a meaningful next attempt; a held one waits for `queue release`.
function nextAttempt(r: Recipient, now: number): string {
  if (r.state !== 'queued' && r.state !== 'deferred') return '-';
  if (r.nextAttemptAt <= now) return 'now';
  return `${formatTime(r.nextAttemptAt)} (in ${formatAge(r.nextAttemptAt - now)})`;
}

function envelopeJson(m: Message) {
  return {
    id: m.id,
    from: m.mailFrom,
    size: m.size,
    receivedAt: iso(m.receivedAt),
    bodyType: m.bodyType,
    smtputf8: m.smtputf8,
    dsn: { ret: m.dsnRet, envid: m.dsnEnvid },
    client: m.client,
  };
}

function recipientJson(r: Recipient) {
  return {
    address: r.address,
    orcpt: r.orcpt,
    notify: r.notify,
    state: r.state,
    attempts: r.attempts,
    nextAttemptAt: iso(r.nextAttemptAt),
    lastReply: r.lastReply,
    lease: r.leaseOwner === null ? null : { owner: r.leaseOwner, until: iso(r.leaseUntil) },
    updatedAt: iso(r.updatedAt),
  };
}

function eventJson(e: StoredEvent) {
  return { at: iso(e.at), type: e.type, recipient: e.recipient, detail: e.detail };
}
