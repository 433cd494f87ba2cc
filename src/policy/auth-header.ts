/**
 * Header work for Authentication-Results (RFC 8601): building ours, and removing fields that
 * claim to come from us (section 5: a receiver must drop those, or senders could forge our verdict).
 */

/** The header section of a message: up to and including the CRLF before the blank line. */
function headerEnd(message: Buffer): number {
  if (message.length >= 2 && message[0] === 0x0d && message[1] === 0x0a) return 0;
  const end = message.indexOf('\r\n\r\n');
  return end < 0 ? message.length : end + 2;
}

/** The authserv-id of an Authentication-Results value: its first token, comments dropped. */
export function authservId(value: string): string {
  const noComments = value.replace(/\([^()]*\)/g, ' ');
  return (noComments.split(';')[0] ?? '').trim().split(/\s+/)[0]?.toLowerCase() ?? '';
}

/**
 * Drop every Authentication-Results field whose authserv-id is `ours`; returns the message
 * unchanged (the same Buffer) when there is none.
 */
export function removeForgedResults(message: Buffer, ours: string): { message: Buffer; removed: number } {
  const end = headerEnd(message);
  const header = message.subarray(0, end).toString('latin1');
  const lines = header.split(/(?<=\r\n)/);
  const kept: string[] = [];
  let removed = 0;
  let dropping = false;
  const id = ours.toLowerCase();
  for (const line of lines) {
    if (line === '') continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (!dropping) kept.push(line);
      continue;
    }
    const field = /^authentication-results\s*:(.*)$/is.exec(line);
    dropping = false;
    if (field && authservId(fieldValue(lines, line, field[1] ?? '')) === id) {
      dropping = true;
      removed++;
      continue;
    }
    kept.push(line);
  }
  if (removed === 0) return { message, removed };
  return { message: Buffer.concat([Buffer.from(kept.join(''), 'latin1'), message.subarray(end)]), removed };
}

/** The unfolded value of the field starting at `first` (continuation lines included). */
function fieldValue(lines: string[], first: string, start: string): string {
  let value = start;
  for (let i = lines.indexOf(first) + 1; i < lines.length; i++) {
    const l = lines[i] as string;
    if (!l.startsWith(' ') && !l.startsWith('\t')) break;
    value += l;
  }
  return value.replace(/\r\n/g, '');
}

/** One Authentication-Results field from its result parts (`spf=pass ...`), CRLF-terminated. */
export function authenticationResults(hostname: string, parts: readonly string[]): string {
  if (parts.length === 0) return `Authentication-Results: ${hostname}; none\r\n`;
  return `Authentication-Results: ${hostname};\r\n ${parts.map(fold).join(';\r\n ')}\r\n`;
}

/** Fold a long result part at spaces so no line passes 78 octets where it can be helped. */
function fold(part: string): string {
  const words = part.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > 76) {
      lines.push(line);
      line = w;
    } else {
      line = line ? `${line} ${w}` : w;
    }
  }
  if (line) lines.push(line);
  return lines.join('\r\n  ');
}
