const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_INDEX = new Map(MONTHS.map((m, i) => [m.toLowerCase(), i]));

/** RFC 3501 `date` (`1-Feb-2024`, `01-Feb-2024`) as a UTC day number; null when invalid. */
export function parseDate(text: string): number | null {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (!m) return null;
  const month = MONTH_INDEX.get(m[2]!.toLowerCase());
  if (month === undefined) return null;
  const day = Number(m[1]);
  const year = Number(m[3]);
  const ms = Date.UTC(year, month, day);
  if (new Date(ms).getUTCDate() !== day) return null;
  return Math.floor(ms / 86_400_000);
}

/** RFC 3501 `date-time` (`"17-Jul-1996 02:44:25 -0700"`, day may be space-padded) in epoch ms; null when invalid. */
export function parseDateTime(text: string): number | null {
  const m = /^([ \d]\d)-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!m) return null;
  const day = Number(m[1]!.trim());
  const month = MONTH_INDEX.get(m[2]!.toLowerCase());
  if (month === undefined) return null;
  const [h, min, s] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (h > 23 || min > 59 || s > 60) return null;
  const local = Date.UTC(Number(m[3]), month, day, h, min, s);
  if (new Date(local).getUTCDate() !== day) return null;
  const offset = (Number(m[8]) * 60 + Number(m[9])) * 60_000 * (m[7] === '-' ? -1 : 1);
  return local - offset;
}

/** INTERNALDATE as RFC 3501 `date-time`, in UTC: `"02-Dec-2026 11:56:28 +0000"` without the quotes. */
export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
  );
}

/** The UTC day number of an instant. */
export function dayNumber(ms: number): number {
  return Math.floor(ms / 86_400_000);
}
