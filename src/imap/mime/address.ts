/**
 * An ENVELOPE address (RFC 3501 7.4.2): display name, source route, mailbox and host. A group
 * starts with { mailbox: group name, host: null } and ends with { mailbox: null, host: null }.
 */
export interface EnvelopeAddress {
  name: string | null;
  adl: string | null;
  mailbox: string | null;
  host: string | null;
}

type Token = { kind: 'word' | 'quoted' | 'comment'; text: string } | { kind: 'special'; text: string };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
    } else if (c === '"') {
      let s = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        s += text[i];
        i++;
      }
      i++;
      out.push({ kind: 'quoted', text: s });
    } else if (c === '(') {
      let depth = 1;
      let s = '';
      i++;
      while (i < text.length && depth > 0) {
        const d = text[i]!;
        if (d === '\\' && i + 1 < text.length) {
          s += text[i + 1];
          i += 2;
          continue;
        }
        if (d === '(') depth++;
        else if (d === ')') depth--;
        if (depth > 0) s += d;
        i++;
      }
      out.push({ kind: 'comment', text: s });
    } else if ('<>@,;:.[]'.includes(c)) {
      out.push({ kind: 'special', text: c });
      i++;
    } else {
      let s = '';
      while (i < text.length && !' \t\r\n"(<>@,;:[]'.includes(text[i]!)) {
        // Dots join atoms into dot-atoms; keep them inside the word.
        s += text[i];
        i++;
      }
      out.push({ kind: 'word', text: s });
    }
  }
  return out;
}

/** Parse an address-list header value into ENVELOPE addresses, tolerant of common mistakes. */
export function parseAddressList(text: string): EnvelopeAddress[] {
  const tokens = tokenize(text);
  const out: EnvelopeAddress[] = [];
  let i = 0;
  let inGroup = false;
  while (i < tokens.length) {
    // Collect one mailbox or group-start up to ',' ';' or ':'.
    const start = i;
    let depth = 0;
    while (i < tokens.length) {
      const t = tokens[i]!;
      if (t.kind === 'special') {
        if (t.text === '<') depth++;
        else if (t.text === '>') depth = Math.max(0, depth - 1);
        else if (depth === 0 && (t.text === ',' || t.text === ';' || t.text === ':')) break;
      }
      i++;
    }
    const chunk = tokens.slice(start, i);
    const sep = tokens[i]?.text;
    i++;
    if (sep === ':' && !inGroup) {
      out.push({ name: null, adl: null, mailbox: phrase(chunk) || '', host: null });
      inGroup = true;
      continue;
    }
    const addr = mailboxOf(chunk);
    if (addr) out.push(addr);
    if (sep === ';' && inGroup) {
      out.push({ name: null, adl: null, mailbox: null, host: null });
      inGroup = false;
    }
  }
  if (inGroup) out.push({ name: null, adl: null, mailbox: null, host: null });
  return out;
}

function phrase(tokens: Token[]): string {
  return tokens
    .filter((t) => t.kind === 'word' || t.kind === 'quoted' || (t.kind === 'special' && t.text === '.'))
    .map((t) => t.text)
    .join(' ')
    .replace(/ \. /g, '.')
    .trim();
}

function mailboxOf(tokens: Token[]): EnvelopeAddress | null {
  if (tokens.length === 0) return null;
  const lt = tokens.findIndex((t) => t.kind === 'special' && t.text === '<');
  if (lt !== -1) {
    const gt = tokens.findIndex((t, k) => k > lt && t.kind === 'special' && t.text === '>');
    const inner = tokens.slice(lt + 1, gt === -1 ? tokens.length : gt);
    const name = phrase(tokens.slice(0, lt)) || null;
    let adl: string | null = null;
    let spec = inner;
    const colon = inner.findIndex((t) => t.kind === 'special' && t.text === ':');
    if (colon !== -1) {
      adl = inner
        .slice(0, colon)
        .map((t) => t.text)
        .join('');
      spec = inner.slice(colon + 1);
    }
    if (spec.length === 0) return name ? { name, adl, mailbox: null, host: null } : null;
    return { name, adl, ...addrSpec(spec) };
  }
  const comment = tokens.find((t) => t.kind === 'comment');
  const spec = tokens.filter((t) => t.kind !== 'comment');
  if (spec.length === 0) return null;
  return { name: comment?.text.trim() || null, adl: null, ...addrSpec(spec) };
}

function addrSpec(tokens: Token[]): { mailbox: string; host: string | null } {
  const at = tokens.map((t) => t.kind === 'special' && t.text === '@').lastIndexOf(true);
  const join = (ts: Token[]) =>
    ts
      .filter((t) => t.kind !== 'comment')
      .map((t) => t.text)
      .join('');
  if (at === -1) return { mailbox: join(tokens), host: null };
  return { mailbox: join(tokens.slice(0, at)), host: join(tokens.slice(at + 1)) || null };
}
