import type { QueuedMessage, Recipient, RecipientState, Store } from '../store/types.js';
import { CliError } from './output.js';
import { withResources } from './store.js';
import { parseDomain, parseDuration } from './validate.js';

/** Every recipient state, in the order a recipient usually passes through them. */
export const STATES: readonly RecipientState[] = [
  'queued',
  'deferred',
  'delivering',
  'held',
  'delivered',
  'bounced',
  'expired',
];

/** States of recipients the queue still has work for: what `list` and `summary` show by default. */
export const WAITING: readonly RecipientState[] = ['queued', 'deferred', 'delivering', 'held'];

/** Open the store and the blob store named by the config, run `fn`, and always close the store again. */
export const withQueue = withResources;

/** `deferred,held` → states, or a CliError naming the valid ones. */
export function parseStates(input: string): RecipientState[] {
  const names = input
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const bad = names.filter((s) => !(STATES as readonly string[]).includes(s));
  if (names.length === 0 || bad.length > 0) {
    throw new CliError(`state "${bad[0] ?? input}" is not a recipient state; use one or more of ${STATES.join(', ')}`);
  }
  return [...new Set(names)] as RecipientState[];
}

/** `--older-than 1h` → the time a message must have been received before. */
export function parseOlderThan(input: string, now: number): number {
  return now - parseDuration(input, '--older-than');
}

/** `--domain` as the store matches it (lower-case A-label). */
export function parseDomainOption(input: string): string {
  return parseDomain(input).name;
}

/** Which messages an action applies to: the IDs given, all of them, or those with recipients at one domain. */
export type Selector = { kind: 'ids'; ids: string[] } | { kind: 'all' } | { kind: 'domain'; domain: string };

/** Exactly one of IDs, `--all` or `--domain`, so a slip never turns "these" into "everything". */
export function parseSelector(ids: string[], opts: { all?: boolean; domain?: string }, verb: string): Selector {
  const given = [ids.length > 0, opts.all === true, opts.domain !== undefined].filter(Boolean).length;
  if (given !== 1) {
    throw new CliError(
      `${given === 0 ? 'nothing selected' : 'give only one selector'}: ` +
        `\`mailroom queue ${verb}\` takes queue IDs, --all or --domain DOMAIN`,
    );
  }
  if (opts.all) return { kind: 'all' };
  if (opts.domain !== undefined) return { kind: 'domain', domain: parseDomainOption(opts.domain) };
  return { kind: 'ids', ids: [...new Set(ids)] };
}

/** The messages with these IDs, or a CliError naming those not in the queue. */
export async function requireMessages(store: Store, ids: string[]): Promise<QueuedMessage[]> {
  const found = await Promise.all(ids.map(async (id) => (await store.listQueueMessages({ messageId: id }))[0]));
  const missing = ids.filter((_, i) => found[i] === undefined);
  if (missing.length > 0) {
    throw new CliError(
      `${missing.length === 1 ? 'message' : 'messages'} ${missing.join(', ')} not in the queue; ` +
        'see `mailroom queue list`; nothing was changed',
    );
  }
  return found as QueuedMessage[];
}

/** `42s`, `17m`, `3h5m`, `2d4h`: how long ago, to the precision a queue listing needs. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
}

/** Epoch ms → `2024-05-01 12:34:56` (UTC), for detail views where minutes are too coarse. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** Epoch ms → ISO 8601 for JSON, null stays null. */
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The reverse path as Postfix shows it: `<>` for bounces. */
export function sender(mailFrom: string): string {
  return mailFrom === '' ? '<>' : mailFrom;
}

/** A remote reply on one line, cut to `max` characters. */
export function shortReply(reply: string | null, max = 60): string {
  if (reply === null) return '';
  const line = reply.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

/** The most recent reply any recipient got, or null. */
export function lastReply(recipients: readonly Recipient[]): string | null {
  let best: Recipient | null = null;
  for (const r of recipients) if (r.lastReply !== null && (!best || r.updatedAt >= best.updatedAt)) best = r;
  return best?.lastReply ?? null;
}

/** The domain of an address, lower-case; the text after the last `@`. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** `key=value` pairs for event details and client info; strings bare, anything else as JSON. */
export function formatDetail(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}
