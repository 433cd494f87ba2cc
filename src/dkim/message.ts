import { domainToASCII } from 'node:url';

/**
 * The domain of the first address in the message's header From (lower-case A-label), which picks
 * the key to sign with (DMARC aligns on it); null when there is no usable From.
 */
export function signingDomain(message: Buffer): string | null {
  const from = headerField(message, 'from');
  if (from === null) return null;
  const address = firstAddress(from);
  const at = address?.lastIndexOf('@') ?? -1;
  if (!address || at < 1) return null;
  const domain = address
    .slice(at + 1)
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (domain === '') return null;
  return (domainToASCII(domain) || domain).toLowerCase();
}

/** The unfolded value of the first occurrence of a header field, or null. */
export function headerField(message: Buffer, name: string): string | null {
  const { header } = splitMessage(message);
  const lines = header.toString('utf8').split(/\r?\n/);
  const wanted = name.toLowerCase();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const colon = line.indexOf(':');
    if (colon <= 0 || line.slice(0, colon).trim().toLowerCase() !== wanted) continue;
    let value = line.slice(colon + 1);
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1] ?? '')) value += lines[++i];
    return value.trim();
  }
  return null;
}

/**
 * The addr-spec of the first mailbox in an address list: `Name <a@b>`, `a@b (comment)`,
 * `"Doe, J" <a@b>, c@d` and groups (`Team: a@b;`). Quoted strings and comments are skipped so
 * commas, colons or `<` inside them do not mislead (a quoted local part comes back as `""`).
 */
export function firstAddress(value: string): string | null {
  let plain = '';
  let quoted = false;
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && (quoted || depth > 0)) {
      i++;
      continue;
    }
    if (depth > 0) {
      if (c === '(') depth++;
      else if (c === ')') depth--;
      continue;
    }
    if (c === '"') {
      quoted = !quoted;
      plain += quoted ? '' : '""';
      continue;
    }
    if (quoted) continue;
    if (c === '(') {
      depth = 1;
      continue;
    }
    plain += c;
  }
  // A group's display name ends at the first colon; the mailboxes follow it.
  const colon = plain.indexOf(':');
  const lt = plain.indexOf('<');
  if (colon >= 0 && (lt < 0 || colon < lt) && plain.indexOf('@') > colon) plain = plain.slice(colon + 1);
  const first = plain.split(/[,;]/).find((p) => p.includes('@')) ?? '';
  const angle = /<([^>]*)>/.exec(first);
  const spec = (angle ? angle[1] : first)?.trim() ?? '';
  return spec.includes('@') ? spec.replace(/\s+/g, '') : null;
}

/** Header block (through its last CRLF) and body of a message; CRLF or bare-LF line ends. */
export function splitMessage(message: Buffer): { header: Buffer; body: Buffer } {
  const crlf = message.indexOf('\r\n\r\n');
  const lf = message.indexOf('\n\n');
  if (message.subarray(0, 2).toString() === '\r\n') return { header: Buffer.alloc(0), body: message.subarray(2) };
  if (crlf >= 0 && (lf < 0 || crlf < lf))
    return { header: message.subarray(0, crlf + 2), body: message.subarray(crlf + 4) };
  if (lf >= 0) return { header: message.subarray(0, lf + 1), body: message.subarray(lf + 2) };
  return { header: message, body: Buffer.alloc(0) };
}
