/** Flags as an IMAP list: `(\Seen $Label)`. */
export function flagList(flags: readonly string[]): string {
  return `(${flags.join(' ')})`;
}

/** The flags every mailbox accepts; PERMANENTFLAGS adds `\*` (any keyword). */
export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'] as const;

/** Whether a flag list holds a flag, ignoring case. */
export function hasFlag(flags: readonly string[], flag: string): boolean {
  const lower = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === lower);
}

/** Flags a client may not set: \Recent is the server's, and other backslash names are not flags. */
export function invalidFlag(flags: readonly string[]): string | null {
  const system = new Set(SYSTEM_FLAGS.map((f) => f.toLowerCase()));
  for (const f of flags) if (f.startsWith('\\') && !system.has(f.toLowerCase())) return f;
  return null;
}
