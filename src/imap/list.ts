import { DELIMITER } from '../mailbox/index.js';

/**
 * A LIST pattern as a matcher: `*` matches anything, `%` anything but the hierarchy delimiter
 * (RFC 3501 6.3.8). INBOX matches case-insensitively.
 */
export function listMatcher(reference: string, pattern: string): (name: string) => boolean {
  const full = reference + pattern;
  let re = '';
  for (const c of full) {
    if (c === '*') re += '.*';
    else if (c === '%') re += `[^${DELIMITER}]*`;
    else re += c.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');
  }
  const exact = new RegExp(`^${re}$`, 's');
  const inbox = /^inbox(?=\/|$)/i;
  return (name) => exact.test(name) || (inbox.test(full) && exact.test(name.replace(/^INBOX/, full.slice(0, 5))));
}

/** Whether any name is below `name` in the hierarchy. */
export function hasChildren(name: string, all: readonly string[]): boolean {
  const prefix = name + DELIMITER;
  return all.some((n) => n.startsWith(prefix));
}
