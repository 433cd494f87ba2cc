/** Mailbox names: the hierarchy delimiter, INBOX's case rules and the special-use set. */

/** The hierarchy delimiter of every mailbox name. */
export const DELIMITER = '/';

/** Mailboxes every user has, with their RFC 6154 special-use attribute. */
export const DEFAULT_MAILBOXES: readonly { name: string; specialUse: string | null }[] = [
  { name: 'INBOX', specialUse: null },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Archive', specialUse: '\\Archive' },
];

const MAX_NAME = 255;

/**
 * The stored form of a mailbox name, or null when it is not a valid name. INBOX is
 * case-insensitive (RFC 3501 5.1), also as the first level of a hierarchy; a trailing
 * delimiter is dropped (CREATE "foo/" creates foo).
 */
export function normalizeMailboxName(name: string): string | null {
  let n = name.endsWith(DELIMITER) ? name.slice(0, -1) : name;
  if (n.length === 0 || n.length > MAX_NAME) return null;
  if (n.startsWith(DELIMITER) || n.includes(DELIMITER + DELIMITER)) return null;
  // Wildcards would make LIST patterns ambiguous; control characters break every protocol.
  if (/[*%\u0000-\u001f\u007f]/.test(n)) return null;
  const first = n.split(DELIMITER, 1)[0] as string;
  if (first.toUpperCase() === 'INBOX') n = `INBOX${n.slice(first.length)}`;
  return n;
}

/** Whether `name` is `parent` or below it in the hierarchy. */
export function isWithin(name: string, parent: string): boolean {
  return name === parent || name.startsWith(parent + DELIMITER);
}

/** The parent names of a mailbox name, outermost first: `a/b/c` gives `a`, `a/b`. */
export function parentNames(name: string): string[] {
  const parts = name.split(DELIMITER);
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join(DELIMITER));
}

const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'];
const SYSTEM_BY_KEY = new Map(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));

/** System flags in their canonical case, keywords as given, without duplicates. */
export function normalizeFlags(flags: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of flags) {
    const canonical = SYSTEM_BY_KEY.get(f.toLowerCase()) ?? f;
    const key = canonical.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(canonical);
  }
  return out;
}
