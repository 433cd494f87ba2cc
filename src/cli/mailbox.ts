import { Command } from 'commander';
import type { Config } from '../config/index.js';
import type { BlobStore, MailboxMessage } from '../store/types.js';
import { configOption, loadCliConfig } from './config-option.js';
import { CliError, formatDate, formatSize, printJson, printTable, say } from './output.js';
import { withResources } from './store.js';

interface Opts {
  config?: string;
  mailbox: string;
}

/** `mailroom mailbox list|read`: look into the mailbox store without a mail client. */
export function mailboxCommand(): Command {
  const cmd = new Command('mailbox').description('read the mail delivered to a local user (INBOX by default)');

  cmd
    .command('list')
    .alias('ls')
    .description("list the messages in a user's mailbox")
    .argument('<address>', 'the user, local@domain')
    .option('-m, --mailbox <name>', 'mailbox name', 'INBOX')
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .action(async (address: string, opts: Opts & { json?: boolean }) => {
      const { config } = loadCliConfig(opts);
      await withMailbox(config, address, opts.mailbox, async (messages, blobs) => {
        const rows = await Promise.all(
          messages.map(async (m) => ({ ...m, ...summarize(await readHead(blobs, m.blobRef)) })),
        );
        if (opts.json) {
          printJson(
            rows.map((r) => ({
              uid: r.uid,
              date: new Date(r.internalDate).toISOString(),
              size: r.size,
              flags: r.flags,
              from: r.from,
              subject: r.subject,
            })),
          );
        } else if (rows.length === 0) {
          say(`${opts.mailbox} of ${address} is empty`);
        } else {
          printTable(
            ['UID', 'DATE', 'SIZE', 'FROM', 'SUBJECT'],
            rows.map((r) => [String(r.uid), formatDate(r.internalDate), formatSize(r.size), r.from, r.subject]),
          );
        }
      });
    });

  cmd
    .command('read')
    .alias('cat')
    .description('print one message exactly as stored (RFC 5322, CRLF line endings)')
    .argument('<address>', 'the user, local@domain')
    .argument('<uid>', 'the message UID from `mailroom mailbox list`')
    .option('-m, --mailbox <name>', 'mailbox name', 'INBOX')
    .addOption(configOption())
    .action(async (address: string, uidText: string, opts: Opts) => {
      const { config } = loadCliConfig(opts);
      const uid = Number(uidText);
      if (!Number.isInteger(uid) || uid <= 0)
        throw new CliError(`"${uidText}" is not a UID; see \`mailroom mailbox list ${address}\``);
      await withMailbox(config, address, opts.mailbox, async (messages, blobs) => {
        const m = messages.find((x) => x.uid === uid);
        if (!m)
          throw new CliError(`no message with UID ${uid} in ${opts.mailbox}; see \`mailroom mailbox list ${address}\``);
        process.stdout.write(await blobs.read(m.blobRef));
      });
    });

  return cmd;
}

async function withMailbox(
  config: Config,
  address: string,
  name: string,
  fn: (messages: MailboxMessage[], blobs: BlobStore) => Promise<void>,
): Promise<void> {
  await withResources(config, async ({ store, blobs }) => {
    const user = await store.getUser(address);
    if (!user) throw new CliError(`no user ${address}; list users with \`mailroom user list\``);
    const mailbox = await store.getMailbox(user.id, name);
    await fn(mailbox ? await store.listMailboxMessages(mailbox.id) : [], blobs);
  });
}

/** The header section of a stored message (enough for From and Subject). */
async function readHead(blobs: BlobStore, ref: string): Promise<string> {
  const data = await blobs.read(ref);
  const end = data.indexOf('\r\n\r\n');
  return data.subarray(0, end < 0 ? Math.min(data.length, 65536) : end).toString('utf8');
}

/** From and Subject from a header section, unfolded; MIME encoded-words are shown as sent. */
export function summarize(head: string): { from: string; subject: string } {
  const unfolded = head.replace(/\r\n[ \t]+/g, ' ');
  const field = (name: string) =>
    new RegExp(`^${name}:[ \\t]*(.*)$`, 'im')
      .exec(unfolded)?.[1]
      ?.trim()
      .replace(/[\x00-\x1f\x7f]/g, '') ?? '';
  return { from: field('From'), subject: field('Subject') };
}
