/** One header field: the name as written and the unfolded value (raw, encoded words kept). */
export interface HeaderField {
  name: string;
  value: string;
}

/**
 * Where the header section of a part ends: the offset just past the empty line, or `end` when
 * there is none (the whole part is header). A part that starts with an empty line has no fields.
 */
export function findHeaderEnd(buf: Buffer, start: number, end: number): number {
  if (buf[start] === 0x0a) return start + 1;
  if (buf[start] === 0x0d && buf[start + 1] === 0x0a) return start + 2;
  let pos = start;
  while (pos < end) {
    const lf = buf.indexOf(0x0a, pos);
    if (lf === -1 || lf >= end) return end;
    const next = lf + 1;
    if (buf[next] === 0x0a) return Math.min(next + 1, end);
    if (buf[next] === 0x0d && buf[next + 1] === 0x0a) return Math.min(next + 2, end);
    pos = next;
  }
  return end;
}

/** Split a header section into fields (continuation lines unfolded; the line breaks are dropped). */
export function parseHeaderFields(text: string): HeaderField[] {
  const fields: HeaderField[] = [];
  for (const raw of splitFieldLines(text)) {
    const colon = raw.indexOf(':');
    if (colon <= 0) continue;
    const name = raw.slice(0, colon).trim();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue;
    fields.push({
      name,
      value: raw
        .slice(colon + 1)
        .replace(/\r?\n(?=[ \t])/g, '')
        .trim(),
    });
  }
  return fields;
}

/** Each field with its own line breaks kept (for HEADER.FIELDS output). */
export function splitFieldLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  const out: string[] = [];
  for (const line of lines) {
    if (line === '\r\n' || line === '\n') break;
    if ((line.startsWith(' ') || line.startsWith('\t')) && out.length > 0) out[out.length - 1] += line;
    else out.push(line);
  }
  return out;
}

/** The first value of a field, case-insensitively, or null. */
export function headerValue(fields: readonly HeaderField[], name: string): string | null {
  const lower = name.toLowerCase();
  for (const f of fields) if (f.name.toLowerCase() === lower) return f.value;
  return null;
}

/** A parsed `value; a=b; c="d"` header (Content-Type, Content-Disposition). */
export interface ParamValue {
  value: string;
  params: [string, string][];
}

/** Parse a structured value with parameters; quoted strings unquoted, comments dropped. */
export function parseParamValue(text: string): ParamValue {
  const tokens = splitParams(stripComments(text));
  const value = (tokens.shift() ?? '').trim();
  const params: [string, string][] = [];
  for (const t of tokens) {
    const eq = t.indexOf('=');
    if (eq <= 0) continue;
    const name = t.slice(0, eq).trim();
    let v = t.slice(eq + 1).trim();
    if (v.startsWith('"')) v = unquote(v);
    if (name) params.push([name, v]);
  }
  return { value, params };
}

function splitParams(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuote) {
      cur += c;
      if (c === '\\' && i + 1 < text.length) cur += text[++i];
      else if (c === '"') inQuote = false;
    } else if (c === '"') {
      inQuote = true;
      cur += c;
    } else if (c === ';') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.filter((s, i) => i === 0 || s.trim() !== '');
}

/** Remove RFC 5322 comments (outside quoted strings). */
export function stripComments(text: string): string {
  let out = '';
  let depth = 0;
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuote) {
      out += c;
      if (c === '\\' && i + 1 < text.length) out += text[++i];
      else if (c === '"') inQuote = false;
    } else if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
    } else if (c === '(') depth++;
    else {
      if (c === '"') inQuote = true;
      out += c;
    }
  }
  return out;
}

/** The contents of a quoted string (escapes resolved); text after the closing quote is ignored. */
export function unquote(text: string): string {
  let out = '';
  for (let i = 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) out += text[++i];
    else if (c === '"') break;
    else out += c;
  }
  return out;
}
