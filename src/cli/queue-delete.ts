import readline from 'node:readline';
import type { Command } from 'commander';
import type { BlobStore, PurgedMessage, QueuedMessage, Store } from '../store/types.js';
import { configOption, loadCliConfig } from './config-option.js';
import { plural } from './domain.js';
import { CliError, printJson, say } from './output.js';
import { parseSelector, requireMessages, type Selector, sender, withQueue } from './queue-common.js';

interface Opts {
  config?: string;
  all?: boolean;
  domain?: string;
  yes?: boolean;
  json?: boolean;
}

// Enough to recognise what is about to go; a longer list scrolls the question away.
const SHOWN_BEFORE_ASKING = 20;

/** `mailroom queue delete (ID... | --all | --domain D) [--yes]`, like postsuper -d. */
export function addQueueDeleteCommand(cmd: Command): void {
  cmd
    .command('delete')
    .alias('rm')
    .description('delete messages from the queue whatever their recipients’ state, without notifying the sender')
    .argument('[id...]', 'queue IDs of the messages')
    .option('--all', 'every message in the queue')
    .option('--domain <domain>', 'every message with a recipient at this domain (its other recipients too)')
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nA message with a recipient being delivered right now is skipped; run the command again afterwards.\n' +
        '\nExamples:\n  mailroom queue delete QDR6CVN86RZ8KDZ4YQ\n  mailroom queue delete --domain spam.example --yes',
    )
    .action(async (ids: string[], opts: Opts) => {
      const { config } = loadCliConfig(opts);
      const selector = parseSelector(ids, opts, 'delete');
      await withQueue(config, async ({ store, blobs }) => {
        const selected = await select(store, selector);
        const busy = selected.filter((m) => m.recipients.some((r) => r.state === 'delivering'));
        for (const m of busy) note(`skipped ${m.id}: a recipient is being delivered right now; try again in a moment`);
        const targets = selected.filter((m) => !busy.includes(m));
        if (targets.length === 0) {
          if (opts.json) printJson({ deleted: [], skipped: busy.map((m) => m.id) });
          else say('nothing to delete');
          return;
        }
        if (!opts.yes) await confirm(targets);
        const purged = await store.purgeMessages(targets.map((m) => m.id));
        // The store skips a message whose recipient the queue claimed since we looked.
        const gone = new Set(purged.map((p) => p.id));
        const raced = targets.filter((m) => !gone.has(m.id)).map((m) => m.id);
        for (const id of raced) note(`skipped ${id}: a recipient is being delivered right now; try again in a moment`);
        await recordAndClean(store, blobs, purged);
        const recipients = purged.reduce((n, p) => n + p.recipients.length, 0);
        if (opts.json) {
          printJson({
            deleted: purged.map((p) => ({
              id: p.id,
              recipients: p.recipients.map((r) => ({ address: r.address, state: r.state })),
            })),
            skipped: [...busy.map((m) => m.id), ...raced],
          });
        } else {
          say(`deleted ${plural(purged.length, 'message')} (${plural(recipients, 'recipient')})`);
        }
      });
    });
}

async function select(store: Store, selector: Selector): Promise<QueuedMessage[]> {
  if (selector.kind === 'ids') return requireMessages(store, selector.ids);
  return store.listQueueMessages(selector.kind === 'domain' ? { domain: selector.domain } : {});
}

/**
 * Ask on the terminal; without one there is nobody to ask, and a script that deletes mail should
 * say so with --yes rather than by piping "y".
 */
async function confirm(targets: QueuedMessage[]): Promise<void> {
  const what = plural(targets.length, 'message');
  if (!process.stdin.isTTY) {
    throw new CliError(`refusing to delete ${what} without confirmation: stdin is not a terminal; add --yes`);
  }
  for (const m of targets.slice(0, SHOWN_BEFORE_ASKING)) {
    note(`  ${m.id}  from ${sender(m.mailFrom)}  to ${m.recipients.map((r) => r.address).join(', ')}`);
  }
  if (targets.length > SHOWN_BEFORE_ASKING) note(`  … and ${targets.length - SHOWN_BEFORE_ASKING} more`);
  const answer = await ask(`Delete ${what}? The senders are not notified. [y/N] `);
  if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('cancelled; nothing was deleted');
}

function ask(question: string): Promise<string> {
  // The question goes to stderr so that stdout stays clean for --json.
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) => {
    let answered = false;
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(answer);
    });
    // Ctrl-C or Ctrl-D ends the question without an answer: treat it as "no".
    rl.on('SIGINT', () => rl.close());
    rl.on('close', () => {
      if (!answered) resolve('');
    });
  });
}

/** One timeline event per deleted recipient, then remove the bodies nothing else uses. */
async function recordAndClean(store: Store, blobs: BlobStore, purged: PurgedMessage[]): Promise<void> {
  const now = Date.now();
  await store.appendEvents(
    purged.flatMap((p) =>
      p.recipients.map((r) => ({
        at: now,
        messageId: p.id,
        recipient: r.address,
        type: 'deleted',
        detail: { by: 'cli', action: 'delete', state: r.state },
      })),
    ),
  );
  for (const p of purged) {
    try {
      if (!(await store.blobInUse(p.blobRef))) await blobs.remove(p.blobRef);
    } catch (err) {
      // The message is already gone; a leftover body only costs disk space.
      note(`could not remove the body of ${p.id} (${p.blobRef}): ${(err as Error).message}`);
    }
  }
}

function note(line: string): void {
  process.stderr.write(`${line}\n`);
}
