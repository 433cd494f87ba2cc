import type { Command } from 'commander';
import type { Recipient, RecipientState, Store } from '../store/types.js';
import { configOption, loadCliConfig } from './config-option.js';
import { plural } from './domain.js';
import { printJson, say } from './output.js';
import { iso, parseSelector, requireMessages, type Selector, withQueue } from './queue-common.js';

interface Opts {
  config?: string;
  all?: boolean;
  domain?: string;
  json?: boolean;
}

interface Action {
  name: 'retry' | 'hold' | 'release';
  description: string;
  /** States a recipient may be in for the action to apply to it. */
  from: RecipientState[];
  to: 'held' | 'queued';
  /** Timeline event type, so `queue show` tells what the operator did. */
  event: 'queued' | 'held' | 'released';
  done: string;
  none: string;
}

// After postqueue -i / postsuper -h / postsuper -H. Retry leaves held mail alone, as postqueue does.
const ACTIONS: Action[] = [
  {
    name: 'retry',
    description: 'make deferred recipients due now (like postqueue -i / -f)',
    from: ['deferred'],
    to: 'queued',
    event: 'queued',
    done: 'due now',
    none: 'no deferred recipients',
  },
  {
    name: 'hold',
    description: 'stop delivery to queued and deferred recipients until released (like postsuper -h)',
    from: ['queued', 'deferred'],
    to: 'held',
    event: 'held',
    done: 'held',
    none: 'no queued or deferred recipients',
  },
  {
    name: 'release',
    description: 'release held recipients; they are due now (like postsuper -H)',
    from: ['held'],
    to: 'queued',
    event: 'released',
    done: 'released, due now',
    none: 'no held recipients',
  },
];

/** `mailroom queue retry|hold|release (ID... | --all | --domain D)`. */
export function addQueueActionCommands(cmd: Command): void {
  for (const action of ACTIONS) {
    cmd
      .command(action.name)
      .description(action.description)
      .argument('[id...]', 'queue IDs of the messages')
      .option('--all', 'every message in the queue')
      .option('--domain <domain>', 'only recipients at this domain')
      .option('--json', 'print JSON for scripts')
      .addOption(configOption())
      .addHelpText(
        'after',
        `\nExamples:\n  mailroom queue ${action.name} QDR6CVN86RZ8KDZ4YQ\n  mailroom queue ${action.name} --domain example.net`,
      )
      .action(async (ids: string[], opts: Opts) => {
        const { config } = loadCliConfig(opts);
        const selector = parseSelector(ids, opts, action.name);
        const now = Date.now();
        const changed = await withQueue(config, ({ store }) => apply(store, action, selector, now));
        const messages = new Set(changed.map((r) => r.messageId)).size;
        if (opts.json) {
          printJson({
            action: action.name,
            messages,
            recipients: changed.map((r) => ({
              messageId: r.messageId,
              address: r.address,
              state: r.state,
              nextAttemptAt: iso(r.nextAttemptAt),
            })),
          });
        } else if (changed.length === 0) {
          say(`nothing to ${action.name}: ${action.none} ${describe(selector)}`);
        } else {
          say(`${plural(changed.length, 'recipient')} of ${plural(messages, 'message')} ${action.done}`);
        }
      });
  }
}

/** Move the selected recipients and record on each message's timeline that the CLI did it. */
async function apply(store: Store, action: Action, selector: Selector, now: number): Promise<Recipient[]> {
  let candidates: Recipient[];
  if (selector.kind === 'ids') {
    const messages = await requireMessages(store, selector.ids);
    candidates = messages.flatMap((m) => m.recipients).filter((r) => action.from.includes(r.state));
  } else {
    const domain = selector.kind === 'domain' ? { domain: selector.domain } : {};
    candidates = await store.listQueue({ states: action.from, ...domain });
  }
  // The store re-checks each state, so a recipient the queue claimed meanwhile is not reported as moved.
  const changed = await store.changeRecipientStates(
    candidates.map((r) => r.id),
    action.from,
    action.to,
    now,
  );
  await store.appendEvents(
    changed.map((r) => ({
      at: now,
      messageId: r.messageId,
      recipient: r.address,
      type: action.event,
      detail: { by: 'cli', action: action.name },
    })),
  );
  return changed;
}

function describe(selector: Selector): string {
  if (selector.kind === 'all') return 'in the queue';
  if (selector.kind === 'domain') return `at ${selector.domain}`;
  return `in ${selector.ids.join(', ')}`;
}
