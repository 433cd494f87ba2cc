/** A failure the user can fix: printed as one `error: ...` line, exit code 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Print a value as pretty JSON on stdout, for scripts (`--json`). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Print one line on stdout. */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Print a table on stdout, fitted to the terminal width when stdout is a terminal. */
export function printTable(headers: string[], rows: string[][]): void {
  process.stdout.write(formatTable(headers, rows, process.stdout.isTTY ? process.stdout.columns : undefined));
}

const GAP = 2;
const MIN_COLUMN = 6;

/**
 * Lay out rows under headers, columns separated by two spaces. With `width`, the widest columns are
 * shortened (ending in `…`) until the table fits; without it nothing is cut, so pipes get whole values.
 */
export function formatTable(headers: string[], rows: string[][], width?: number): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => length(r[i] ?? ''))));
  if (width !== undefined && width > 0) {
    const budget = width - GAP * (headers.length - 1);
    let total = widths.reduce((a, b) => a + b, 0);
    while (total > budget) {
      const widest = widths.indexOf(Math.max(...widths));
      if ((widths[widest] ?? 0) <= MIN_COLUMN) break;
      widths[widest] = (widths[widest] ?? 0) - 1;
      total--;
    }
  }
  const lines = all.map((row) =>
    headers
      .map((_, i) => {
        const cell = clip(row[i] ?? '', widths[i] ?? 0);
        return i === headers.length - 1 ? cell : cell.padEnd(widths[i] ?? 0);
      })
      .join(' '.repeat(GAP))
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

// Count code points, not UTF-16 units, so non-ASCII local parts line up.
function length(s: string): number {
  return [...s].length;
}

function clip(s: string, w: number): string {
  const chars = [...s];
  if (chars.length <= w) return s;
  return `${chars.slice(0, Math.max(0, w - 1)).join('')}…`;
}

/** `1073741824` → `1 GB`, `1572864` → `1.5 MB`; binary multiples, as in the config file. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/** Epoch ms → `2024-05-01 12:34` (UTC), short enough for tables. */
export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}
