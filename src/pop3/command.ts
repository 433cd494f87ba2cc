/** POP3 command lines (RFC 1939 section 3): a keyword and arguments separated by spaces. */

export interface Pop3Command {
  /** Upper-cased keyword. */
  verb: string;
  /** Arguments split on spaces (PASS keeps its whole argument, spaces included). */
  args: string[];
}

/** Parse one command line (without its CRLF); null for an empty or non-printable line. */
export function parseCommand(line: string): Pop3Command | null {
  // Control characters never belong in a command (a NUL could truncate a log line or a lookup).
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(line)) return null;
  const m = /^([A-Za-z]{3,4})(?: (.*))?$/.exec(line);
  if (!m) return null;
  const verb = (m[1] as string).toUpperCase();
  const rest = m[2];
  if (rest === undefined) return { verb, args: [] };
  // RFC 1939 7: a password may contain spaces, so PASS takes the rest of the line as one argument.
  if (verb === 'PASS') return { verb, args: [rest] };
  return { verb, args: rest.split(' ').filter((a) => a !== '') };
}

/** A message number argument: a positive decimal without sign or leading junk, or null. */
export function parseNumber(arg: string | undefined): number | null {
  if (arg === undefined || !/^\d{1,9}$/.test(arg)) return null;
  const n = Number(arg);
  return n >= 1 ? n : null;
}

/** A non-negative line count (TOP), or null. */
export function parseCount(arg: string | undefined): number | null {
  if (arg === undefined || !/^\d{1,9}$/.test(arg)) return null;
  return Number(arg);
}
