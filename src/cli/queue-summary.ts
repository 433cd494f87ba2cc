import type { Command } from 'commander';
import type { QueuedMessage, RecipientState } from '../store/types.js';
import { configOption, loadCliConfig } from './config-option.js';
import { printJson, printTable } from './output.js';
import { domainOf, parseStates, WAITING, withQueue } from './queue-common.js';

interface Opts {
  config?: string;
  state?: string;
  json?: boolean;
}

const MINUTE = 60_000;

/**
 * Age buckets as qshape draws them: each column counts ages up to its label (and above the
 * previous one), the last counts everything older than the one before it.
 */
export const BUCKETS: readonly { label: string; upTo: number }[] = [
  { label: '5m', upTo: 5 * MINUTE },
  { label: '10m', upTo: 10 * MINUTE },
  { label: '20m', upTo: 20 * MINUTE },
  { label: '40m', upTo: 40 * MINUTE },
  { label: '1h', upTo: 60 * MINUTE },
  { label: '2h', upTo: 120 * MINUTE },
  { label: '4h', upTo: 240 * MINUTE },
  { label: '8h', upTo: 480 * MINUTE },
  { label: '16h', upTo: 960 * MINUTE },
  { label: '1d', upTo: 1440 * MINUTE },
  { label: '2d', upTo: 2880 * MINUTE },
  { label: '4d', upTo: 5760 * MINUTE },
  { label: '4d+', upTo: Number.POSITIVE_INFINITY },
];

/** One row of the shape: a destination domain (or TOTAL) and its recipients per age bucket. */
export interface ShapeRow {
  domain: string;
  total: number;
  counts: number[];
}

/** `mailroom queue summary`: recipients per destination domain and message age, like qshape. */
export function addQueueSummaryCommand(cmd: Command): void {
  cmd
    .command('summary')
    .alias('shape')
    .description('count waiting recipients by destination domain and message age (like qshape)')
    .option('--state <states>', `count recipients in these states, comma-separated (default: ${WAITING.join(',')})`)
    .option('--json', 'print JSON for scripts')
    .addOption(configOption())
    .addHelpText('after', '\nExample:\n  mailroom queue summary --state deferred')
    .action(async (opts: Opts) => {
      const { config } = loadCliConfig(opts);
      const states = opts.state === undefined ? [...WAITING] : parseStates(opts.state);
      const now = Date.now();
      const messages = await withQueue(config, ({ store }) => store.listQueueMessages({ states }));
      const [total, ...domains] = shape(messages, states, now);
      if (opts.json) {
        printJson({ buckets: BUCKETS.map((b) => b.label), total: total!, domains });
        return;
      }
      printTable(
        ['DOMAIN', 'T', ...BUCKETS.map((b) => b.label)],
        [total!, ...domains].map((r) => [r.domain, String(r.total), ...r.counts.map(String)]),
      );
    });
}

/** The TOTAL row, then one row per domain, busiest first. */
export function shape(messages: readonly QueuedMessage[], states: readonly RecipientState[], now: number): ShapeRow[] {
  const empty = (domain: string): ShapeRow => ({ domain, total: 0, counts: BUCKETS.map(() => 0) });
  const total = empty('TOTAL');
  const rows = new Map<string, ShapeRow>();
  for (const m of messages) {
    const age = now - m.receivedAt;
    const bucket = BUCKETS.findIndex((b) => age < b.upTo);
    for (const r of m.recipients) {
      // A message matched by one recipient may have others in states not asked for.
      if (!states.includes(r.state)) continue;
      const domain = domainOf(r.address);
      const row = rows.get(domain) ?? empty(domain);
      rows.set(domain, row);
      for (const target of [row, total]) {
        target.total++;
        target.counts[bucket] = (target.counts[bucket] ?? 0) + 1;
      }
    }
  }
  const sorted = [...rows.values()].sort((a, b) => b.total - a.total || a.domain.localeCompare(b.domain));
  return [total, ...sorted];
}
